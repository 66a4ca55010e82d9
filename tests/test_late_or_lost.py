"""Late or lost, at the edges: what a clean run that stopped watching too soon does to the other
verdicts (recovers_after_outage), the register model, records a late effect names, refused
twins, the wording, and how often settling learns the expectation again."""

from __future__ import annotations

import pytest

from harness.core._model import Delivery, Event, Fault, Model, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.engine import _baseline as baseline
from harness.engine._baseline import PendingAsJudged
from harness.history import History
from harness.invariants import judge
from harness.invariants._expected import learn

from .test_expected import CHECKOUT, _settled, clean_run, ev, lost, ok, refused, run, write

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
    assert pending(events, effects, {}) == set()
    for e in events[1:]:
        effects = [*effects, write("/audit", [e], downstream="log")]
        assert pending(events, effects, {}) == set()
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


def test_a_type_the_clean_run_never_sent_and_nothing_acted_on_is_not_called_lost() -> None:
    """The year's new event type (``enum-value-added``, from 9 August): the clean run, made of
    January's kind, has none of it; a receiver that ignores types it does not handle (2xx,
    nothing done, as Stripe advises) had half of five months "lost" ('331 of 662 accepted
    events produced no effect'), by the any-effect rule. Nothing tells ignoring from losing a
    type whole: inconclusive, saying how to say which. One of them acting makes the others
    owed."""
    twins = [ev("zqclean", i) for i in (1, 2)]
    clean = clean_run(twins, [write("/shipments", [t]) for t in twins])
    events = [ev("zqrun", 1), ev("zqrun", 2), ev("zqrun", 3, f"{CHECKOUT}.v2")]
    deliveries = [ok(e) for e in events]
    shipped = [write("/shipments", [e]) for e in events[:2]]
    v = lost(run(events, deliveries, shipped, tag="zqrun", baseline=clean))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert (
        f"1 event of a type the clean run never sent ({CHECKOUT}.v2) made no effect, none of "
        "them: an automation that ignores a type it does not handle"
    ) in v.summary, v.summary
    assert "the clean run sent none of their type" in v.summary, v.summary
    more = [*events, ev("zqrun", 4, f"{CHECKOUT}.v2")]
    acted = [*shipped, write("/shipments", more[3:])]
    v = lost(run(more, [ok(e) for e in more], acted, tag="zqrun", baseline=clean))
    assert v.status is Status.FAIL, v.summary
    assert events[2].id in v.evidence.event_ids, v.summary


def _two_updates(tag: str) -> list[Event]:
    """Records A and B, two events each, A's first."""
    return [ev(tag, n, key=f"cus_{tag}k{k}") for n, k in ((1, "a"), (2, "a"), (3, "b"), (4, "b"))]


def test_a_ledger_put_made_after_the_records_newest_event_is_not_counted_lost() -> None:
    """float_balance under downstream-outage: each invoice adds to a running balance, written
    whole by PUT /customers/{id}/balance (naming only the customer). Record A: its first PUT
    refused, its second (the balance of both) written after its newest invoice was sent — it
    was counted among the records 'short of PUT', a loss the run cannot show. Record B: its
    first written, its newest refused — lost."""
    twins = _two_updates("zqclean")
    puts = [
        write("/contacts/x", method="PUT", key=t.key, at=float(n) + 0.5)
        for n, t in enumerate(twins)
    ]
    clean = clean_run(twins, puts)
    events = _two_updates("zqrun")
    a, b = events[0].key, events[2].key
    deliveries = [ok(e, at=float(n)) for n, e in enumerate(events)]
    replaced = [
        write("/contacts/x", method="PUT", key=a, at=0.5, status=503),
        write("/contacts/x", method="PUT", key=a, at=1.5),
    ]
    whole = [write("/contacts/x", method="PUT", key=b, at=n + 0.5) for n in (2.0, 3.0)]
    v = lost(run(events, deliveries, replaced + whole, tag="zqrun", baseline=clean))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "not judged: 1 record got fewer PUT /contacts/{id} than its clean twin, the last of "
        f"them after its newest event was first sent (record {a}: 1 PUT /contacts/{{id}} of "
        "its clean twin's 2, the last after its newest event was first sent): a PUT replaces"
    ), v.summary
    stale = [
        write("/contacts/x", method="PUT", key=b, at=2.5),
        write("/contacts/x", method="PUT", key=b, at=3.5, status=503),
    ]
    v = lost(run(events, deliveries, replaced + stale, tag="zqrun", baseline=clean))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 record short of PUT /contacts/{id}"), v.summary
    assert "not counted as lost: 1 record got fewer PUT /contacts/{id}" in v.summary


def test_a_register_record_its_clean_twin_left_on_an_older_write_is_not_short() -> None:
    """An automation that writes a contact only when an update changes something it keeps:
    in the clean run too, each record's newest update wrote nothing. A record written only
    before its newest update is then what the automation does, not a loss."""
    twins = _two_updates("zqclean")
    firsts = [write("/contacts/x", method="PUT", key=t.key, at=n + 0.5) for n, t in
              ((0.0, twins[0]), (2.0, twins[2]))]  # fmt: skip
    clean = clean_run(twins, firsts, model=Model.REGISTER)
    events = _two_updates("zqrun")
    deliveries = [ok(e, at=float(n)) for n, e in enumerate(events)]
    same = [write("/contacts/x", method="PUT", key=e.key, at=n + 0.5) for n, e in
            ((0.0, events[0]), (2.0, events[2]))]  # fmt: skip
    v = lost(run(events, deliveries, same, tag="zqrun", baseline=clean, model=Model.REGISTER))
    assert v.status is Status.PASS, v.summary
    # Its twin written after its newest update: this record's older write alone is short.
    clean = clean_run(twins, [*firsts, write("/contacts/x", method="PUT", key=twins[1].key,
                                             at=1.5)], model=Model.REGISTER)  # fmt: skip
    v = lost(run(events, deliveries, same, tag="zqrun", baseline=clean, model=Model.REGISTER))
    assert v.status is Status.FAIL, v.summary
    assert f"record {events[0].key}: its newest accepted event {events[1].id}" in str(
        v.evidence.lines
    ), v.summary


def test_a_type_the_clean_run_sent_at_other_seqs_is_not_called_never_sent() -> None:
    """``untaught`` is for a type the clean run never sent; a type it sent and acted on, whose
    events here all fall past its last event (a year month longer than its 200), has no twin
    of its own, yet was taught: all of them acting on nothing is a loss, not 'a type the
    clean run never sent'."""
    twins = [ev("zqclean", 1), ev("zqclean", 2, "invoice.paid")]
    clean = clean_run(twins, [write("/shipments", [t]) for t in twins])
    events = [ev("zqrun", 1), ev("zqrun", 2), ev("zqrun", 3, "invoice.paid")]
    shipped = [write("/shipments", [e]) for e in events[:2]]
    v = lost(run(events, [ok(e) for e in events], shipped, tag="zqrun", baseline=clean))
    assert v.status is Status.FAIL, v.summary
    assert "never sent" not in v.summary, v.summary
    assert events[2].id in v.evidence.event_ids, v.summary


def test_a_forged_copy_refused_before_the_newest_event_does_not_hide_its_loss() -> None:
    """The newest event's first send is when the target could first act on it: a forged copy
    it refused (401) cannot have started that event's write. Record A's newest update: a
    forged copy refused at 0.2 s, the genuine one accepted at 1 s and dropped; A's only write
    came at 0.5 s, for its older update — timed against the forged copy, it passed as the
    newest event's."""
    twins = _two_updates("zqclean")
    puts = [write("/contacts/x", method="PUT", key=t.key, at=n + 0.5) for n, t in enumerate(twins)]
    clean = clean_run(twins, puts, model=Model.REGISTER)
    events = _two_updates("zqrun")
    a = events[0].key
    forged = Delivery(f"dlv_{events[1].id}_f", events[1].id, 1, 0.2, 0.2, 0.21, 401,
                      Outcome.REJECTED)  # fmt: skip
    deliveries = [forged, *(ok(e, at=float(n)) for n, e in enumerate(events))]
    older = [write("/contacts/x", method="PUT", key=e.key, at=n + 0.5) for n, e in
             ((0.0, events[0]), (2.0, events[2]), (3.0, events[3]))]  # fmt: skip
    h = run(events, deliveries, older, tag="zqrun", baseline=clean, model=Model.REGISTER,
            settings={"tampered": {forged.id: "forged"}})  # fmt: skip
    v = lost(h)
    assert v.status is Status.FAIL, v.summary
    assert f"record {a}: its newest accepted event {events[1].id} was first sent 1.00 s" in str(
        v.evidence.lines
    ), v.evidence.lines


def test_recovers_after_outage_does_not_fail_a_ledger_put_made_after_the_outage() -> None:
    """float_balance under downstream-outage: record A's two invoices came during the outage,
    the first PUT of its running balance refused 503, the second (the sum of both) written
    after it. no_lost_events: not known (``Shortfalls.replaced``), the last PUT may carry the
    missing one's part. recovers_after_outage counted A among the records short and said one
    of its events did not recover."""
    twins = _two_updates("zqclean")
    puts = [write("/contacts/x", method="PUT", key=t.key, at=n + 0.5) for n, t in enumerate(twins)]
    clean = clean_run(twins, [*puts, *(write("/deals", [t], at=n + 0.4) for n, t in
                                       enumerate(twins))])  # fmt: skip
    events = _two_updates("zqrun")
    a, b = events[0].key, events[2].key
    deliveries = [ok(events[0], at=1.1), ok(events[1], at=1.6), ok(events[2], at=4.0),
                  ok(events[3], at=5.0)]  # fmt: skip
    effects = [
        write("/contacts/x", method="PUT", key=a, at=1.2, status=503),
        write("/contacts/x", method="PUT", key=a, at=3.5),
        *(write("/contacts/x", method="PUT", key=b, at=n) for n in (4.5, 5.5)),
        *(
            write("/deals", [e], at=d.sent_at + 0.05)
            for e, d in zip(events, deliveries, strict=True)
        ),
    ]
    h = run(events, deliveries, effects, tag="zqrun", baseline=clean)
    h.faults = [OUTAGE]
    assert lost(h).status is Status.INCONCLUSIVE
    v = recovers(h)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "whether the events the outage met recovered is not known: 1 record got fewer PUT "
        "/contacts/{id} than its clean twin, the last of them after its newest event was first"
    ), v.summary


def test_a_clean_twin_silent_only_because_the_clean_run_was_cut_does_not_pass_the_record() -> None:
    """owed_newest drops a record written only before its newest event when its clean twin got
    no write after its own newest event either. A clean run cut at its deadline while its
    target still worked (0.1 s idle, quiet 1 s) did not see its twin's last write: that
    silence teaches nothing, and record A, its newest update dropped here, must not pass."""
    twins = _two_updates("zqclean")
    seen = [write("/contacts/x", method="PUT", key=twins[n].key, at=n + 0.5) for n in (0, 2, 3)]
    clean = _settled(clean_run(twins, seen, model=Model.REGISTER), "deadline", 0.1)
    events = _two_updates("zqrun")
    deliveries = [ok(e, at=float(n)) for n, e in enumerate(events)]
    older = [write("/contacts/x", method="PUT", key=events[n].key, at=n + 0.5) for n in (0, 2, 3)]
    v = lost(run(events, deliveries, older, tag="zqrun", baseline=clean, model=Model.REGISTER))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "not judged: 1 record got no PUT /contacts/{id} after its newest event was first sent, "
        f"nor did its clean twin after its own (record {events[0].key}: no PUT /contacts/{{id}} "
        "after its newest event was first sent), but the clean run stopped watching before the "
        "target was done"
    ), v.summary
