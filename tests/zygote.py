"""Automations started as forks of one process that has already imported their libraries.

    python -m tests.zygote FD

Each automation the suite starts (the demo automations, the gallery's, the broken ones: a
hundred starts a run) is a Python process that imports aiohttp before it listens: about 0.45 of
the 0.5 CPU-s a start costs. This process imports those libraries once, then forks a child per
start, which runs ``python -m MODULE ARGS`` as ``runpy`` does for ``-m``, with the environment,
working directory, standard output and standard error the caller sends: a real process of its
own (its own pid, sockets, signals and exit code), started from a state in which no automation
has run — only modules imported — so nothing carries from one test's automation to the next.

FD is one end of a socket pair. In: a request frame (JSON: module, args, env, cwd) with two file
descriptors (the child's stdout and stderr). Out: ``{"pid": N}`` per request, in order, and
``{"exit": N, "code": C}`` when a child ends (C as ``Popen.returncode``: -SIG if a signal ended
it).
"""

from __future__ import annotations

import json
import os
import runpy
import selectors
import signal
import socket
import struct
import sys
from typing import Any, NoReturn

# What the automations import before they listen (the preload is the point of this process).
import aiohttp.web  # noqa: F401

import harness.demo._common  # noqa: F401

from .forked_workers import ended_children, woken_by_children

HEADER = struct.Struct("!I")


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    sock.sendall(HEADER.pack(len(data)) + data)


def _child(
    sock: socket.socket, wakeup: tuple[int, int], request: dict[str, Any], fds: list[int]
) -> NoReturn:
    """In the fork: become ``python -m MODULE ARGS``. What it raises ends this process as it
    would end that one (the interpreter's own exit: SystemExit's code, a traceback and 1, -2 on
    an unhandled Ctrl-C, atexit handlers run)."""
    sock.close()
    signal.set_wakeup_fd(-1)
    for fd in wakeup:
        os.close(fd)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
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


def _reap(sock: socket.socket) -> None:
    for pid, code in ended_children():
        send(sock, {"exit": pid, "code": code})


def main(fd: int) -> None:
    sock = socket.socket(fileno=fd)
    selector, (wakeup_r, wakeup_w) = woken_by_children()
    selector.register(sock, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj == wakeup_r:
                os.read(wakeup_r, 4096)
                _reap(sock)
                continue
            # One request at a time: the caller waits for its pid before it sends the next.
            data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 2)
            if not data:
                return
            while (
                len(data) < HEADER.size
                or len(data) < HEADER.size + HEADER.unpack(data[: HEADER.size])[0]
            ):
                more = sock.recv(1 << 16)
                if not more:
                    return
                data += more
            request = json.loads(data[HEADER.size :])
            pid = os.fork()
            if pid == 0:
                selector.close()
                _child(sock, (wakeup_r, wakeup_w), request, fds)
            for received in fds:
                os.close(received)
            send(sock, {"pid": pid})
        _reap(sock)


if __name__ == "__main__":
    main(int(sys.argv[1]))
