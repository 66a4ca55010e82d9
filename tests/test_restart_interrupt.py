"""Ctrl-C while a deploy's restart hook runs: the harness stops waiting at once — the hook's
command killed (its whole process group), its POST abandoned — where it waited out the hook's
60 s bound before; the run is kept in the journal, aborted, with the restart marked
interrupted, and exits 3 (docs/cli.md)."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.history import load_all, run_infos
from harness.invariants._restarts import RESTART_MARK

from .conftest import SECRET, signalled
from .test_deploy_restart import SHORT

pytestmark = pytest.mark.integration

# Well under the hook's 60 s bound, which the harness used to wait out after Ctrl-C.
PATIENCE = 30


def _gone(pid: int) -> bool:
    """Whether ``pid`` has ended (gone, or a zombie no one has reaped yet)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in status


# A month of a year, its first deploy (4 January 14:00) 0.72 s in; no clean run.
YEAR = ("year", "--months", "1", "--events-per-day", "5", "--day-seconds", "0.2", "--no-baseline")


def _interrupted(
    tmp_path: Path, restart: str, ready: object, run: tuple[str, ...] = ("hangs.yaml",)
) -> tuple[int, str, Path]:
    (tmp_path / "harness.yaml").write_text(
        f"target: tests.project_asgi:app/webhooks/stripe\nrestart: {restart}\n"
    )
    (tmp_path / "hangs.yaml").write_text(SHORT)  # a restart 0.1 s in
    journal = tmp_path / "j.db"
    argv = [sys.executable, "-m", "harness", "run", *run, "--journal", str(journal)]
    argv += ["--downstream", "127.0.0.1:0"]
    env = {"HARNESS_SECRET": SECRET, "COLUMNS": "200"}
    done = signalled(
        argv,
        signal.SIGINT,
        ready,  # type: ignore[arg-type]
        cwd=tmp_path,
        env=env,
        timeout=PATIENCE,
    )
    return done.code, done.err, journal


def _kept_interrupted(journal: Path) -> dict[str, object]:
    [(_, status)] = run_infos(journal)
    assert status == "aborted"
    [run] = load_all(journal)
    [mark] = [json.loads(m.detail) for m in run.marks if m.name == RESTART_MARK]
    assert mark["interrupted"] is True and mark["ended"] >= mark["started"] >= 0.1, mark
    assert len(run.deliveries) >= 1  # what was sent before Ctrl-C is kept
    return mark


def in_hanging_hook(tmp_path: Path, run: tuple[str, ...]) -> tuple[int, str, Path, Path]:
    """``run`` with a restart command that hangs, Ctrl-C once it runs: the exit code, the
    error output, the journal and the file that holds the hook's pid."""
    pidfile = tmp_path / "hook.pid"
    hook = json.dumps(f"echo $$ > {pidfile}; exec sleep 600")

    def hook_running(proc: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 60
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.1)

    restart = f"{{command: [sh, -c, {hook}]}}"
    return (*_interrupted(tmp_path, restart, hook_running, run), pidfile)


@pytest.mark.parametrize("run", [("hangs.yaml",), YEAR], ids=["scenario", "year"])
def test_ctrl_c_kills_a_restart_command_that_hangs_and_keeps_the_run(
    tmp_path: Path, run: tuple[str, ...]
) -> None:
    code, err, journal, pidfile = in_hanging_hook(tmp_path, run)
    assert code == 3, err
    said = " ".join(err.split())
    assert "what was recorded is kept in" in said or "the months that ran are kept in" in said
    assert "interrupted" in said and "Traceback" not in said, said
    if run == YEAR:
        assert f"go on with `harness run year --resume {journal}`" in said, said
    assert _gone(int(pidfile.read_text())), "the hook's process outlived the harness"
    _kept_interrupted(journal)


@contextlib.contextmanager
def _silent_endpoint() -> Iterator[socket.socket]:
    """A loopback port that takes connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def test_ctrl_c_abandons_a_restart_post_that_gets_no_answer(tmp_path: Path) -> None:
    with _silent_endpoint() as server:
        port = server.getsockname()[1]
        held: list[socket.socket] = []

        def post_in_flight(proc: subprocess.Popen[str]) -> None:
            server.settimeout(60)
            connection, _ = server.accept()  # the hook's POST: held, never answered
            held.append(connection)
            connection.settimeout(10)
            assert connection.recv(4096).startswith(b"POST /deploy"), proc.stderr

        restart = f"{{post: 'http://127.0.0.1:{port}/deploy'}}"
        code, err, journal = _interrupted(tmp_path, restart, post_in_flight)
        for connection in held:
            connection.close()
    assert code == 3, err
    assert "interrupted; what was recorded is kept in" in err, err
    assert "Traceback" not in err
    _kept_interrupted(journal)
