"""Two runs at once: into default journals each gets a file of its own and both complete; into
one --journal the second is refused before it sends anything (docs/cli.md, "Journals")."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core._errors import InputError
from harness.history import check_journal_path
from harness.history._claim import claim

from .conftest import SECRET, Automation, harness, start_automation

pytestmark = pytest.mark.integration


def _run_args(automation: Automation, *extra: str) -> list[str]:
    """``harness run duplicate-storm`` against ``automation``, time-compressed."""
    return [
        "run",
        "duplicate-storm",
        "--target",
        automation.hook,
        "--downstream",
        f"127.0.0.1:{automation.downstream_port}",
        "--time-scale",
        "0.2",
        *extra,
    ]


def _start(automation: Automation, cwd: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", *_run_args(automation, *extra)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HARNESS_SECRET": SECRET, "COLUMNS": "200"},
    )


def test_two_runs_at_once_into_default_journals_both_complete(tmp_path: Path) -> None:
    first, second = (start_automation("fragile", tmp_path / n) for n in ("a", "b"))
    try:
        runs = [_start(a, tmp_path) for a in (first, second)]
        results = [p.communicate(timeout=180) for p in runs]
    finally:
        first.service.stop()
        second.service.stop()
    for proc, (out, err) in zip(runs, results, strict=True):
        assert proc.returncode in (0, 1), out + err
    journals = sorted((tmp_path / "harness-runs").glob("*.db"))
    assert len(journals) == 2, journals


def _wait_until_locked(journal: Path, running: subprocess.Popen[str]) -> None:
    """Until the running harness holds the journal's writer lock (read off /proc/locks, so as
    not to take it ourselves): the file exists as soon as its path is checked, seconds before
    the run claims it on a loaded machine."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and running.poll() is None:
        if journal.exists() and _flocked(journal):
            return
        time.sleep(0.05)
    pytest.fail("the first run never held its journal")


def _flocked(path: Path) -> bool:
    inode = f":{path.stat().st_ino} "
    locks = Path("/proc/locks").read_text().splitlines()
    return any(" FLOCK " in line and " WRITE " in line and inode in line for line in locks)


def test_a_second_run_into_the_same_journal_is_refused_before_it_sends(tmp_path: Path) -> None:
    # The second run, at the same target and downstream, is refused on the journal before it
    # binds a double or sends: one automation serves both.
    target = start_automation("fragile", tmp_path)
    journal = tmp_path / "shared.db"
    try:
        # Slowed down (time scale 5: half a minute and more) so that it still holds the journal
        # when the second starts on a loaded machine; it is stopped once the second is refused.
        running = _start(target, tmp_path, "--journal", str(journal), "--time-scale", "5")
        _wait_until_locked(journal, running)
        # The second in this process: the lock is the first's, a process of its own.
        refused = harness(*_run_args(target, "--journal", str(journal)), cwd=tmp_path)
        running.terminate()
        running.communicate(timeout=60)
    finally:
        target.service.stop()
    err = refused.err
    assert refused.code == 2, refused.out + err
    assert "another run is writing" in err and "give each run its own --journal" in err
    assert "deliveries planned" not in err and "Traceback" not in err


@pytest.mark.parametrize("written", ["nothing", "no tables yet"])
def test_a_journal_claimed_before_its_tables_are_written_is_another_runs(
    tmp_path: Path, written: str
) -> None:
    # The first run holds the lock from the moment it opens the file, before it writes its
    # tables: a second run checking the path then must hear that another run writes it, not
    # that the file is another program's (seen in CI on a loaded machine).
    journal = tmp_path / "shared.db"
    if written == "no tables yet":
        db = sqlite3.connect(journal)
        db.execute("CREATE TABLE being_written (x)")
        db.commit()
        db.close()
    held = claim(journal)
    try:
        with pytest.raises(InputError, match="another run is writing"):
            check_journal_path(journal)
    finally:
        os.close(held)
    if written == "nothing":
        check_journal_path(journal)  # once the lock is dropped, the path is free
    else:  # and a file left without a journal's tables is told apart, as before
        with pytest.raises(InputError, match="no runs table"):
            check_journal_path(journal)
