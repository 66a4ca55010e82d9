"""gunicorn serving a Flask app in-process, as ``gunicorn -c`` would, with the ``LISTENING
<url>`` line the tests wait for. Nothing here knows of the harness."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter


class Server(BaseApplication):  # type: ignore[misc]
    """gunicorn serving ``app`` with ``options``, as ``gunicorn -c`` would."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.app, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.app


def _ready(server: Arbiter) -> None:
    port = server.LISTENERS[0].sock.getsockname()[1]
    print(f"LISTENING http://127.0.0.1:{port}", flush=True)


def serve(app: Flask, port: int, options: dict[str, Any]) -> None:
    """``app`` on 127.0.0.1:``port`` (0: any) under gunicorn with ``options``, until stopped."""
    settings = {"bind": f"127.0.0.1:{port}", "loglevel": "warning", "when_ready": _ready}
    Server(app, {**settings, **options}).run()
