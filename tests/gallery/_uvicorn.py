"""Serving a FastAPI app the way ``uvicorn --factory module:create_app`` does, plus the
``LISTENING <url>`` line the tests wait for. Nothing here knows of the harness."""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


def serve(factory: str, port: int, workers: int = 1, **options: Any) -> None:
    """``uvicorn --factory FACTORY --port PORT --workers WORKERS`` with ``options`` (uvicorn's
    ``Config`` keywords): the socket bound once here, its port printed, then served by one
    process or, for more, by uvicorn's supervisor of spawned workers (what ``uvicorn.run``
    does)."""
    config = uvicorn.Config(
        factory,
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        **options,
    )
    listening = config.bind_socket()
    # Listening before a worker is up (uvicorn leaves that to each worker's server): a
    # connection made meanwhile waits in the backlog, as under gunicorn, instead of refused.
    listening.listen(config.backlog)
    print(f"LISTENING http://127.0.0.1:{listening.getsockname()[1]}", flush=True)
    if workers > 1:
        Multiprocess(config, sockets=[listening]).run()
    else:
        uvicorn.Server(config).run(sockets=[listening])
