"""Expected effects through real runs: the clean run driven first (or not), and ``harness check``
re-judging a stored run to the same verdicts, offline."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from harness.core._model import Status
from harness.core._scenario import Settle
from harness.engine import Recorder, RunOptions, prepare, run_scenarios
from harness.engine._baseline import pending_rule, prepare_baseline, with_baseline
from harness.history import Journal
from harness.invariants._requests import Request
from harness.scenario._load import resolve

from .conftest import SECRET, free_port, harness
from .test_gallery import SCENARIOS, STRIPE, automation, run, verdicts
from .test_settle import accept_all, post_later
from .test_settle import options as settle_options
from .test_settle import scenario as four_payments

pytestmark = pytest.mark.integration


def _runs(journal: Path) -> list[tuple[str, dict[str, Any]]]:
    with sqlite3.connect(journal) as db:
        rows = db.execute("SELECT run_id, info FROM runs ORDER BY run").fetchall()
    return [(rid, json.loads(info)["settings"]) for rid, info in rows]


def _said(report: dict[str, Any]) -> dict[str, tuple[str, str, list[str]]]:
    return {
        name: (v["status"], v["summary"], v["evidence"]["lines"])
        for name, v in verdicts(report).items()
    }


def test_check_judges_a_stored_run_as_the_run_did(tmp_path: Path) -> None:
    """Learned from the clean run in the same journal: the partial loss, offline too."""
    with automation("seen_first", "/webhooks/stripe", STRIPE) as target:
        done, report = run(
            target, str(SCENARIOS / "stripe-checkout-crm-outage.yaml"), tmp_path, env=STRIPE
        )
    assert done.code == 1
    journal = tmp_path / "journal.db"
    (clean_id, clean), (_, settings) = _runs(journal)
    assert clean["baseline_of"] == "stripe-checkout-crm-outage"
    assert settings["baseline"] == clean_id
    assert settings["routes"] == {"crm": ["POST /contacts", "POST /deals"]}
    live = _said(report)
    assert live["no_lost_events"][0] == "fail"
    assert f"learned from the clean run {clean_id}" in live["no_lost_events"][1]
    assert live["recovers_after_outage"][0] == "fail"
    checked = tmp_path / "check.json"
    again = harness("check", str(journal), "--report", str(checked))
    assert again.code == 1, again.err
    assert _said(json.loads(checked.read_text())) == live


def test_a_declared_expectation_drives_no_clean_run(tmp_path: Path) -> None:
    with automation("seen_first", "/webhooks/stripe", STRIPE) as target:
        done, report = run(
            target,
            str(SCENARIOS / "stripe-checkout-crm-outage-expected.yaml"),
            tmp_path,
            env=STRIPE,
        )
    [(_, settings)] = _runs(tmp_path / "journal.db")
    assert "baseline" not in settings
    assert settings["expect"] == {
        "checkout.session.completed": [
            {"downstream": "crm", "method": "POST", "path": "/contacts", "count": 1},
            {"downstream": "crm", "method": "POST", "path": "/deals", "count": 1},
        ]
    }
    assert "(rule: expected effects declared in expect:)" in _said(report)["no_lost_events"][1]
    assert done.code == 1


def test_no_baseline_falls_back_to_any_effect_and_says_so(tmp_path: Path) -> None:
    with automation("seen_first", "/webhooks/stripe", STRIPE) as target:
        _, report = run(
            target,
            str(SCENARIOS / "stripe-checkout-crm-outage.yaml"),
            tmp_path,
            "--no-baseline",
            env=STRIPE,
        )
    assert len(_runs(tmp_path / "journal.db")) == 1
    status, summary, _ = _said(report)["no_lost_events"]
    # The contact counts as the event's effect: the partial loss goes unseen, and the verdict
    # says by which rule.
    assert status == "pass"
    assert summary.endswith("(rule: any effect — no clean run, no expect:)")


def forwarder_options(journal: Path, monkeypatch: pytest.MonkeyPatch) -> RunOptions:
    """Options of an in-process run of ``tests.asgi_forwarder`` (seed 5) into ``journal``, its
    downstream double on a free port the forwarder is told of."""
    port = free_port()
    monkeypatch.setenv("HARNESS_TEST_DOWNSTREAM", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    return RunOptions.create(
        "tests.asgi_forwarder:app", seed=5, downstream=f"127.0.0.1:{port}", journal=journal
    )


def test_the_settle_loop_can_ask_what_is_still_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``pending_rule`` reads the clean run back from the journal the run writes."""
    journal = tmp_path / "j.db"
    options = forwarder_options(journal, monkeypatch)
    scenario = resolve(["duplicate-storm"])[0]
    (result,) = asyncio.run(run_scenarios([scenario], options))
    clean = result.history.baseline
    assert clean is not None and clean.info.settings["baseline_of"] == "duplicate-storm"
    prepared = with_baseline(prepare(scenario, options), clean.info.run_id)
    exp = pending_rule(prepared, journal).expectation(())
    payout = Request("api", "POST", "/payouts")
    assert {e.id: dict(exp.per_event[e.id]) for e in prepared.events} == {
        e.id: {payout: 1} for e in prepared.events
    }
    events = prepared.events
    accepted = [prepared.delivery(n, 0.0, 0.01, 200) for n in range(len(prepared.schedule))]
    assert exp.outstanding(events, [], []) == 0  # nothing accepted yet: nothing owed
    assert exp.outstanding(events, accepted, []) == len(events)


async def test_a_clean_run_does_not_learn_another_runs_late_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A clean run, recorded with no earlier run to give it back to (a journal judged apart
    from the run before it), receives a payout naming an older run's event besides its own
    four: the run after it, which makes its own four, is not short of a fifth."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    opts = settle_options(tmp_path)
    base = four_payments(Settle(0.2, 5.0))
    older = prepare(base, opts)  # never recorded: only one of its tokens is sent
    run = prepare(base, opts)
    clean = prepare_baseline(run, opts)
    journal = Journal(opts.journal)
    first = Recorder(clean, opts, journal)
    [url] = await first.start()
    accept_all(first, clean)
    await post_later(url, [*clean.events, older.events[0]], [0] * 5)
    await first.settle()
    await first.stop("complete")
    judged = with_baseline(run, clean.info.run_id)
    second = Recorder(judged, opts, journal)
    [url] = await second.start()
    accept_all(second, judged)
    await post_later(url, judged.events, [0] * 4)
    await second.settle()
    await second.stop("complete")
    journal.close()
    [lost] = [v for v in second.judge().verdicts if v.invariant == "no_lost_events"]
    assert lost.status is Status.PASS, lost.summary
    assert "1 write in the clean run left out: they carry another run's tracer token" in (
        lost.summary
    )
