"""Synthetic events are dated in their run's own time, later than any earlier run's: in one
invocation (each clean run before its run, each scenario after the one before) and in the next
invocation against the same long-lived automation. Dated from 2026-01-01 in every run, an
automation keeping one "newest timestamp handled" checkpoint (tests/gallery/checkpoint_sync,
``CHECKPOINT=stream``) skipped every event after the clean run's as stale, answered 200: the
run failed ``no_lost_events`` for a loss no hazard caused."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from harness.core._scenario import SyntheticSource
from harness.engine import _dating
from harness.engine._dating import DATED_FROM, DATED_TO, clean_start, dated
from harness.history import load_all

from .conftest import harness_process
from .test_gallery import QUICK, automation, said
from .test_gallery_round23 import WEBHOOK

pytestmark = pytest.mark.integration

# In order, one update at a time: each contact's newest update is its last delivered.
SCENARIO = """\
name: {name}
model: register
source:
  synthetic:
    library: standard-webhooks:contact.updated
    events: 8
    records: 4
    over: 4s
invariants: [no_lost_events]
downstreams:
  - name: crm
    stateful: true
delivery:
  signing: standard-webhooks
  secret_env: WEBHOOK_SECRET
  timeout: 5s
settle: {{quiet: 0.5s, deadline: 20s}}
"""


def _invocation(target: Any, tmp_path: Path, journal: str, *names: str) -> list[dict[str, Any]]:
    """``harness run`` of the scenarios ``names`` (SCENARIO each) in a process of its own,
    journal ``journal`` in ``tmp_path/runs``: the report's runs."""
    paths = []
    for name in names:
        path = tmp_path / f"{name}.yaml"
        path.write_text(SCENARIO.format(name=name))
        paths.append(str(path))
    report = tmp_path / f"{journal}.json"
    done = harness_process(
        "run", *paths, "--target", target.url,
        "--downstream", f"127.0.0.1:{target.downstream_port}", "--seed", "7",
        "--report", str(report), "--journal", str(tmp_path / "runs" / f"{journal}.db"), *QUICK,
        env=WEBHOOK,
    )  # fmt: skip
    assert report.exists(), f"exit {done.code}\n{done.out}\n{done.err}"
    runs: list[dict[str, Any]] = json.loads(report.read_text())["runs"]
    return runs


def _held(run: dict[str, Any]) -> None:
    [lost] = [v for v in run["verdicts"] if v["invariant"] == "no_lost_events"]
    assert lost["status"] == "pass", said(lost)


@pytest.mark.parametrize("checkpoint", ["stream", "contact"])
def test_each_run_is_dated_after_the_run_before_in_one_invocation_and_the_next(
    tmp_path: Path, checkpoint: str
) -> None:
    """Two scenarios in one invocation, then one in the next, against one checkpoint_sync:
    each run's updates (its clean run's too) are dated after every earlier run's, so one
    checkpoint for the stream meets them as new and loses none; nor does one per contact."""
    (tmp_path / "runs").mkdir()
    env = {**WEBHOOK, "CHECKPOINT": checkpoint}
    with automation("checkpoint_sync", "/webhooks/contacts", env) as target:
        first = _invocation(target, tmp_path, "first", "contacts-one", "contacts-two")
        second = _invocation(target, tmp_path, "second", "contacts-three")
    assert len(first) == 2 and len(second) == 1
    for run in (*first, *second):
        _held(run)
    # The dates, in the order the runs were driven: each clean run, then its run.
    spans = []
    for journal in ("first", "second"):
        for history in load_all(tmp_path / "runs" / f"{journal}.db"):
            for run in (history.baseline, history):
                assert run is not None
                settings = run.info.settings
                spans.append((settings[DATED_FROM], settings[DATED_TO]))
                stamps = [
                    datetime.fromisoformat(e.payload["timestamp"])  # type: ignore[index]
                    for e in run.events
                ]
                first_date = datetime.fromisoformat(settings[DATED_FROM])
                assert min(stamps) == first_date, (stamps, settings)
                assert max(stamps) <= datetime.fromisoformat(settings[DATED_TO]), stamps
    starts = [datetime.fromisoformat(s) for s, _ in spans]
    ends = [datetime.fromisoformat(e) for _, e in spans]
    assert all(end < start for end, start in zip(ends, starts[1:], strict=False)), spans
    assert starts[0] > datetime.now(UTC) - timedelta(hours=1), spans


def test_a_fixed_start_and_a_calendars_epoch_are_kept() -> None:
    """A source given its start keeps it (a test's byte-identical payloads), and so does a
    calendar's month (its epoch); a recorded source is not dated."""
    from harness.core._scenario import Scenario

    fixed = datetime(2026, 1, 1, tzinfo=UTC)
    source = SyntheticSource({"id": "e", "key": "k"}, events=2, records=1, over=9.5)
    scenario, settings = dated(Scenario("s", source), None, fixed)
    assert isinstance(scenario.source, SyntheticSource)
    assert scenario.source.dated_from == fixed
    assert settings == {DATED_FROM: fixed.isoformat(), DATED_TO: "2026-01-01T00:00:10+00:00"}
    assert clean_start(scenario) == fixed - timedelta(seconds=11)
    month = SyntheticSource({"id": "e", "key": "k"}, events=2, records=1, over=9.5, epoch=fixed)
    kept, none = dated(Scenario("m", month), None)
    assert kept.source is month and none == {}


def test_a_new_journal_dates_its_runs_after_the_last_one_beside_it(tmp_path: Path) -> None:
    """An invocation's runs may be dated ahead of the wall clock (prepared before the first is
    sent, each after the one before): the next invocation, a process of its own with a
    journal of its own, reads the newest journals beside it and dates its runs after theirs."""
    ahead = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    with closing(sqlite3.connect(tmp_path / "earlier.db")) as db, db:
        db.execute("CREATE TABLE runs (run INTEGER PRIMARY KEY, info TEXT)")
        info = {"settings": {DATED_FROM: ahead.isoformat(), DATED_TO: ahead.isoformat()}}
        db.execute("INSERT INTO runs (info) VALUES (?)", (json.dumps(info),))
    script = (
        "import sys; from pathlib import Path; "
        "from harness.core._scenario import Scenario, SyntheticSource; "
        "from harness.engine._dating import dated; "
        "s = SyntheticSource({'id': 'e', 'key': 'k'}, events=2, records=1, over=5.0); "
        "print(dated(Scenario('s', s), Path(sys.argv[1]))[0].source.dated_from.isoformat())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "new.db")],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    start = datetime.fromisoformat(done.stdout.strip())
    # After the earlier journal's last instant, with room for a clean run of 5 s before it.
    assert start == ahead + timedelta(seconds=1 + 5 + 1), (start, ahead)


def test_a_run_without_a_clean_run_leaves_no_room_for_one() -> None:
    """Dated from now (or after the last run dated): the clean run's room is left only where
    the scenario may have one, so a run of ``--no-baseline`` is not dated ahead of the clock."""
    from harness.core._scenario import Scenario

    source = SyntheticSource({"id": "e", "key": "k"}, events=2, records=1, over=60.0)
    # Now, or after what this process dated before (its other tests' runs), whichever later.
    earliest = datetime.now(UTC).replace(microsecond=0)
    if _dating._LAST:
        earliest = max(earliest, _dating._LAST[0] + timedelta(seconds=1))
    alone, _ = dated(Scenario("alone", source, baseline=False), None)
    with_clean, _ = dated(Scenario("clean", source), None)
    assert isinstance(alone.source, SyntheticSource) and alone.source.dated_from is not None
    assert isinstance(with_clean.source, SyntheticSource)
    assert alone.source.dated_from < earliest + timedelta(seconds=30)  # not 61 s ahead
    # After the one before it, with its clean run's 60 s and a second between each.
    assert with_clean.source.dated_from == alone.source.dated_from + timedelta(seconds=122)
    assert clean_start(with_clean) == alone.source.dated_from + timedelta(seconds=61)
