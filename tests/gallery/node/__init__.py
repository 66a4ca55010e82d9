"""Receivers written in Node.js (node:http, node:crypto and the global fetch, no npm package):
one ``.js`` file each, their serving glue in ``_serve.js``, started by ``python -m
tests.gallery.node NAME`` (``__main__``); and Node-RED flows, one ``.json`` export each, run on
a real Node-RED by ``tests/node_red.started``."""

from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent


def node() -> str | None:
    """The ``node`` on PATH (Node.js >= 18, for the global fetch), else None."""
    return shutil.which("node")


def script(name: str) -> Path:
    """The receiver ``NAME.js`` of this folder."""
    return HERE / f"{name}.js"
