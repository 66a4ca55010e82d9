"""Automations started as forks of one process that has already imported their libraries.

    python -m tests.zygote FD

Each automation the suite starts (the demo automations, the gallery's, the broken ones: a
hundred starts a run) is a Python process that imports aiohttp (or Flask, FastAPI) before it
listens: about 0.45 of the 0.5 CPU-s a start costs. This process, one for the whole run (started
by the controller, tests/conftest.py, each worker connected to it), imports those libraries
once, then forks a child per start, which runs ``python -m MODULE ARGS`` as ``runpy`` does for
``-m``, with the environment, working directory, standard output and standard error the caller
sends: a real process of its own (its own pid, sockets, signals and exit code), started from a
state in which no automation has run — only modules imported — so nothing carries from one
test's automation to the next.

FD is a listening socket (tests/forked_workers.py's fork server: ``start``, ``serve``). In, on
each connection: a request frame (JSON: module, args, env, cwd) with two file descriptors (the
child's stdout and stderr). Out: ``{"pid": N}`` per request, in order, and ``{"exit": N, "code":
C}`` when a child ends (C as ``Popen.returncode``: -SIG if a signal ended it). A connection's
end leaves its children running: they are not the zygote's to stop.
"""

from __future__ import annotations

import sys
from pathlib import Path

# What the automations import before they listen (the preload is the point of this process):
# aiohttp for most; the gallery's Flask apps under werkzeug or gunicorn, its FastAPI ones under
# uvicorn, with the Stripe SDK and the HTTP clients they call out with — 0.26-0.31 CPU-s of
# imports an automation start, paid here once.
import aiohttp.web  # noqa: F401
import fastapi  # noqa: F401
import flask  # noqa: F401
import gunicorn.app.base
import gunicorn.arbiter  # noqa: F401
import httpx  # noqa: F401
import requests  # noqa: F401
import stripe  # noqa: F401
import uvicorn  # noqa: F401
import werkzeug.serving  # noqa: F401

import harness.demo._common  # noqa: F401

from . import locust_zygote
from .forked_workers import become_module, serve

if __name__ == "__main__":
    # Locust's processes have a zygote of their own (gevent patches what imports Locust).
    locust_zygote.start(int(sys.argv[1]), Path.cwd())
    serve(int(sys.argv[1]), 2, become_module, orphans_killed=False)
