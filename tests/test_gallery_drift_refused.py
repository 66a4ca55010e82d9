"""A drifted event the automation refuses for a reason of its own, as it refused its clean twin
(tests/gallery/issue_exports: an issue titled beyond Latin-1 is answered 500, drifted or not,
fault or not; GitHub never redelivers it).

``_deferred`` left every drifted event to drift_is_loud, which counted a 500 "rejected loudly
(no_server_errors judges 5xx)": the issue, lost in production, was judged lost nowhere —
no_lost_events passed ("11 events never accepted by the target (not counted as lost)"). A
drifted event refused as its undrifted twin was is not refused for its drift: no_lost_events
judges it, and drift_is_loud says it shows nothing of the drift.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.drive._drift import drifted_events
from harness.history import load_all

from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration

GITHUB = {"GITHUB_WEBHOOK_SECRET": "gallery0drift0refused0not0real"}  # the test's own


def test_a_drifted_issue_refused_as_its_clean_twin_was_is_judged_lost_not_loud(
    tmp_path: Path,
) -> None:
    scenario = str(SCENARIOS / "github-issues-drifted-outage.yaml")
    with automation("issue_exports", "/hooks/github", GITHUB) as target:
        done, report = run(target, scenario, tmp_path, env=GITHUB)
    found = verdicts(report)
    [h] = load_all(tmp_path / "journal.db")
    assert h.baseline is not None
    twins = {(e.seq, e.type): e.id for e in h.baseline.events}
    refused_clean = {d.event_id for d in h.baseline.deliveries if d.status == 500}
    drifted = drifted_events(h.info.settings)
    answers: dict[str, set[int | None]] = {}
    for d in h.deliveries:
        answers.setdefault(d.event_id, set()).add(d.status)
    alike = {
        e.id
        for e in h.events
        if e.id in drifted
        and answers.get(e.id) == {500}
        and twins.get((e.seq, e.type)) in refused_clean
    }
    # Seed 7: one issue titled beyond Latin-1 among the drifted, before the outage.
    assert alike, "no drifted issue was refused 500 as its clean twin was"
    lost = found["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert alike <= set(lost["evidence"]["events"]), said(lost)
    assert "GitHub does not redeliver what the target refuses: lost in production" in said(lost)
    drift = found["drift_is_loud"]
    assert f"{len(alike)} refused as their undrifted clean twins were" in drift["summary"], said(
        drift
    )
    assert "rejected loudly" not in drift["summary"], said(drift)
    assert done.code == 1
