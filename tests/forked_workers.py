"""xdist's workers forked from one process that has imported what every worker imports first.

    python -m tests.forked_workers FD     (the zygote: FD is its listening socket)
    python -I -S tests/forked_workers.py PATH -u -c CODE    (what execnet starts as "python")

Each of the suite's workers is a Python that imports pytest, numpy, Hypothesis and
harness's engine and CLI before it collects: about 1.05 of the 3.1 CPU-s each worker spends
before its first test, on the two cores the workers share, and no test is handed out until the
last worker has collected. The controller starts one zygote that imports them once, and
points xdist's ``popen`` gateways at the small stand-in below instead of a Python: it passes
its standard streams to the zygote, which forks a child that runs execnet's ``-c`` bootstrap
with them — a worker of its own (its own pid, signals and exit code) from a state in which only
modules were imported. The stand-in lives as long as its worker and exits with its exit code;
killed, it takes its worker with it.

Not imported here: the modules pytest rewrites (the ``-p`` plugins, the conftest, the test
modules), so that each worker still imports and rewrites them itself, as before.

The fork server (``serve``, ``start``) is also the automations' zygote's (tests/zygote.py).
Protocol, per connection: a request frame (JSON) with file descriptors; ``{"pid": N}`` for each,
in order, and ``{"exit": N, "code": C}`` when that child ends (C as ``Popen.returncode``).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import runpy
import selectors
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

HEADER = struct.Struct("!I")


def _send(sock: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    data = json.dumps(message).encode()
    socket.send_fds(sock, [HEADER.pack(len(data)) + data], list(fds))


def _receive(sock: socket.socket, fd_count: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """One message and the file descriptors sent with it; None at the end of the stream (or
    its reset: a peer killed with unread data)."""
    try:
        data, fds, _, _ = socket.recv_fds(sock, 1 << 16, fd_count)
        while len(data) < HEADER.size or len(data) < HEADER.size + HEADER.unpack_from(data)[0]:
            more = sock.recv(1 << 16)
            if not more:
                return None, fds
            data += more
    except ConnectionResetError:
        return None, []
    return (json.loads(data[HEADER.size :]) if data else None), fds


def _read(reader: Any) -> dict[str, Any] | None:
    """The next message on a buffered reader; None at the end of the stream."""
    header = reader.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    return json.loads(reader.read(size))  # type: ignore[no-any-return]


# ---- the controller


def gateways(tx: list[str], cwd: Path) -> list[str]:
    """xdist's gateways ``tx`` with each plain ``popen`` a stand-in for a forked worker, the
    zygote started (in ``cwd``, ended when this process ends); ``tx`` as it is if it has none."""
    if "popen" not in tx:
        return tx
    python = shlex.join(stand_in_command(start("tests.forked_workers", cwd)))
    return [f"popen//python={python}" if spec == "popen" else spec for spec in tx]


def stand_in_command(zygote: ForkServer) -> list[str]:
    """What execnet is to start instead of a Python (it adds ``-u -c CODE``)."""
    return [sys.executable, "-I", "-S", __file__, zygote.path]


@dataclass
class ForkServer:
    """A zygote: ``python -m MODULE FD`` listening on ``path``; ended with this process."""

    process: subprocess.Popen[bytes]
    directory: str

    @property
    def path(self) -> str:
        """Its listening socket's."""
        return os.path.join(self.directory, "socket")

    def end(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()  # its end: it exits
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start(module: str, cwd: Path) -> ForkServer:
    """``python -m module FD`` in ``cwd``, FD a listening socket (that connections may reach
    while it still imports: they wait). Ended at this process's exit, or by ``end``."""
    directory = tempfile.mkdtemp(prefix="harness-zygote-")
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(os.path.join(directory, "socket"))
    listening.listen(64)
    process = subprocess.Popen(
        [sys.executable, "-m", module, str(listening.fileno())],
        stdin=subprocess.PIPE,
        pass_fds=(listening.fileno(),),
        cwd=cwd,
    )
    listening.close()
    server = ForkServer(process, directory)
    atexit.register(server.end)
    return server


def serve(
    fd: int,
    fd_count: int,
    become: Callable[[dict[str, Any], list[int]], NoReturn],
    *,
    orphans_killed: bool,
) -> None:
    """Accept connections on the listening socket ``fd`` until standard input ends (the process
    that started this one is gone); for each request (with ``fd_count`` file descriptors) fork
    a child that ``become``\\s what it asks; tell the connection its pid, then its exit code.
    ``orphans_killed``: a connection's end kills the children it asked for."""
    gc.collect()
    gc.freeze()  # what the preload imported is the children's for good: no collection walks it
    listening = socket.socket(fileno=fd)
    selector, wakeup = _woken_by_children()
    selector.register(listening, selectors.EVENT_READ)
    selector.register(0, selectors.EVENT_READ)
    owners: dict[int, socket.socket] = {}  # child pid -> the connection that asked for it
    while True:
        for key, _ in selector.select():
            if key.fileobj == 0:
                if not os.read(0, 4096):
                    return
            elif key.fileobj == wakeup[0]:
                os.read(wakeup[0], 4096)
            elif key.fileobj is listening:
                selector.register(listening.accept()[0], selectors.EVENT_READ)
            else:
                conn = key.fileobj
                assert isinstance(conn, socket.socket)
                # One request at a time: a connection waits for its pid before the next.
                request, fds = _receive(conn, fd_count)
                if request is None:
                    selector.unregister(conn)
                    conn.close()
                    for pid in [p for p, c in owners.items() if c is conn and orphans_killed]:
                        os.kill(pid, signal.SIGKILL)
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    mine = [k.fileobj for k in selector.get_map().values()]
                    selector.close()
                    for sock in mine:
                        if isinstance(sock, socket.socket):
                            sock.close()
                    for end in wakeup:
                        os.close(end)
                    signal.set_wakeup_fd(-1)
                    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                    become(request, fds)
                for received in fds:
                    os.close(received)
                owners[pid] = conn
                with contextlib.suppress(OSError):  # gone: its end is read next, as any end
                    _send(conn, {"pid": pid})
        for pid, code in _ended_children():
            conn = owners.pop(pid, None)  # None: a child of this process's own (tests/zygote.py)
            with contextlib.suppress(OSError):  # its connection may be gone
                if conn is not None:
                    _send(conn, {"exit": pid, "code": code})


def _woken_by_children() -> tuple[selectors.BaseSelector, tuple[int, int]]:
    """A selector that a child's end wakes (SIGCHLD written to a pipe it watches), and the
    pipe: what a zygote waits on."""
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wakeup fd is written
    selector = selectors.DefaultSelector()
    selector.register(wakeup_r, selectors.EVENT_READ)
    return selector, (wakeup_r, wakeup_w)


def _ended_children() -> Iterator[tuple[int, int]]:
    """(pid, exit code as ``Popen.returncode``) of each child that has ended, reaped."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status)


def become_module(request: dict[str, Any], fds: list[int]) -> NoReturn:
    """In a zygote's fork: become ``python -m MODULE ARGS`` (the request's ``module``, ``args``,
    ``env`` and ``cwd``; ``fds`` its stdout and stderr). What it raises ends this process as it
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


# ---- the stand-in execnet starts (standard library only: it runs with -I -S)


def stand_in(path: str, argv: list[str]) -> NoReturn:
    """Have the zygote fork a worker with this process's standard streams, environment and
    working directory; exit with its exit code. SIGTERM and SIGHUP are passed on; SIGINT is
    not: a Ctrl-C reaches the worker from the terminal, as it reaches the controller."""
    passed_on = (signal.SIGTERM, signal.SIGHUP)
    signal.pthread_sigmask(signal.SIG_BLOCK, passed_on)  # held until the worker's pid is known
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    _send(sock, {"argv": argv, "env": dict(os.environ), "cwd": os.getcwd()}, (0, 1, 2))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # the worker's now: execnet sees its end when the worker's end closes
        os.dup2(devnull, fd)
    reader = sock.makefile("rb")
    started = _read(reader)
    if started is None:
        sys.exit("tests.forked_workers: the zygote did not start the worker")
    pid = int(started["pid"])
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in passed_on:
        signal.signal(sig, lambda signum, _: os.kill(pid, signum))
    signal.pthread_sigmask(signal.SIG_UNBLOCK, passed_on)
    ended = _read(reader)
    code = 1 if ended is None else int(ended["code"])
    os._exit(128 - code if code < 0 else code)  # a worker a signal ended: as a shell shows it


# ---- the zygote


def _preload() -> None:
    """What each worker imports before it collects (tests/conftest.py's ``_ready``), what it
    runs on (pytest, execnet), and what the test modules import at their top beyond them (the
    reports and jinja2, faker, jsonschema, the explorer, the year: 0.2 CPU-s a worker)."""
    import execnet  # noqa: F401
    import faker  # noqa: F401
    import jinja2  # noqa: F401
    import jsonschema  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    from hypothesis import settings  # noqa: F401

    import harness.cli._demo
    import harness.cli._processes
    import harness.demo._common
    import harness.explore
    import harness.report.html
    import harness.report.json
    import harness.report.junit
    import harness.report.markdown
    import harness.scenario._project
    import harness.strategies
    import harness.year  # noqa: F401
    from harness import run  # noqa: F401


def _worker(request: dict[str, Any], fds: list[int]) -> NoReturn:
    """In the fork: become ``python -u -c CODE`` with the stand-in's streams, environment and
    working directory. What it raises ends this process as it would end that one."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for source, target in zip(fds, (0, 1, 2), strict=True):
        os.dup2(source, target)
        os.close(source)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    argv = request["argv"]
    code = argv[argv.index("-c") + 1]
    sys.argv = ["-c", *argv[argv.index("-c") + 2 :]]
    sys.path[0] = ""  # as for ``python -c``: the working directory
    main = type(sys)("__main__")
    sys.modules["__main__"] = main
    exec(compile(code, "<string>", "exec"), main.__dict__)
    sys.exit(0)


if __name__ == "__main__":
    if len(sys.argv) == 2:
        _preload()
        serve(int(sys.argv[1]), 3, _worker, orphans_killed=True)
    else:
        stand_in(sys.argv[1], sys.argv[2:])
