"""A year against the sound demo (a real process on loopback): it survives its months with no
failed verdict, the downstream's records carried from month to month; a year resumed from its
journal runs only the months not complete in it, and Ctrl-C keeps the months that ran."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core._errors import HarnessError
from harness.core._model import STATE_MARK, Status
from harness.history import load, run_infos
from harness.invariants import judge

from .conftest import SECRET, Automation, harness, harness_process, signalled

pytestmark = [pytest.mark.integration, pytest.mark.long]


@pytest.mark.acceptance
@pytest.mark.timeout(400)
def test_the_sound_demo_survives_months_with_its_records_carried_and_resume_skips_done_ones(
    sound: Automation, tmp_path: Path
) -> None:
    journal = tmp_path / "year.db"
    common = ["--target", sound.hook, "--downstream", f"127.0.0.1:{sound.downstream_port}"]
    small = ["--events-per-day", "20", "--day-seconds", "0.4", "--no-project"]
    first = harness_process(
        "run", "year", *common, *small, "--months", "2", "--journal", str(journal),
        "--seed", "11", cwd=tmp_path, timeout=180,
    )  # fmt: skip
    assert first.code == 0, first.err
    assert "2028-02" in first.err and "2 months run, none failed" in first.err

    second = harness_process(
        "run", "year", *common, *small, "--months", "3", "--resume", str(journal),
        cwd=tmp_path, timeout=180,
    )  # fmt: skip
    assert second.code == 0, second.err
    assert "seed 11" in second.err  # the journal's seed, so the months stay reproducible
    assert "resumed: 2028-01, 2028-02 already complete in the journal" in second.err
    assert "running year-2028-02" not in second.err and "running year-2028-03" in second.err

    runs = [(info, status) for info, status in run_infos(journal)]
    names = [info.scenario for info, _ in runs]
    assert names == ["year-baseline", "year-2028-01", "year-2028-02", "year-2028-03"]
    assert {status for _, status in runs} == {"complete"}
    carried: list[str] = []
    for info, _ in runs[1:]:
        calendar = info.settings["calendar"]
        assert info.settings["baseline"] == runs[0][0].run_id
        assert calendar["timezone"] == "Europe/Berlin" and calendar["events_per_day"] == 20
        history = load(journal, info.run_id)
        failed = [v for v in judge(history) if v.status is Status.FAIL]
        assert failed == [], (calendar["month"], failed)
        (state,) = [m.detail for m in history.marks if m.name == STATE_MARK]
        carried.append(state)
    # Each month's final state journals the records it wrote (the store carried from the month
    # before is its start, not its state: double/_carry; that February meets January's records
    # is shown by tests/test_year_flaws.py, pagination).
    for state in carried:
        assert state.startswith("api: ") and int(state.split()[1]) > 0, state
    months = [info.settings["calendar"]["month"] for info, _ in runs[1:]]
    assert months == ["2028-01", "2028-02", "2028-03"]


def _months_in(journal: Path) -> dict[str, str]:
    """Month -> status of the month runs the journal holds so far."""
    if not journal.exists():
        return {}
    try:
        runs = run_infos(journal)
    except HarnessError:  # not a journal yet: its first run is being begun
        return {}
    return {
        info.settings["calendar"]["month"]: status
        for info, status in runs
        if "calendar" in info.settings
    }


@pytest.mark.timeout(400)
def test_ctrl_c_keeps_the_months_that_ran_and_resume_runs_the_interrupted_one_again(
    sound: Automation, tmp_path: Path
) -> None:
    journal = tmp_path / "year.db"
    args = [
        "run", "year", "--no-project",
        "--target", sound.hook, "--downstream", f"127.0.0.1:{sound.downstream_port}",
        "--events-per-day", "5", "--day-seconds", "0.2",
    ]  # fmt: skip
    argv = [sys.executable, "-m", "harness", *args, "--months", "3", "--journal", str(journal)]

    def second_month_began(_: subprocess.Popen[str]) -> None:
        deadline = time.monotonic() + 150
        while "2028-02" not in _months_in(journal) and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _months_in(journal).get("2028-01") == "complete"

    env = {"HARNESS_SECRET": SECRET, "COLUMNS": "200"}
    done = signalled(argv, signal.SIGINT, second_month_began, cwd=tmp_path, env=env, timeout=60)
    err = done.err
    assert done.code == 3, err
    assert f"--resume {journal}" in " ".join(err.split())
    assert "Traceback" not in err
    assert _months_in(journal) == {"2028-01": "complete", "2028-02": "aborted"}

    again = harness(*args, "--months", "2", "--resume", str(journal), cwd=tmp_path)
    assert again.code == 0, again.err
    assert "resumed: 2028-01 already complete" in again.err
    runs = [info.scenario for info, status in run_infos(journal) if status == "complete"]
    assert runs == ["year-baseline", "year-2028-01", "year-2028-02"]
