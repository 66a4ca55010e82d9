"""The harness itself stopped mid-run: SIGTERM ends it as Ctrl-C does, SIGKILL leaves a journal
that says so. Either way `check` and `report` exit 3 (incomplete), never 0 or 1."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SECRET, Automation, harness

pytestmark = pytest.mark.integration


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_run(
    fragile: Automation, journal: Path, *, sigint_ignored: bool = False
) -> subprocess.Popen[str]:
    """downstream-outage at real time: four minutes of scenario, so it is surely mid-run.
    ``sigint_ignored``: started as a background job of a non-interactive shell is (`cmd &`,
    nohup), with SIGINT ignored, which the child inherits."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            "downstream-outage",
            "--target",
            fragile.hook,
            "--downstream",
            f"127.0.0.1:{fragile.downstream_port}",
            "--journal",
            str(journal),
            "--time-scale",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HARNESS_SECRET": SECRET, "COLUMNS": "200"},
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )


def _wait_for_deliveries(
    proc: subprocess.Popen[str], journal: Path, at_least: int = 3, within: float = 30.0
) -> None:
    """Until ``journal`` holds ``at_least`` deliveries; failing with the run's own output where
    it ended first or did not get there in time (.ci/run once saw none within 30 s)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended ({proc.returncode}) before {at_least} deliveries:\n{err}")
        if journal.exists():
            try:
                with sqlite3.connect(f"{journal.resolve().as_uri()}?mode=ro", uri=True) as db:
                    # Each row of deliveries is a chunk of them (journal format 7).
                    found = db.execute('SELECT coalesce(sum("rows"), 0) FROM deliveries')
                    if found.fetchone()[0] >= at_least:
                        return
            except sqlite3.Error:
                pass
        time.sleep(0.2)
    proc.kill()
    out, err = proc.communicate(timeout=30)
    pytest.fail(f"no {at_least} deliveries in {journal} within {within} s:\n{out}\n{err}")


@pytest.mark.parametrize("sigint_ignored", [False, True], ids=["foreground", "sigint-ignored"])
def test_sigterm_ends_the_run_aborted_with_a_message_and_exit_3(
    fragile: Automation, tmp_path: Path, sigint_ignored: bool
) -> None:
    journal = tmp_path / "run.db"
    proc = _start_run(fragile, journal, sigint_ignored=sigint_ignored)
    try:
        _wait_for_deliveries(proc, journal)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 3, out + err
    assert "interrupted" in err and "Traceback" not in err
    assert f"harness check {journal}" in err
    checked = harness("check", str(journal), "--report", str(tmp_path / "r.json"))
    assert checked.code == 3, checked.out + checked.err
    assert "incomplete (aborted" in checked.err
    doc = json.loads((tmp_path / "r.json").read_text())
    assert doc["passed"] is False
    reported = harness("report", str(journal), "-o", str(tmp_path / "r.md"))
    assert reported.code == 3, reported.out + reported.err


def test_sigkill_leaves_a_journal_that_check_calls_incomplete(
    fragile: Automation, tmp_path: Path
) -> None:
    journal = tmp_path / "run.db"
    proc = _start_run(fragile, journal)
    try:
        _wait_for_deliveries(proc, journal)
        time.sleep(1.5)  # the write-ahead log is copied into the .db about every second
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    # The .db alone, as attached to a ticket, without its -wal and -shm.
    alone = tmp_path / "ticket"
    alone.mkdir()
    (alone / "run.db").write_bytes(journal.read_bytes())
    checked = harness("check", str(alone / "run.db"))
    assert checked.code == 3, checked.out + checked.err
    assert "incomplete (running: the harness stopped" in checked.err
    assert "Traceback" not in checked.err


def test_a_storm_of_sigterms_still_ends_with_the_message_and_exit_3(
    fragile: Automation, tmp_path: Path
) -> None:
    """A SIGTERM, then more while the run is ending (`timeout` and a `kill` both, a CI runner
    that signals every second): the run ends as on the first, the message whole, no
    traceback."""
    journal = tmp_path / "run.db"
    proc = _start_run(fragile, journal)
    try:
        _wait_for_deliveries(proc, journal)
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            proc.send_signal(signal.SIGTERM)
            time.sleep(0.005)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 3, out + err
    assert "Traceback" not in err and "interrupted" in err, err
