"""Locust processes forked from one process that has imported Locust, gevent and harness.

    python -m tests.locust_zygote FD    (started by the automations' zygote, tests/zygote.py)

Each Locust process a test starts (a master, its workers, a user's locustfile) is a Python
that imports locust, gevent, harness_locust and harness's engine before its first user: about
1.4 of its CPU-seconds, on the two cores the suite's workers share. This process imports them
once, at its first request, then forks a child per request that runs ``python -m locust ARGS``
as ``runpy`` does for ``-m``, with the environment, working directory and standard streams the
caller sends: real Locust in a process of its own (its pid, sockets, signals, exit code), from
a state in which only modules were imported.

gevent and fork: importing locust monkey-patches this process, and a gevent hub is made while
it imports (urllib3 opens a socket), but none ever runs here: this process waits with the
functions it saved before the patching (``select``, ``fork``, ``waitpid``, ``close``, unpatched
sockets), and sets no signal handler. Each child calls ``gevent.reinit()`` first, as gevent's
docs ask of a process forked with ``os.fork`` unpatched (its loop gets an epoll of its own),
and makes its SIGCHLD handling itself when it first watches a child (the recorder).

A user's ``harness locust`` starts Locust as a plain child (``harness.cli._locust._popen``);
``popen`` below is that seam's stand-in for the tests, with ``Popen``'s ``pid``, ``wait``,
``poll``, ``send_signal`` and ``kill``.

Protocol, per connection: one request frame (JSON: args, env, cwd) with two file descriptors
(the child's stdout and stderr); ``{"pid": N}``, then ``{"exit": N, "code": C}`` when it ends
(C as ``Popen.returncode``: -SIG if a signal ended it).
"""

from __future__ import annotations

import functools
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from . import forked_workers

# Saved before locust's import patches the modules they come from: the zygote's own waiting and
# closing (gevent's os.close defers a pipe's or a socket's close to a loop that never runs here).
_fork, _waitpid, _close = os.fork, os.waitpid, os.close
_select, _Socket = select.select, socket.socket
_LOCUST = [sys.executable, "-m", "locust"]


def path_beside(zygote: str) -> str:
    """The Locust zygote's socket, beside the automations' zygote's (``zygote``)."""
    return os.path.join(os.path.dirname(zygote), "locust")


class Forked:
    """A Locust process forked from the Locust zygote, as ``subprocess.Popen`` shows one."""

    def __init__(
        self,
        command: list[str],
        env: dict[str, str],
        fds: tuple[int, int] = (1, 2),
        cwd: Path | None = None,
    ) -> None:
        """``command`` (``python -m locust ARGS``) with exactly ``env``, its stdout and stderr
        the file descriptors ``fds`` (this process's), in ``cwd`` (this process's)."""
        if command[:3] != _LOCUST:
            raise ValueError(f"not a Locust command: {command!r}")
        self.args, self.returncode = command, None
        zygote = os.environ.get(_ZYGOTE) or _zygote
        if not zygote:
            raise RuntimeError(f"{_ZYGOTE} is not set: tests/conftest.py starts the zygotes")
        self._sock = _connect(path_beside(zygote))
        request = {"args": command[3:], "env": env, "cwd": str(cwd or os.getcwd())}
        forked_workers._send(self._sock, request, fds)
        self._reader = self._sock.makefile("rb")
        started = forked_workers._read(self._reader)
        if started is None:
            raise RuntimeError("the Locust zygote did not start Locust")
        self.pid: int = started["pid"]

    def wait(self, timeout: float | None = None) -> int:
        if self.poll(timeout) is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode  # type: ignore[return-value]

    def poll(self, timeout: float | None = 0) -> int | None:
        """Its exit code, once it has ended within ``timeout`` s (None: until it has)."""
        if self.returncode is None and select.select([self._sock], [], [], timeout)[0]:
            ended = forked_workers._read(self._reader)
            self.returncode = 1 if ended is None else int(ended["code"])
            self._reader.close()
            self._sock.close()
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    kill = functools.partialmethod(send_signal, signal.SIGKILL)


def _connect(path: str) -> socket.socket:
    """A connection to the Locust zygote, which binds its socket once the automations' zygote
    has imported its libraries (seconds after the run's start, on a loaded machine)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(600):  # bounded: a minute
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            time.sleep(0.1)
    sock.connect(path)  # what is wrong, told
    return sock


_ZYGOTE = "HARNESS_TESTS_ZYGOTE"
_zygote = os.environ.get(_ZYGOTE, "")  # kept: a test may empty the environment


def popen(command: list[str], env: dict[str, str]) -> Forked:
    """``harness.cli._locust._popen``'s stand-in: Locust forked, on this process's stdout and
    stderr and in its working directory, as a child started here would be."""
    return Forked(command, env)


# ---- the zygote


def start(fd: int, cwd: Path) -> subprocess.Popen[bytes]:
    """``python -m tests.locust_zygote FD`` on a socket beside the listening socket ``fd``'s
    (the automations' zygote's), in ``cwd``. It shares this process's standard input, and
    ends with it: when the controller ends the automations' zygote."""
    beside = _Socket(fileno=fd)
    path = beside.getsockname()
    beside.detach()
    mine = _Socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mine.bind(path_beside(path))
    mine.listen(64)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.locust_zygote", str(mine.fileno())],
            pass_fds=(mine.fileno(),),
            cwd=cwd,
        )
    finally:
        mine.close()


def _preload() -> None:
    """What a Locust process of the suite imports before its first user: Locust (which
    patches this process with gevent first), and all that the adapter imports — the engine
    and the report writers its master writes with — but not the adapter (harness_locust)
    itself: a locustfile imports it, after what it does first (a test's sets the clock off)."""
    import locust.main  # noqa: F401

    import harness.engine
    import harness.report.html
    import harness.report.json
    import harness.report.junit
    import harness.report.markdown  # noqa: F401


def _serve(fd: int) -> None:
    """Fork a Locust per request until standard input ends; tell each its pid and exit code.
    A child's end is seen on its pidfd: no SIGCHLD handler, which a child would inherit."""
    listening = _Socket(fileno=fd)
    connections: dict[int, Any] = {}  # pidfd -> (pid, the connection that asked for it)
    preloaded = False
    while True:
        ready, _, _ = _select([0, listening, *connections], [], [])
        if 0 in ready and not os.read(0, 4096):
            return
        for pidfd in [r for r in ready if isinstance(r, int) and r in connections]:
            pid, conn = connections.pop(pidfd)
            _close(pidfd)
            code = os.waitstatus_to_exitcode(_waitpid(pid, 0)[1])
            try:
                forked_workers._send(conn, {"exit": pid, "code": code})
            except OSError:
                pass  # its caller is gone
            conn.close()
        if listening in ready:
            conn = _Socket(fileno=listening._accept()[0])  # accept() would make gevent's
            request, fds = forked_workers._receive(conn, 2)
            if request is None:
                conn.close()
                continue
            if not preloaded:
                _preload()
                import gc

                gc.collect()
                gc.freeze()  # the preload is the children's for good: no collection walks it
                preloaded = True
            sys.stdout.flush()
            sys.stderr.flush()
            pid = _fork()
            if pid == 0:
                for _, other in connections.values():
                    other.close()
                for pidfd in connections:
                    _close(pidfd)
                listening.close()
                conn.close()
                _locust(request, fds)
            for received in fds:
                _close(received)
            connections[os.pidfd_open(pid)] = (pid, conn)
            try:
                forked_workers._send(conn, {"pid": pid})
            except OSError:
                pass  # gone: its child runs on, and its end is sent to no one


def _locust(request: dict[str, Any], fds: list[int]) -> NoReturn:
    """In the fork: become ``python -m locust ARGS``, with a gevent loop of its own."""
    import gevent

    gevent.reinit()
    # PYTHONPATH's folders, as a Python started with it has them (this one's, the zygote's).
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[1:1] = [p for p in dict.fromkeys(extra) if p not in sys.path]
    forked_workers.become_module({**request, "module": "locust"}, fds)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
