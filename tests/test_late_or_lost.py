"""Late or lost, at the edges: what a clean run that stopped watching too soon does to the other
verdicts (recovers_after_outage), the register model, records a late effect names, refused
twins, the wording, and how often settling learns the expectation again."""

from __future__ import annotations

import pytest

from harness.core._model import Fault, Model, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.engine import _baseline as baseline
from harness.engine._baseline import PendingAsJudged
from harness.history import History
from harness.invariants import judge
from harness.invariants._expected import learn

from .test_expected import _settled, clean_run, ev, lost, ok, refused, run, write

OUTAGE = Fault("crm", "status", 1.0, 3.0, {"status": 503})


def recovers(h: History) -> Verdict:
    [v] = judge(h, [InvariantSpec("recovers_after_outage")])
    return v


def test_recovers_after_outage_does_not_fail_what_the_clean_run_did_not_see() -> None:
    """The clean run (cut at its deadline, target still working) paid out for twins 1-2 and
    left twin 3 alone. Here event 3, accepted during the outage, makes nothing either — as
    the automation may skip it by design. no_lost_events says what it owes is not known
    (inconclusive); recovers_after_outage must not call it unrecovered. Before b331816 it was
    'ignored by design' and not judged."""
    twins = [ev("zqclean", i) for i in (1, 2, 3)]
    clean = _settled(clean_run(twins, [write("/deals", [t]) for t in twins[:2]]), "deadline", 0.1)
    events = [ev("zqrun", i) for i in (1, 2, 3)]
    deliveries = [ok(events[0], at=1.2), ok(events[1]), ok(events[2], at=1.3)]
    effects = [
        write("/deals", events[1:2], at=0.2),
        write("/deals", events[:1], at=1.5, status=503),  # the outage answered it
        write("/deals", events[:1], at=3.5),  # and it recovered
    ]
    h = run(events, deliveries, effects, tag="zqrun", baseline=clean)
    h.faults = [OUTAGE]
    assert lost(h).status is Status.INCONCLUSIVE  # event 3: what it owes is not known
    v = recovers(h)
    assert v.status is not Status.FAIL, v.summary


def test_register_any_rule_keeps_the_clean_runs_unseen_events_out_of_the_loss() -> None:
    """The clean run was cut at its deadline before its queue made any effect: every type is
    judged by any effect and its events are 'unseen'. Ledger: inconclusive. Register must say
    the same, not FAIL (``_register`` passes exp=None to ``_doubted``)."""
    twins = [ev("zqclean", i) for i in (1, 2)]
    events = [ev("zqrun", i) for i in (1, 2)]
    for model in (Model.LEDGER, Model.REGISTER):
        clean = _settled(clean_run(twins, [], model=model), "deadline", 0.1)
        h = run(
            events,
            [ok(e) for e in events],
            [write("/deals", events[:1])],
            tag="zqrun",
            baseline=clean,
            model=model,
        )
        assert learn(h.info, events, clean, h.effects).unseen == {e.id for e in events}
        v = lost(h)
        assert v.status is Status.INCONCLUSIVE, (model, v.summary)


def test_a_late_effect_naming_the_record_clears_its_per_record_shortfall() -> None:
    """The clean run wrote POST /ledger naming only the record. Here record 2's ledger line
    arrived after the final state (a late effect claimed by its record tracer: key, no event):
    late, not lost — not a FAIL."""
    twins = [ev("zqclean", i) for i in (1, 2)]
    clean = clean_run(twins, [write("/ledger", key=t.key) for t in twins])
    events = [ev("zqrun", i) for i in (1, 2)]
    h = run(
        events,
        [ok(e) for e in events],
        [write("/ledger", key=events[0].key)],
        tag="zqrun",
        baseline=clean,
    )
    assert lost(h).status is Status.FAIL  # record 2 short of its ledger line: lost
    h.late_effects = [write("/ledger", key=events[1].key, at=40.0)]
    v = lost(h)
    assert v.status is not Status.FAIL, v.summary


def test_a_refused_twin_in_a_cut_clean_run_still_owes_its_types_work() -> None:
    """Twin 3 was refused by the clean run: it teaches nothing of event 3 whether or not the
    clean run was cut; event 3 owes its type's work (by_type) either way. Uncut: FAIL. Cut
    (target still working): still FAIL — the cut says nothing of a twin never accepted — and
    the summary must not claim its twin 'made no effect while the clean run watched'."""
    twins = [ev("zqclean", i) for i in (1, 2, 3)]
    effects = [write("/deals", [t]) for t in twins[:2]]
    delivered = [ok(twins[0]), ok(twins[1]), refused(twins[2])]
    events = [ev("zqrun", i) for i in (1, 2, 3)]

    def judged(clean: History) -> Verdict:
        h = run(
            events,
            [ok(e) for e in events],
            [write("/deals", [e]) for e in events[:2]],
            tag="zqrun",
            baseline=clean,
        )
        return lost(h)

    uncut = run(twins, delivered, effects, tag="zqclean")
    assert judged(uncut).status is Status.FAIL
    cut = _settled(run(twins, delivered, effects, tag="zqclean"), "deadline", 0.1)
    v = judged(cut)
    assert v.status is Status.FAIL, v.summary


def test_settling_does_not_relearn_for_writes_that_cannot_change_the_expectation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """refunds are ignored by design (their clean twins made nothing). Here the automation logs
    an audit line for each refund it skips: a request the clean run never made, which by
    ``_acted_here`` can never make the type owed work. Yet each such write makes the pending
    rule learn the whole expectation again (learn() over every event: seconds at 1M events,
    on the doubles' event loop), at every pending() call that sees a new one."""
    twins = [
        ev("zqclean", 1),
        ev("zqclean", 2, "charge.refunded"),
        ev("zqclean", 3, "charge.refunded"),
    ]
    clean = clean_run(twins, [write("/deals", twins[:1])])
    events = [ev("zqrun", 1), ev("zqrun", 2, "charge.refunded"), ev("zqrun", 3, "charge.refunded")]
    h = run(events, [ok(e) for e in events], [], tag="zqrun", baseline=clean)
    calls: list[int] = []
    real = baseline.learn
    monkeypatch.setattr(baseline, "learn", lambda *a: calls.append(1) or real(*a))
    pending = PendingAsJudged(h.info, lambda: events, clean)
    effects = [write("/deals", events[:1])]
    assert pending(events, effects) == set()
    for e in events[1:]:
        effects = [*effects, write("/audit", [e], downstream="log")]
        assert pending(events, effects) == set()
    assert len(calls) == 1, f"learned {len(calls)} times"


def test_a_clean_run_with_late_effects_teaches_no_silence_for_twins_they_do_not_name() -> None:
    """docs/invariants.md: a clean run whose effects arrived after its final state stopped
    watching before its target was done and 'teaches no silence'. Its queue paused past twice
    the quiet ('pending'), twin 3's payout came late, twin 4's was still queued behind it. Here
    event 4 makes nothing: its loss is not proven, but neither is its skip — the code still
    learns twin 4's silence as design, and the verdict PASSes what it could not see."""
    twins = [ev("zqclean", i) for i in (1, 2, 3, 4)]
    clean = _settled(clean_run(twins, [write("/deals", [t]) for t in twins[:2]]), "pending", 2.0)
    clean.late_effects = [write("/deals", twins[2:3], at=40.0)]
    events = [ev("zqrun", i) for i in (1, 2, 3, 4)]
    h = run(
        events,
        [ok(e) for e in events],
        [write("/deals", [e]) for e in events[:3]],
        tag="zqrun",
        baseline=clean,
    )
    v = lost(h)
    assert v.status is not Status.PASS, v.summary


def test_unseen_events_are_not_said_to_have_had_their_clean_run_refused() -> None:
    """The clean run (cut) accepted all four checkouts and paid out for two: the summary must
    not say the other two's 'own clean run was refused' (Expectation.by_type's note)."""
    twins = [ev("zqclean", i) for i in (1, 2, 3, 4)]
    clean = _settled(clean_run(twins, [write("/deals", [t]) for t in twins[:2]]), "deadline", 0.1)
    events = [ev("zqrun", i) for i in (1, 2, 3, 4)]
    h = run(
        events,
        [ok(e) for e in events],
        [write("/deals", [e]) for e in events],
        tag="zqrun",
        baseline=clean,
    )
    v = lost(h)
    assert v.status is Status.PASS
    assert "was refused" not in v.summary, v.summary
