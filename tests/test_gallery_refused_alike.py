"""An automation's own errors during an outage are not the outage's (tests/gallery/
issue_exports, ``invariants/_refused_alike``).

issue_exports files each GitHub issue with its title in a header sent as Latin-1: an issue
titled in Polish is answered 500, fault or not. The standard suite's downstream-outage blamed
the fault for those 500s too ('17 events refused during a fault window were never accepted and
never got their effects', two of them answered 500 as in the clean run, having made no call the
fault could answer). recovers_after_outage now leaves them out and names them; no_lost_events
counts them lost as it does outside a window (GitHub never sends them again).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core._model import Outcome
from harness.history import load_all

from .conftest import harness
from .test_gallery import QUICK, said
from .test_gallery_round8 import project

pytestmark = pytest.mark.integration

GITHUB = {"GITHUB_WEBHOOK_SECRET": "gallery0refused0alike0not0real"}  # the test's own


def test_issues_refused_for_their_titles_during_an_outage_are_not_blamed_on_it(
    tmp_path: Path,
) -> None:
    with project(tmp_path, "issue_exports", "/hooks/github", GITHUB, "github:issues"):
        # Seed 5: two issues titled in Polish among those sent while the docs store is down.
        done = harness(
            "run", "downstream-outage", "--seed", "5", "--report", "report.json", *QUICK,
            cwd=tmp_path, env=GITHUB,
        )  # fmt: skip
    report = tmp_path / "report.json"
    assert report.exists(), f"exit {done.code}\n{done.out}\n{done.err}"
    [found] = json.loads(report.read_text())["runs"]
    verdicts = {v["invariant"]: v for v in found["verdicts"]}
    [db] = (tmp_path / "harness-runs").glob("*.db")
    [run] = [r for r in load_all(db) if r.baseline is not None]
    assert run.baseline is not None
    [window] = run.faults
    twins = {(e.seq, e.type): e.id for e in run.baseline.events}
    refused_clean = {d.event_id for d in run.baseline.deliveries if d.status == 500}
    called = {i for e in run.effects for i in e.event_ids}
    events = {e.id: e for e in run.events}
    own = {
        d.event_id
        for d in run.deliveries
        if d.status == 500
        and d.sent_at < window.end
        and d.event_id not in called
        and twins.get((events[d.event_id].seq, events[d.event_id].type)) in refused_clean
    }
    assert own, "no issue titled beyond Latin-1 was sent during the outage"
    outage = {d.event_id for d in run.deliveries if d.status == 502}
    assert outage, "the outage refused no issue"
    recovers = verdicts["recovers_after_outage"]
    assert recovers["status"] == "fail", said(recovers)
    blamed = set(recovers["evidence"]["events"])
    assert blamed and blamed <= outage, said(recovers)
    assert not blamed & own, said(recovers)
    own_error = "the automation's own error, not the outage's (no_lost_events judges"
    assert own_error in recovers["summary"], said(recovers)
    lost = verdicts["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert set(lost["evidence"]["events"]) <= own, said(lost)
    assert "refused alike in the clean run, where none was open" in lost["summary"], said(lost)
    assert not {d.event_id for d in run.deliveries if d.outcome is Outcome.OK} & own
