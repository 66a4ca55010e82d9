"""xdist's workers forked from one process that has imported what every worker imports first.

    python -m tests.forked_workers serve FD     (the zygote: FD is its listening socket)
    python -I -S tests/forked_workers.py PATH -u -c CODE    (what execnet starts as "python")

Each of the suite's eighteen workers is a Python that imports pytest, numpy, Hypothesis and
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
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import selectors
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

HEADER = struct.Struct("!I")


def _send(sock: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    data = json.dumps(message).encode()
    socket.send_fds(sock, [HEADER.pack(len(data)) + data], list(fds))


def _receive(sock: socket.socket, fd_count: int = 0) -> tuple[dict[str, Any] | None, list[int]]:
    """One message and the file descriptors sent with it; None at the end of the stream."""
    data, fds, _, _ = socket.recv_fds(sock, 1 << 16, fd_count)
    while len(data) < HEADER.size or len(data) < HEADER.size + HEADER.unpack_from(data)[0]:
        more = sock.recv(1 << 16)
        if not more:
            return None, fds
        data += more
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
    zygote = start(cwd)
    atexit.register(zygote.end)
    python = shlex.join(zygote.stand_in)
    return [f"popen//python={python}" if spec == "popen" else spec for spec in tx]


@dataclass
class Zygote:
    process: subprocess.Popen[bytes]
    directory: str

    @property
    def path(self) -> str:
        """Its listening socket's."""
        return os.path.join(self.directory, "zygote")

    @property
    def stand_in(self) -> list[str]:
        """The command of a stand-in, but for ``-u -c CODE``."""
        return [sys.executable, "-I", "-S", __file__, self.path]

    def end(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()  # its end: it exits
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start(cwd: Path) -> Zygote:
    """A zygote listening, started in ``cwd`` (it may still be importing: stand-ins wait)."""
    directory = tempfile.mkdtemp(prefix="harness-workers-")
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listening.bind(os.path.join(directory, "zygote"))
    listening.listen(64)
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.forked_workers", "serve", str(listening.fileno())],
        stdin=subprocess.PIPE,
        pass_fds=(listening.fileno(),),
        cwd=cwd,
    )
    listening.close()
    return Zygote(process, directory)


# ---- the stand-in execnet starts (standard library only: it runs with -I -S)


def stand_in(path: str, argv: list[str]) -> NoReturn:
    """Have the zygote fork a worker with this process's standard streams, environment and
    working directory; exit with its exit code. SIGTERM and SIGHUP are passed on; SIGINT is
    not: a Ctrl-C reaches the worker from the terminal, as it reaches the controller."""
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
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _: os.kill(pid, signum))
    ended = _read(reader)
    code = 1 if ended is None else int(ended["code"])
    os._exit(128 - code if code < 0 else code)  # a worker a signal ended: as a shell shows it


# ---- the zygote


def _preload() -> None:
    """What each worker imports before it collects (tests/conftest.py's ``_ready``), and what
    it runs on: pytest and execnet."""
    import execnet  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    from hypothesis import settings  # noqa: F401

    import harness.cli._processes  # noqa: F401
    from harness import run  # noqa: F401


def _worker(request: dict[str, Any], fds: list[int], closing: list[Any]) -> NoReturn:
    """In the fork: become ``python -u -c CODE`` with the stand-in's streams, environment and
    working directory. What it raises ends this process as it would end that one."""
    for mine in closing:  # the zygote's selector, sockets and wakeup pipe
        if isinstance(mine, int):
            os.close(mine)
        else:
            mine.close()
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
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


def woken_by_children() -> tuple[selectors.BaseSelector, tuple[int, int]]:
    """A selector that a child's end wakes (SIGCHLD written to a pipe it watches), and the
    pipe: what a zygote waits on."""
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_w, False)
    signal.set_wakeup_fd(wakeup_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so that the wakeup fd is written
    selector = selectors.DefaultSelector()
    selector.register(wakeup_r, selectors.EVENT_READ)
    return selector, (wakeup_r, wakeup_w)


def serve(fd: int) -> None:
    """Accept stand-ins on the listening socket ``fd`` until standard input ends (the
    controller is gone); fork a worker for each, send it the worker's pid, then its exit code
    when it ends; kill a worker whose stand-in went away."""
    _preload()
    gc.collect()
    gc.freeze()  # the imports are the workers' for good: no collection of theirs walks them
    listening = socket.socket(fileno=fd)
    selector, (wakeup_r, wakeup_w) = woken_by_children()
    selector.register(listening, selectors.EVENT_READ)
    selector.register(0, selectors.EVENT_READ)
    workers: dict[int, socket.socket] = {}  # pid -> its stand-in's connection
    while True:
        for key, _ in selector.select():
            if key.fileobj == 0 and not os.read(0, 4096):
                return
            if key.fileobj == wakeup_r:
                os.read(wakeup_r, 4096)
            elif key.fileobj is listening:
                conn, _ = listening.accept()
                request, fds = _receive(conn, 3)
                if request is None or len(fds) != 3:
                    conn.close()
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    mine = [selector, listening, conn, *workers.values(), wakeup_r, wakeup_w]
                    _worker(request, fds, mine)
                for fd in fds:
                    os.close(fd)
                _send(conn, {"pid": pid})
                workers[pid] = conn
                selector.register(conn, selectors.EVENT_READ, pid)
            elif isinstance(key.data, int) and not key.fileobj.recv(1):  # type: ignore[union-attr]
                os.kill(key.data, signal.SIGKILL)  # its stand-in was killed
                selector.unregister(key.fileobj)
        _reap(workers, selector)


def ended_children() -> Iterator[tuple[int, int]]:
    """(pid, exit code as ``Popen.returncode``) of each child that has ended, reaped."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, os.waitstatus_to_exitcode(status)


def _reap(workers: dict[int, socket.socket], selector: selectors.BaseSelector) -> None:
    for pid, code in ended_children():
        conn = workers.pop(pid)
        if conn.fileno() in selector.get_map():
            selector.unregister(conn)
        try:
            _send(conn, {"code": code})
        except OSError:
            pass  # its stand-in is gone
        conn.close()


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    else:
        stand_in(sys.argv[1], sys.argv[2:])
