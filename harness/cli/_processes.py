"""Start an automation as a real process on loopback and wait for its ``LISTENING`` line."""

from __future__ import annotations

import os
import random
import select
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from ..core._errors import RunError

# Ports handed out for a process to listen on later are drawn below the kernel's ephemeral
# range (Linux: 32768-60999): a port 0 listener or an outgoing connection made in between can
# never be given one of them, as it can a port the kernel picked for us.
_QUIET_PORTS = range(20000, 32768)
# Handed out by this process: a port handed out is free until its process listens on it, and
# another ask in between (the demo's targets, a fixture's downstream kept for a module's tests)
# must not be given it again. Forgotten once every quiet port was handed out.
_handed: set[int] = set()


def free_port(host: str = "127.0.0.1", count: int = 1) -> int:
    """A port nothing listens on now and this process has not handed out before, for a process
    to listen on shortly; with ``count``, the first of that many in a row (``harness run`` puts
    a scenario's second downstream on the port after its first)."""
    firsts = range(_QUIET_PORTS.start, _QUIET_PORTS.stop - count + 1)
    unhanded = [p for p in firsts if _handed.isdisjoint(range(p, p + count))]
    if not unhanded:
        _handed.clear()
        unhanded = list(firsts)
    for port in random.sample(unhanded, min(50, len(unhanded))):
        if all(_bindable(host, p) for p in range(port, port + count)):
            _handed.update(range(port, port + count))
            return port
    if count > 1:
        raise RunError(f"no {count} free ports in a row on {host} (tried 50)")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        found: int = s.getsockname()[1]
        return found


def _bindable(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


@dataclass
class Service:
    """A child process that announced ``LISTENING <url>`` on its stdout."""

    name: str
    process: subprocess.Popen[bytes]
    url: str

    def stop(self, grace: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


def start_module(
    name: str, module: str, args: Sequence[str], env: dict[str, str], timeout: float = 15.0
) -> Service:
    """Run ``python -m module args`` and return once it prints ``LISTENING <url>``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        env={**os.environ, **env},
    )
    return announced(name, proc, timeout)


def announced(name: str, proc: subprocess.Popen[bytes], timeout: float) -> Service:
    """``proc`` as a Service once it prints ``LISTENING <url>`` on its stdout; killed, and a
    RunError, if it exits or stays silent for ``timeout`` seconds."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.1)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(b"LISTENING "):
                return Service(name, proc, line.split()[1].decode())
            if not line and proc.poll() is not None:
                break
        elif proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    raise RunError(
        f"the {name} automation did not start (exit code {proc.returncode}, "
        f"last output {line!r}); see its messages above"
    )
