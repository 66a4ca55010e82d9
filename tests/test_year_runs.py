"""A year against the sound demo (a real process on loopback): it survives two months with no
failed verdict, and a year resumed from its journal runs only the months not complete in it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core._model import Status
from harness.history import load, run_infos
from harness.invariants import judge

from .conftest import Automation, harness

pytestmark = [pytest.mark.integration, pytest.mark.long]


@pytest.mark.timeout(400)
def test_the_sound_demo_survives_two_months_and_a_resumed_year_skips_the_done_one(
    sound: Automation, tmp_path: Path
) -> None:
    journal = tmp_path / "year.db"
    common = ["--target", sound.hook, "--downstream", f"127.0.0.1:{sound.downstream_port}"]
    small = ["--events-per-day", "20", "--day-seconds", "0.4", "--no-project"]
    first = harness(
        "run", "year", *common, *small, "--months", "1", "--journal", str(journal),
        "--seed", "11", cwd=tmp_path, timeout=180,
    )  # fmt: skip
    assert first.code == 0, first.err
    assert "2028-01" in first.err and "1 month run, none failed" in first.err

    second = harness(
        "run", "year", *common, *small, "--months", "2", "--resume", str(journal),
        cwd=tmp_path, timeout=180,
    )  # fmt: skip
    assert second.code == 0, second.err
    assert "seed 11" in second.err  # the journal's seed, so the months stay reproducible
    assert "resumed: 2028-01 already complete in the journal" in second.err
    assert "running year-2028-01" not in second.err and "running year-2028-02" in second.err

    runs = [(info, status) for info, status in run_infos(journal)]
    names = [info.scenario for info, _ in runs]
    assert names == ["year-baseline", "year-2028-01", "year-2028-02"]  # one clean run only
    assert {status for _, status in runs} == {"complete"}
    for info, _ in runs[1:]:
        calendar = info.settings["calendar"]
        assert info.settings["baseline"] == runs[0][0].run_id
        assert calendar["timezone"] == "Europe/Berlin" and calendar["events_per_day"] == 20
        history = load(journal, info.run_id)
        failed = [v for v in judge(history) if v.status is Status.FAIL]
        assert failed == [], (calendar["month"], failed)
    assert [info.settings["calendar"]["month"] for info, _ in runs[1:]] == ["2028-01", "2028-02"]
