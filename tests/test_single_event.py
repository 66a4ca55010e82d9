"""A write naming only its record, taken as the record's single event's (``_single_event``).

Orders paid out ``POST /payouts {"order_id": …}``: the order is the record, nothing of the event
is in the request. Where the order had one event in the run, each payout made once that event
was genuinely sent is that event's: every invariant judges it per event, and says the payouts
were taken by their record. A payout made before the event was sent, or after it was sent only
tampered, stays the record's; a record of two events is judged per record as before; a single
event that made no payout is lost.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from harness.core._build import builder
from harness.core._model import Delivery, Effect, Event, Outcome, Status
from harness.core._text_effect import TextEffect, headers_held, naming
from harness.history import History
from harness.invariants import judge
from harness.invariants._facts import Facts
from harness.report.json import report_dict

from .test_duplicates_unattributed import ok, run
from .test_record_attribution import verdict_of

TAKEN = "effects naming only their record were taken as its single event's (POST /payouts"


def orders(tag: str, n: int = 4, per: int = 1) -> list[Event]:
    """``n`` orders, ``per`` payments each."""
    return [
        Event(f"evt_{tag}e{s}", f"ord_{tag}k{s // per}", s, "order.paid", 0.0, {})
        for s in range(n * per)
    ]


def payout(event: Event, at: float | None = None, n: int = 1) -> Effect:
    """The order paid out, by its id only, half a second after its event was sent."""
    body = json.dumps({"order_id": event.key, "amount": 1999})
    when = event.seq + 0.5 if at is None else at
    return Effect(f"eff_{event.seq}_{n}", "tracker", when, "POST", "/payouts", {}, body, 201,
                  (), event.key)  # fmt: skip


def paid(
    tag: str,
    events: Sequence[Event],
    effects: Sequence[Effect],
    deliveries: Sequence[Delivery] | None = None,
    baseline: History | None = None,
) -> History:
    return run(
        events,
        [ok(e) for e in events] if deliveries is None else deliveries,
        effects,
        tag=tag,
        baseline=baseline,
    )


def clean(per: int = 1) -> History:
    twins = orders("zqclean", per=per)
    return paid("zqclean", twins, [payout(e) for e in twins])


def test_each_payout_is_its_orders_single_events() -> None:
    events = orders("zqrun")
    h = paid("zqrun", events, [payout(e) for e in events], baseline=clean())
    facts = Facts(h)
    assert {e.id: w.id for e, w in zip(events, facts.effects_in_order, strict=True)} == {
        eid: w.id for eid, w in facts.first_write.items()
    }
    assert not facts.record_only
    assert all(not e.event_ids for e in h.effects)  # the History as recorded is left alone
    for name in ("no_lost_events", "no_duplicate_effects"):
        v = verdict_of(h, name)
        assert v.status is Status.PASS, v.summary
        assert (
            f"4 {TAKEN} (4): the record had a single event in the run, sent before them)"
        ) in v.summary
    v = verdict_of(h, "no_lost_events")
    assert "compared per record" not in v.summary, v.summary  # the clean run's taken too


def test_a_single_event_that_made_no_payout_is_lost() -> None:
    events = orders("zqrun")
    h = paid("zqrun", events, [payout(e) for e in events[:3]], baseline=clean())
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 4 accepted events produced no effect (lost)"), v.summary
    assert v.evidence.event_ids == ("evt_zqrune3",), v.evidence


def test_an_order_paid_twice_by_its_event_delivered_twice_is_a_duplicate() -> None:
    """The event delivered twice, paid each time: two payouts of one event."""
    events = orders("zqrun")
    twice = events[1]
    deliveries = [ok(e) for e in events] + [ok(twice, 2)]
    effects = [payout(e) for e in events] + [payout(twice, at=twice.seq + 0.6, n=2)]
    h = paid("zqrun", events, effects, deliveries, baseline=clean())
    v = verdict_of(h, "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == (twice.id,), v.evidence
    assert f"5 {TAKEN}" in v.summary, v.summary


def test_a_payout_made_before_its_order_was_sent_is_not_its_events() -> None:
    """Made before the order's only event was sent: not that event's (an earlier run's late
    work may name the same order); it stays the record's, and the summary says why."""
    events = orders("zqrun")
    effects = [payout(e) for e in events[:3]] + [payout(events[3], at=events[3].seq - 0.5)]
    h = paid("zqrun", events, effects, baseline=clean())
    facts = Facts(h)
    assert [e.id for e in facts.record_only] == ["eff_3_1"]
    assert "evt_zqrune3" not in facts.first_write
    v = verdict_of(h, "no_lost_events")
    assert (
        "1 effect names only its record (POST /payouts (1); the record named had a single "
        "event; 1 made before their record's single event was first sent)"
    ) in v.summary, v.summary
    assert f"3 {TAKEN}" in v.summary, v.summary


def test_a_payout_after_its_order_came_only_forged_is_not_its_events() -> None:
    """An order whose only delivery was forged: the attacker's request, not the sender's event
    (rejects_forged judges it); the payout after it stays the record's."""
    events = orders("zqrun")
    h = paid("zqrun", events, [payout(e) for e in events], baseline=clean())
    forged = ok(events[2]).id
    h.info = replace(h.info, settings={**h.info.settings, "tampered": {forged: "forged"}})
    facts = Facts(h)
    assert [e.id for e in facts.record_only] == ["eff_2_1"]
    v = verdict_of(h, "no_lost_events")
    assert "1 after a single event sent only tampered" in v.summary, v.summary


def test_a_record_of_two_events_and_one_payout_stays_the_records() -> None:
    """Two payments of one order, one payout: which payment's, nothing says — judged per record
    as before, and lost per record."""
    events = orders("zqrun", per=2)
    effects = [payout(e) for e in events if e.seq != 7]  # order 3's second payment unpaid
    h = paid("zqrun", events, effects, baseline=clean(per=2))
    facts = Facts(h)
    assert len(facts.record_only) == 7 and not facts.first_write
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 record short of POST /payouts (per record)"), v.summary
    assert TAKEN not in v.summary, v.summary


def test_a_late_payout_of_a_single_event_order_is_late_not_lost() -> None:
    """Its payout came after the final state (a late effect, never judged): late, not lost."""
    events = orders("zqrun")
    h = paid("zqrun", events, [payout(e) for e in events[:3]], baseline=clean())
    h.late_effects = [payout(events[3], at=40.0)]
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "late, not lost" in v.summary, v.summary


def test_refused_deliveries_still_open_the_window() -> None:
    """The order's first delivery refused (503), its payout made while handling it: the
    event's, though only a later delivery was accepted."""
    events = orders("zqrun")
    first = events[0]
    refused = Delivery("dlv_r", first.id, 1, 0.0, 0.0, 0.05, 503, Outcome.FAILED)
    deliveries = [refused, *(ok(e, 2 if e is first else 1) for e in events)]
    h = paid("zqrun", events, [payout(e, at=e.seq + 0.01) for e in events], deliveries)
    assert Facts(h).first_write[first.id].id == "eff_0_1"


def test_the_report_counts_apart_only_the_payouts_not_taken() -> None:
    """Three payouts taken as their order's payment's, one made before it was sent: the report
    counts the one as naming only its record, and its advice names its route once."""
    events = orders("zqrun")
    effects = [payout(e) for e in events[:3]] + [payout(events[3], at=events[3].seq - 0.5)]
    h = paid("zqrun", events, effects, baseline=clean())
    doc = report_dict([(h, judge(h))])
    assert doc["runs"][0]["counts"]["effects_naming_only_their_record"] == 1
    advice = {a["key"]: a for a in doc["handoff"]["advice"]}
    assert "POST /payouts (1)" in advice["record_only"]["seen_in"][0], advice["record_only"]


def test_orders_of_several_payments_naming_none_keep_per_key_order_inconclusive() -> None:
    """Most orders paid twice, their payouts naming only the order; one order paid once. Its
    payout, taken as its payment's, orders nothing: per_key_order stays inconclusive for the
    payouts that name no payment, and says both."""
    once = Event("evt_zqrune6", "ord_zqrunk3", 6, "order.paid", 0.0, {})
    events = [*orders("zqrun", n=3, per=2), once]
    h = paid("zqrun", events, [payout(e) for e in events])
    v = verdict_of(h, "per_key_order")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "none of the 7 effects names an event: 6 effects name only their record (POST /payouts "
        "(6); 3 of 3 records named had several events), which does not tell which of its events "
        "each was for; 1 effect naming only its record was taken as its single event's"
    ), v.summary


def test_a_loaded_effect_named_keeps_its_headers_as_text() -> None:
    """A journal's effect holds its headers as JSON text until read: named, it still does."""
    loaded = builder(Effect, TextEffect)(
        "eff_1", "tracker", 0.5, "POST", "/payouts", '{"Idempotency-Key": "k1"}', "{}", 201, (),
        "ord_1", True,
    )  # fmt: skip
    named = naming(loaded, ("evt_1",))
    assert type(named) is TextEffect and named.event_ids == ("evt_1",)
    assert headers_held([named]) == ['{"Idempotency-Key": "k1"}']  # not decoded
    assert named == replace(loaded, event_ids=("evt_1",))
    assert named.header("idempotency-key") == "k1"


def test_orders_of_several_payments_naming_none_say_what_the_taken_payouts_showed() -> None:
    """no_duplicate_effects beside the same run: the taken payout is judged per event (it said
    'no write names an event' of a run where one did)."""
    once = Event("evt_zqrune6", "ord_zqrunk3", 6, "order.paid", 0.0, {})
    events = [*orders("zqrun", n=3, per=2), once]
    twins = [*orders("zqclean", n=3, per=2), replace(once, id="evt_zqcleane6", key="ord_zqcleank3")]
    clean_run = paid("zqclean", twins, [payout(e) for e in twins])
    v = verdict_of(paid("zqrun", events, [payout(e) for e in events], baseline=clean_run),
                   "no_duplicate_effects")  # fmt: skip
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith("no event produced a repeated effect (1 effect over 1 event)")
