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

import os
import runpy
import sys
from typing import Any, NoReturn

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

from .forked_workers import serve


def _child(request: dict[str, Any], fds: list[int]) -> NoReturn:
    """In the fork: become ``python -m MODULE ARGS``. What it raises ends this process as it
    would end that one (the interpreter's own exit: SystemExit's code, a traceback and 1, -2 on
    an unhandled Ctrl-C, atexit handlers run)."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((devnull, 0), (fds[0], 1), (fds[1], 2)):
        os.dup2(source, target)
    for fd in (devnull, *fds):
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [request["module"], *request["args"]]
    sys.path[0] = request["cwd"]
    runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    sys.exit(0)


if __name__ == "__main__":
    serve(int(sys.argv[1]), 2, _child, orphans_killed=False)
