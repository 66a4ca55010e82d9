"""xdist's workers forked from one zygote (tests/forked_workers.py): each a process of its own
with its stand-in's streams, environment, working directory and exit code."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from . import forked_workers
from .conftest import REPO, start_automation

pytestmark = pytest.mark.integration

# What a worker's bootstrap line does with its standard input, made visible: execnet's reads
# one line of code from it and runs it.
REPORT = """
import json, os, sys
line = sys.stdin.readline()
print(json.dumps({
    "line": line, "argv": sys.argv, "cwd": os.getcwd(), "ppid": os.getppid(), "pid": os.getpid(),
    "given": os.environ.get("FORKED_WORKER_TEST"), "numpy": "numpy" in sys.modules,
    "main": __name__,
}), flush=True)
print("to stderr", file=sys.stderr, flush=True)
if line.strip() == "sleep":
    import time
    time.sleep(60)
sys.exit(int(line))
"""


@pytest.fixture(scope="module")
def zygote() -> Iterator[forked_workers.ForkServer]:
    started = forked_workers.start("tests.forked_workers", REPO)
    yield started
    started.end()
    assert started.process.returncode == 0


def stand_in(zygote: forked_workers.ForkServer, cwd: Path) -> subprocess.Popen[str]:
    """What execnet starts for a worker: its command, ``-u -c CODE`` and pipes."""
    return subprocess.Popen(
        [*forked_workers.stand_in_command(zygote), "-u", "-c", REPORT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, "FORKED_WORKER_TEST": "given"},
    )


@contextlib.contextmanager
def sleeping(
    zygote: forked_workers.ForkServer, cwd: Path
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """A stand-in whose worker has started and sleeps; the worker's pid."""
    with stand_in(zygote, cwd) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("sleep\n")
        proc.stdin.flush()
        yield proc, json.loads(proc.stdout.readline())["pid"]


def test_a_worker_runs_its_code_forked_with_the_stand_ins_streams_and_exit_code(
    zygote: forked_workers.ForkServer, tmp_path: Path
) -> None:
    proc = stand_in(zygote, tmp_path)
    out, err = proc.communicate("3\n", timeout=60)
    assert proc.returncode == 3, err
    seen = json.loads(out)
    assert seen["line"] == "3\n" and seen["argv"] == ["-c"] and seen["main"] == "__main__"
    assert seen["cwd"] == str(tmp_path) and seen["given"] == "given"
    assert seen["ppid"] == zygote.process.pid != proc.pid != seen["pid"]
    assert seen["numpy"]  # imported once, by the zygote
    assert err == "to stderr\n"


def test_sigterm_to_the_stand_in_ends_its_worker(
    zygote: forked_workers.ForkServer, tmp_path: Path
) -> None:
    with sleeping(zygote, tmp_path) as (proc, _):
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 128 + signal.SIGTERM


def test_a_stand_in_killed_takes_its_worker_with_it(
    zygote: forked_workers.ForkServer, tmp_path: Path
) -> None:
    with sleeping(zygote, tmp_path) as (proc, worker):
        proc.kill()
        proc.wait(30)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{worker}").exists()


def test_the_suites_workers_are_forks_of_the_zygote() -> None:
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("not run by an xdist worker")
    assert _command(os.getppid())[1:3] == ["-m", "tests.forked_workers"]


def test_the_automations_are_forks_of_one_zygote_for_the_run(tmp_path: Path) -> None:
    """Not one per worker: the zygote is the controller's child, not this worker's."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        pytest.skip("not run by an xdist worker: this process is the controller")
    automation = start_automation("fragile", tmp_path)
    try:
        zygote = _parent(automation.service.process.pid)
    finally:
        automation.service.stop()
    assert _command(zygote)[1:3] == ["-m", "tests.zygote"]
    assert _parent(zygote) != os.getpid()


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def _command(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")
