"""Expected effects (invariants/_expected.py): learned from a clean run or declared, and
``no_lost_events`` judged against them at the event, record and run levels, over hand-built
Histories."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pytest

from harness.core._model import (
    SETTLED_MARK,
    Delivery,
    Effect,
    Event,
    Model,
    Outcome,
    Status,
    Verdict,
)
from harness.core._scenario import (
    DownstreamSpec,
    ExpectedRequest,
    ExpectSpec,
    InvariantSpec,
    Route,
    Scenario,
    SyntheticSource,
)
from harness.history import History, Mark, RunInfo
from harness.invariants import judge
from harness.invariants._expected import (
    Rule,
    TypeRule,
    expect_specs,
    learn,
    missing_expected,
    scenario_settings,
)
from harness.invariants._requests import Request, normalise

ROUTES = {"crm": ["POST /contacts", "POST /deals", "PUT /contacts/{id}"]}
CHECKOUT = "checkout.session.completed"


def ev(tag: str, seq: int, type_: str = CHECKOUT, key: str | None = None) -> Event:
    return Event(f"evt_{tag}e{seq}", key or f"cs_{tag}k{seq}", seq, type_, 0.0, {})


def ok(event: Event, n: int = 1, at: float = 0.0) -> Delivery:
    return Delivery(f"dlv_{event.id}_{n}", event.id, n, at, at, at + 0.01, 200, Outcome.OK)


def refused(event: Event, at: float = 0.0) -> Delivery:
    return Delivery(f"dlv_{event.id}_x", event.id, 1, at, at, at + 0.01, 500, Outcome.FAILED)


_N = iter(range(1, 1_000_000))


def write(
    path: str,
    events: Sequence[Event] = (),
    *,
    method: str = "POST",
    key: str | None = None,
    at: float = 0.5,
    status: int = 201,
    downstream: str = "crm",
) -> Effect:
    return Effect(
        f"eff_{next(_N)}",
        downstream,
        at,
        method,
        path,
        {},
        "{}",
        status,
        tuple(e.id for e in events),
        key if key is not None else (events[0].key if events else None),
        committed=status < 400,
    )


def run(
    events: Sequence[Event],
    deliveries: Sequence[Delivery],
    effects: Sequence[Effect],
    *,
    tag: str,
    baseline: History | None = None,
    settings: Mapping[str, Any] | None = None,
    model: Model = Model.LEDGER,
) -> History:
    base: dict[str, Any] = {"routes": ROUTES}
    if baseline is not None:
        base["baseline"] = baseline.info.run_id
    info = RunInfo(
        f"run@{tag}",
        "checkout",
        1,
        "http://127.0.0.1:1/",
        "t",
        model,
        (InvariantSpec("no_lost_events"),),
        "",
        tag,
        settings={**base, **(settings or {})},
    )
    h = History(info, list(events), list(deliveries), list(effects))
    h.baseline = baseline
    return h


def clean_run(events: Sequence[Event], effects: Sequence[Effect], **kw: Any) -> History:
    """A clean run of ``events``: each delivered once, one at a time, a second apart."""
    deliveries = [ok(e, at=float(n)) for n, e in enumerate(events)]
    return run(events, deliveries, effects, tag="zqclean", **kw)


def lost(h: History) -> Verdict:
    [v] = judge(h, [InvariantSpec("no_lost_events")])
    return v


def checkout_pair(n: int = 3) -> tuple[list[Event], History]:
    """n checkout events, and a clean run that made a contact and a deal for each."""
    twins = [ev("zqclean", i) for i in range(1, n + 1)]
    effects = [w for e in twins for w in (write("/contacts", [e]), write("/deals", [e]))]
    return [ev("zqrun", i) for i in range(1, n + 1)], clean_run(twins, effects)


# -- route templates --------------------------------------------------------------------------


def test_normalise_turns_id_segments_into_one_template() -> None:
    assert normalise("/contacts/zqabce3") == normalise("/contacts/zqxyze7") == "/contacts/{id}"
    assert normalise("/v1/contacts/ada@example.com?x=1") == "/v1/contacts/{id}"
    assert normalise("/v2/orders/ord_zqabck12/lines") == "/v2/orders/{id}/lines"


def test_requests_take_the_stub_route_template_else_the_normalised_path() -> None:
    events, clean = checkout_pair(1)
    exp = learn(run(events, [], [], tag="zqrun").info, events, clean)
    assert exp.routes.of(write("/contacts/zqabck1", method="PUT")) == Request(
        "crm", "PUT", "/contacts/{id}"
    )
    assert exp.routes.of(write("/notes/zq9", downstream="mail")) == Request(
        "mail", "POST", "/notes/{id}"
    )


# -- learning ---------------------------------------------------------------------------------


def test_learned_per_event_and_type_ignored_by_design() -> None:
    twins = [ev("zqclean", 1), ev("zqclean", 2, "checkout.session.expired")]
    clean = clean_run(twins, [write("/contacts", twins[:1]), write("/deals", twins[:1])])
    events = [ev("zqrun", 1), ev("zqrun", 2, "checkout.session.expired")]
    exp = learn(run(events, [], [], tag="zqrun").info, events, clean)
    assert exp.per_event == {
        events[0].id: {
            Request("crm", "POST", "/contacts"): 1,
            Request("crm", "POST", "/deals"): 1,
        }
    }
    assert exp.nothing == {events[1].id}
    assert exp.types == {
        CHECKOUT: TypeRule(Rule.LEARNED),
        "checkout.session.expired": TypeRule(Rule.LEARNED, ignored=True),
    }
    assert exp.clean_run == clean.info.run_id


def test_a_type_the_clean_run_lost_but_this_run_acted_on_is_not_ignored() -> None:
    """The clean run made nothing for checkout.session.expired — by design, or because the
    automation lost those events there too. Where this run's events of that type made a
    request the clean run made (a deal), the silence was not design: the type is judged by any
    effect, and the rule says why. An audit write the clean run never made proves nothing."""
    twins = [ev("zqclean", 1), ev("zqclean", 2, "checkout.session.expired")]
    clean = clean_run(twins, [write("/deals", twins[:1])])
    events = [ev("zqrun", 1), ev("zqrun", 2, "checkout.session.expired")]
    info = run(events, [], [], tag="zqrun").info
    exp = learn(info, events, clean, [write("/deals", events)])
    assert exp.types["checkout.session.expired"] == TypeRule(Rule.ANY)
    assert exp.any_rule == {events[1].id} and events[1].id not in exp.nothing
    assert "its silence is not taken as design" in exp.why_any
    for writes in ([], [write("/audit", events[1:], downstream="log")]):
        ignored = learn(info, events, clean, writes)
        assert ignored.types["checkout.session.expired"] == TypeRule(Rule.LEARNED, ignored=True)
        assert ignored.nothing == {events[1].id} and "silence" not in ignored.why_any
    # A clean run that wrote nothing at all teaches nothing of what a write should be.
    silent = learn(info, events, clean_run(twins, []), [write("/deals", events[:1])])
    assert silent.types[CHECKOUT] == TypeRule(Rule.ANY)
    assert "its silence is not taken as design" in silent.why_any


def test_events_the_clean_run_left_alone_are_owed_their_types_when_such_acted_here() -> None:
    """Of five checkouts the clean run wrote a deal for the first two and the last, and left the
    third and fourth alone: payloads it skips on purpose — or lost. When one of those made a
    deal in this run, the automation does not skip such payloads: both are owed a deal, and the
    summary says why. An alert naming one (drift said loudly) is not a deal. (Left alone last,
    they would be held, not skipped: test_stuck_tail.py.)"""
    twins = [ev("zqclean", i) for i in (1, 2, 3, 4, 5)]
    clean = clean_run(twins, [write("/deals", [*twins[:2], twins[4]])])
    events = [ev("zqrun", i) for i in (1, 2, 3, 4, 5)]
    info = run(events, [], [], tag="zqrun").info
    deal = {Request("crm", "POST", "/deals"): 1}
    alert = write("/alerts", [events[2]], downstream="slack")
    paid = write("/deals", [*events[:2], events[4]])
    for writes in ([paid], [paid, alert]):
        skipped = learn(info, events, clean, writes)
        assert skipped.not_expected == {events[2].id, events[3].id} and not skipped.held
    exp = learn(info, events, clean, [write("/deals", [*events[:3], events[4]])])
    assert exp.per_event == {e.id: deal for e in events}
    assert exp.unlike_clean == {events[2].id, events[3].id} and not exp.nothing


def test_an_event_whose_clean_twin_was_refused_is_judged_by_its_type() -> None:
    twins = [ev("zqclean", i) for i in (1, 2, 3)]
    clean = run(
        twins,
        [ok(twins[0]), ok(twins[1]), refused(twins[2])],
        [write("/deals", [twins[0]]), write("/deals", [twins[1]])],
        tag="zqclean",
    )
    events = [ev("zqrun", i) for i in (1, 2, 3)]
    exp = learn(run(events, [], [], tag="zqrun").info, events, clean)
    assert exp.per_event[events[2].id] == {Request("crm", "POST", "/deals"): 1}
    assert exp.by_type == {events[2].id}


def test_an_event_its_clean_twin_left_alone_is_not_owed_anything() -> None:
    twins = [ev("zqclean", i) for i in (1, 2, 3)]
    clean = clean_run(twins, [write("/deals", [twins[0], twins[2]])])  # seq 2: skipped on purpose
    events = [ev("zqrun", i) for i in (1, 2, 3)]
    paid = [write("/deals", [events[0], events[2]])]
    h = run(events, [ok(e) for e in events], paid, tag="zqrun")
    v = lost(replace(h, baseline=clean, info=_named(h, clean)))
    assert v.status is Status.PASS, v.summary
    assert "1 event made no effect in the clean run either (not owed one)" in v.summary


def refused_orders(events: Sequence[Event]) -> list[Effect]:
    return [write("/orders", [e], status=400) for e in events]


def test_an_event_whose_clean_twin_made_its_request_and_was_refused_it_is_owed_it() -> None:
    """The clean run ordered the first checkout and was refused the others' POST /orders (400:
    an Idempotency-Key reused), each acknowledged: tried and refused, not skipped, nor held at
    the clean run's end though they all came after the one it acted on. Refused again here,
    they are lost, and the witnesses name the refusals. Where the refused twin's record got its
    order from another event (a 409 for a record made once), the refusal may be the design."""
    twins = [ev("zqclean", i) for i in (1, 2, 3)]
    twins.append(ev("zqclean", 4, key=twins[0].key))  # the first checkout's customer again
    clean = clean_run(twins, [write("/orders", [twins[0]]), *refused_orders(twins[1:])])
    events = [ev("zqrun", i) for i in (1, 2, 3)]
    events.append(ev("zqrun", 4, key=events[0].key))
    orders = [write("/orders", [events[0]]), *refused_orders(events[1:])]
    h = run(events, [ok(e) for e in events], orders, tag="zqrun")
    exp = learn(h.info, events, clean, orders[:1])
    order = {Request("crm", "POST", "/orders"): 1}
    assert exp.refused_clean == {events[1].id, events[2].id} and not exp.held
    assert exp.per_event[events[1].id] == order and exp.per_event[events[2].id] == order
    assert exp.not_expected == {events[3].id}
    v = lost(replace(h, baseline=clean, info=_named(h, clean)))
    assert v.status is Status.FAIL, v.summary
    assert "2 of 4 accepted events produced no effect (lost)" in v.summary, v.summary
    assert "their clean twins made that request too and were refused it" in v.summary
    assert all("(refused 400)" in line for line in v.evidence.lines), v.evidence.lines


def _named(h: History, clean: History) -> RunInfo:
    return replace(h.info, settings={**h.info.settings, "baseline": clean.info.run_id})


def test_an_incomplete_clean_run_teaches_nothing_and_the_rule_says_why() -> None:
    events, clean = checkout_pair(2)
    clean.status = "aborted"
    h = run(events, [ok(e) for e in events], [write("/contacts", [events[0]])], tag="zqrun")
    h.baseline, h.info = clean, _named(h, clean)
    v = lost(h)
    assert v.status is Status.FAIL
    assert v.summary.endswith(
        f"(rule: any effect — the clean run {clean.info.run_id} did not complete)"
    )


def test_a_clean_run_missing_from_the_journal_is_named() -> None:
    events = [ev("zqrun", 1)]
    h = run(
        events,
        [ok(events[0])],
        [write("/deals", events)],
        tag="zqrun",
        settings={"baseline": "x-baseline@zqgone"},
    )
    v = lost(h)
    assert v.summary.endswith(
        "(rule: any effect — the clean run x-baseline@zqgone is not in this journal)"
    )


# -- no_lost_events against learned effects ---------------------------------------------------


def test_partial_loss_names_the_missing_request() -> None:
    events, clean = checkout_pair(3)
    refused_deal = write("/deals", [events[1]], status=503, at=0.6)
    effects = [
        write("/contacts", [events[0]]),
        write("/deals", [events[0]]),
        write("/contacts", [events[1]]),
        refused_deal,
        write("/contacts", [events[2]]),
        write("/deals", [events[2]]),
    ]
    h = run(events, [ok(e) for e in events], effects, tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.FAIL
    assert v.summary == (
        "1 of 3 accepted events lack expected effects (lost): missing POST /deals for 1 "
        f"(rule: expected effects learned from the clean run {clean.info.run_id})"
    )
    [line] = v.evidence.lines
    assert line == (
        f"event {events[1].id} (record {events[1].key}, seq 2) was delivered once "
        f"(dlv_{events[1].id}_1 200) and made POST /contacts {effects[2].id} but never "
        f"POST /deals; the clean run made both; its requests did not count: POST /deals "
        f"{refused_deal.id} (refused 503)"
    )
    assert v.evidence.effect_ids == (effects[2].id, refused_deal.id)


def test_the_same_partial_loss_passes_under_the_any_effect_rule() -> None:
    events, _ = checkout_pair(2)
    effects = [write("/contacts", [e]) for e in events] + [write("/deals", [events[0]])]
    v = lost(run(events, [ok(e) for e in events], effects, tag="zqrun"))
    assert v.status is Status.PASS
    assert v.summary.endswith("(rule: any effect — no clean run, no expect:)")


def test_ignored_types_are_reported_not_lost() -> None:
    twins = [ev("zqclean", 1, "order.created"), ev("zqclean", 2, "order.paid")]
    twins.append(ev("zqclean", 3, "order.fulfilled"))
    clean = clean_run(twins, [write("/payouts", [twins[1]])])
    events = [ev("zqrun", 1, "order.created"), ev("zqrun", 2, "order.paid")]
    events.append(ev("zqrun", 3, "order.fulfilled"))
    h = run(
        events,
        [ok(e) for e in events],
        [write("/payouts", [events[1]])],
        tag="zqrun",
        baseline=clean,
    )
    v = lost(h)
    assert v.status is Status.PASS
    assert (
        "ignored by design (no effect in the clean run): order.created, order.fulfilled "
        "(2 events)" in v.summary
    )


def test_a_count_short_of_the_clean_run_is_lost() -> None:
    """Two lines, two bodies: two owed (the same body again would be one write made twice:
    tests/test_leased_verdicts.py)."""
    twin = ev("zqclean", 1)
    second = replace(write("/lines", [twin]), body='{"line": 2}')
    clean = clean_run([twin], [write("/lines", [twin]), second])
    event = ev("zqrun", 1)
    h = run([event], [ok(event)], [write("/lines", [event])], tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.FAIL
    assert "but only 1 of 2 POST /lines; the clean run made 2 POST /lines" in v.evidence.lines[0]


def test_register_keeps_skipping_superseded_updates() -> None:
    twins = [ev("zqclean", i, "contact.updated", key="con_zqcleank1") for i in (1, 2, 3)]
    clean = clean_run(
        twins,
        [write("/contacts/con_zqcleank1", [t], method="PUT") for t in twins],
        model=Model.REGISTER,
    )
    events = [ev("zqrun", i, "contact.updated", key="con_zqrunk1") for i in (1, 2, 3)]
    coalesced = [write("/contacts/con_zqrunk1", [events[2]], method="PUT")]
    h = run(
        events,
        [ok(e) for e in events],
        coalesced,
        tag="zqrun",
        baseline=clean,
        model=Model.REGISTER,
    )
    v = lost(h)
    assert v.status is Status.PASS, v.summary
    assert "2 superseded updates skipped (not loss)" in v.summary
    stale = run(
        events,
        [ok(e) for e in events],
        [write("/contacts/con_zqrunk1", [events[0]], method="PUT")],
        tag="zqrun",
        baseline=clean,
        model=Model.REGISTER,
    )
    v = lost(stale)
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "1 of 1 record never got an effect of their latest accepted event (lost): missing "
        "PUT /contacts/{id} for 1"
    )
    assert "record con_zqrunk1 was left at seq 1" in v.evidence.lines[0]


def _subscription(tag: str, seq: int, created: int, record: int = 1) -> Event:
    event = ev(tag, seq, "customer.subscription.updated", key=f"sub_{tag}k{record}")
    return replace(event, payload={"created": created})


def _subscriptions(tag: str, second: int) -> tuple[list[Event], list[Effect]]:
    """Subscription 1's two changes, the second (at ``second``) skipped; then subscription
    2's one change, written (the skipped change is not the last of its type)."""
    events = [
        _subscription(tag, 1, 1767225601),
        _subscription(tag, 2, second),
        _subscription(tag, 3, 1767225603, record=2),
    ]
    puts = [write(f"/subscriptions/{e.key}", [e], method="PUT") for e in (events[0], events[2])]
    return events, puts


def _register(
    clean: tuple[list[Event], list[Effect]],
    events: Sequence[Event],
    effects: Sequence[Effect],
    deliveries: Sequence[Delivery] | None = None,
    **settings: Any,
) -> History:
    """A register's run of ``events`` (each accepted a second apart, unless ``deliveries``),
    their times at ``$.created``, against the clean run of ``clean``."""
    settings = {"paths": {"time": "$.created"}, **settings}
    baseline = clean_run(*clean, model=Model.REGISTER, settings=settings)
    if deliveries is None:
        deliveries = [ok(e, at=float(n)) for n, e in enumerate(events)]
    return run(
        events,
        deliveries,
        effects,
        tag="zqrun",
        baseline=baseline,
        model=Model.REGISTER,
        settings=settings,
    )


@pytest.mark.parametrize("second", [1767225601, 1767225602])
def test_a_latest_update_skipped_beside_one_of_the_same_time_is_not_passed(second: int) -> None:
    """A subscription's two changes, the second skipped by the clean run and by this one: where
    the two share their second at ``$.created`` (a newest-wins check with ``<=``,
    tests/gallery/second_ties.py), the record is left on the older change, or the automation
    skipped an update that changed nothing on purpose — not judged, saying which record. It
    passed: '1 event made no effect in the clean run either (not owed one)'. A second apart,
    the skip is taken as the automation's design, as before."""
    events, puts = _subscriptions("zqrun", second)
    v = lost(_register(_subscriptions("zqclean", second), events, puts))
    if second != 1767225601:
        assert v.status is Status.PASS, v.summary
        assert "1 event made no effect in the clean run either (not owed one)" in v.summary
        return
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "not judged: 1 record's latest accepted event made no effect, as its clean twin made "
        "none, where an older event of its record with the same time at $.created was written "
        "(record sub_zqrunk1: seq 2 skipped, seq 1 written): an automation that writes only an "
        "update newer than the last it wrote (`created > last`) skips the later of two changes "
        "with the same time"
    ), v.summary
    assert "; the other 1 record got the expected effects" in v.summary, v.summary
    assert v.evidence.event_ids == ("evt_zqrune2",)
    assert "record sub_zqrunk1 was left at seq 1" in v.evidence.lines[0], v.evidence.lines


def _issues(tag: str) -> tuple[list[Event], list[Effect]]:
    """Two issues, each opened then edited, filed when opened and never when edited (as
    tests/gallery/issue_exports.py): issue 1's edit at the second of its opening, issue 2's a
    second later."""
    events = [
        _subscription(tag, 1, 1767225601),
        _subscription(tag, 2, 1767225601),
        _subscription(tag, 3, 1767225601, record=2),
        _subscription(tag, 4, 1767225602, record=2),
    ]
    puts = [write(f"/documents/{e.key}", [e], method="PUT") for e in (events[0], events[2])]
    return events, puts


def test_a_skip_beside_a_same_time_write_is_passed_where_a_newer_update_was_skipped_too() -> None:
    """Of a type whose updates the clean run skipped even where one was newer than its record's
    every write (an issue's edit a second after its opening), a skip beside a write of the same
    time is the automation's design too: a newest-wins check would have written the newer one.
    It was not judged ('an older event of its record with the same time ... was written'),
    under every hazard of the standard suite against tests/gallery/issue_exports.py."""
    events, puts = _issues("zqrun")
    v = lost(_register(_issues("zqclean"), events, puts))
    assert v.status is Status.PASS, v.summary
    assert "2 events made no effect in the clean run either (not owed one)" in v.summary


def test_a_refused_state_followed_only_by_an_ignored_update_is_lost() -> None:
    """Issue 2's opening refused (500: its title beyond Latin-1 in a header, as
    tests/gallery/issue_exports.py), then its edit accepted, which the receiver ignores as its
    clean twin was: GitHub never redelivers, and nothing wrote the issue. The edit, owed
    nothing, superseded the refused opening: it passed, 'all 2 records got the expected
    effects of their latest accepted event'. Issue 1's filed opening is no loss."""
    events, puts = _issues("zqrun")
    deliveries = [ok(e, at=float(n)) for n, e in enumerate(events)]
    deliveries[2] = refused(events[2], at=2.0)
    v = lost(_register(_issues("zqclean"), events, puts[:1], deliveries, provider="github"))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "1 of 4 events lost: 1 event the target refused (answered 500 to every delivery"
    ), v.summary
    assert v.evidence.event_ids == ("evt_zqrune3",), v.evidence


# -- the record and run levels ----------------------------------------------------------------


def test_requests_tied_only_to_a_record_are_compared_per_record() -> None:
    twins = [ev("zqclean", 1, key="cus_zqcleank1"), ev("zqclean", 2, key="cus_zqcleank1")]
    twins.append(ev("zqclean", 3, key="cus_zqcleank2"))
    # The ledger entries carry the customer, not the event.
    clean = clean_run(
        twins, [write("/ledger", key=t.key) for t in twins] + [write("/deals", [t]) for t in twins]
    )
    events = [ev("zqrun", 1, key="cus_zqrunk1"), ev("zqrun", 2, key="cus_zqrunk1")]
    events.append(ev("zqrun", 3, key="cus_zqrunk2"))
    effects = [write("/deals", [e]) for e in events] + [
        write("/ledger", key="cus_zqrunk1"),
        write("/ledger", key="cus_zqrunk2"),
    ]
    h = run(events, [ok(e) for e in events], effects, tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.FAIL
    assert v.summary.startswith("1 record short of POST /ledger (per record)")
    assert v.evidence.lines[0].startswith(
        "record cus_zqrunk1: the clean run made 2 POST /ledger for its 2 events; this run "
        f"made 1 ({effects[3].id}), all of them accepted"
    )
    assert v.evidence.event_ids == (events[0].id, events[1].id)


def test_a_shortfall_per_run_is_a_loss_whatever_the_attribution() -> None:
    n = 30
    twins = [ev("zqclean", i) for i in range(1, n + 1)]
    # Deals carrying only a derived id: no event, no record.
    clean = clean_run(twins, [write("/deals", key="") for _ in twins])
    events = [ev("zqrun", i) for i in range(1, n + 1)]
    effects = [write("/deals", key="") for _ in range(4)]
    h = run(events, [ok(e) for e in events], effects, tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("4 POST /deals made where 30 were expected (per run)")
    assert v.evidence.lines[0].startswith(
        "the clean run made 30 POST /deals for its 30 events; this run made 4 for the same 30 "
        "events, all accepted"
    )
    enough = replace(h, effects=[write("/deals", key="") for _ in range(31)])
    v = lost(enough)
    # As many as the clean run made, none attributable: nothing more can be said.
    assert v.status is Status.INCONCLUSIVE
    assert "could be attributed" in v.summary


def test_not_every_event_accepted_leaves_the_run_level_unjudged() -> None:
    twins = [ev("zqclean", i) for i in (1, 2)]
    clean = clean_run(twins, [write("/deals", key="") for _ in twins])
    events = [ev("zqrun", i) for i in (1, 2)]
    h = run(
        events,
        [ok(events[0]), refused(events[1])],
        [write("/contacts", [events[0]])],
        tag="zqrun",
        baseline=clean,
    )
    v = lost(h)
    # The refused event is not seen retried (no provider named): not a pass.
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "not judged (not every event of it was accepted)" in v.summary
    assert "not judged: 1 event the target refused (answered 500" in v.summary


def test_event_level_requests_whose_writes_name_no_event_drop_to_the_run() -> None:
    events, clean = checkout_pair(3)
    # This run's deals carry no tracer value: they are counted per run, 2 for 3 events.
    effects = [write("/contacts", [e]) for e in events] + [
        write("/deals", key="") for _ in range(2)
    ]
    h = run(events, [ok(e) for e in events], effects, tag="zqrun", baseline=clean)
    v = lost(h)
    assert v.status is Status.FAIL
    assert v.summary.startswith("2 POST /deals made where 3 were expected (per run)")
    assert v.evidence.lines[0].startswith(
        "3 accepted events expect 3 POST /deals in all; this run made 2"
    )


# -- another run's writes -----------------------------------------------------------------------


def late(path: str, token: str) -> Effect:
    """A write naming no event of its run, whose body carries ``token`` (an earlier run's)."""
    return replace(write(path), body=f'{{"order": "{token}"}}', key=None)


def test_a_write_carrying_another_runs_token_is_not_learned_per_run() -> None:
    # As measured on the sound demo: the clean run's second payout was the previous example's
    # late write (its tag, not the clean run's), tied to no event of the clean run.
    twin, event = ev("zqclean", 1), ev("zqjudge", 1)
    clean = clean_run([twin], [write("/deals", [twin]), late("/deals", "ord_zqoldeke1")])
    h = run(
        [event],
        [ok(event), ok(event, 2)],
        [write("/deals", [event])],
        tag="zqjudge",
        baseline=clean,
    )
    exp = learn(h.info, h.events, clean)
    assert not exp.per_run and exp.per_event[event.id] == {Request("crm", "POST", "/deals"): 1}
    v = lost(h)
    assert v.status is Status.PASS, v.summary
    assert "1 write in the clean run left out: they carry another run's tracer token" in v.summary
    # The same write without another run's token is the clean run's own: learned per run.
    own = clean_run([twin], [write("/deals", [twin]), late("/deals", "ord_41")])
    v = lost(replace(h, baseline=own))
    assert v.status is Status.FAIL
    assert v.summary.startswith("1 POST /deals made where 2 were expected (per run)")


def test_a_write_carrying_another_runs_token_does_not_count_for_this_run() -> None:
    twins = [ev("zqclean", i) for i in (1, 2)]
    clean = clean_run(twins, [write("/deals", key="") for _ in twins])
    events = [ev("zqjudge", i) for i in (1, 2)]
    # One deal of its own, and one an earlier run's event caused: 1 of the 2 expected.
    effects = [write("/deals", key=""), late("/deals", "ord_zqoldeke7")]
    h = run(events, [ok(e) for e in events], effects, tag="zqjudge", baseline=clean)
    v = lost(h)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 POST /deals made where 2 were expected (per run)")
    assert "1 write in this run left out" in v.summary
    # A write naming one of this run's events counts, whatever else it carries.
    mixed = replace(effects[1], event_ids=(events[1].id,), key=events[1].key)
    v = lost(replace(h, effects=[effects[0], mixed]))
    assert v.status is not Status.FAIL, v.summary


# -- declared -----------------------------------------------------------------------------------

DECLARED = {
    "expect": {
        CHECKOUT: [
            {"downstream": "crm", "method": "POST", "path": "/contacts", "count": 1},
            {"downstream": None, "method": "PUT", "path": "/contacts/{cid}", "count": 1},
        ],
        "charge.refunded": [],
    }
}


def test_declared_expected_effects_need_no_clean_run() -> None:
    events = [ev("zqrun", 1), ev("zqrun", 2, "charge.refunded")]
    effects = [write("/contacts", events[:1])]
    h = run(events, [ok(e) for e in events], effects, tag="zqrun", settings=DECLARED)
    v = lost(h)
    assert v.status is Status.FAIL
    assert v.summary == (
        "1 of 2 accepted events lack expected effects (lost): missing PUT /contacts/{cid} for 1; "
        "ignored by design (expect: none): charge.refunded (1 event) "
        "(rule: expected effects declared in expect:)"
    )
    assert v.evidence.lines[0].endswith(
        "but never PUT /contacts/{cid}; expect: asks for POST /contacts and PUT /contacts/{cid}"
    )
    done = replace(h, effects=[*effects, write("/contacts/zq1", events[:1], method="PUT")])
    assert lost(done).status is Status.PASS


def test_declared_for_some_types_learned_for_the_others() -> None:
    twins = [ev("zqclean", 1), ev("zqclean", 2, "invoice.paid")]
    clean = clean_run(twins, [write("/invoices", [twins[1]])])
    events = [ev("zqrun", 1), ev("zqrun", 2, "invoice.paid")]
    h = run(
        events,
        [ok(e) for e in events],
        [write("/contacts", events[:1]), write("/contacts/x1", events[:1], method="PUT")],
        tag="zqrun",
        baseline=clean,
        settings=DECLARED,
    )
    v = lost(h)
    assert v.status is Status.FAIL
    assert v.summary.endswith(
        f"(rules: declared in expect: for {CHECKOUT}; learned from the clean run "
        f"{clean.info.run_id} for invoice.paid)"
    )
    assert "missing POST /invoices for 1" in v.summary


def test_scenario_settings_keep_routes_and_the_declaration_for_offline_judging() -> None:
    scenario = Scenario(
        "s",
        SyntheticSource({"id": "e"}, 1, 1, 1.0),
        downstreams=(DownstreamSpec("crm", (Route("POST", "/deals"),)),),
        expect=(
            ExpectSpec(CHECKOUT, (ExpectedRequest("POST", "/deals", "crm", 2),)),
            ExpectSpec("charge.refunded"),
        ),
    )
    settings = scenario_settings(scenario)
    assert settings == {
        "routes": {"crm": ["POST /deals"]},
        "expect": {
            CHECKOUT: [{"downstream": "crm", "method": "POST", "path": "/deals", "count": 2}],
            "charge.refunded": [],
        },
    }
    assert expect_specs(settings) == scenario.expect


# -- the settle loop's question ---------------------------------------------------------------


def test_missing_expected_counts_down_as_effects_arrive() -> None:
    events, clean = checkout_pair(2)
    info = run(events, [], [], tag="zqrun").info
    exp = learn(info, events, clean)
    deliveries = [ok(e) for e in events]
    arrived: list[Effect] = []
    assert missing_expected(exp, events, deliveries, arrived) == 4
    arrived += [write("/contacts", [events[0]]), write("/deals", [events[0]])]
    assert missing_expected(exp, events, deliveries, arrived) == 2
    arrived.append(write("/deals", [events[1]], status=503))  # refused: still missing
    assert exp.outstanding(events, deliveries, arrived) == 2
    arrived += [write("/contacts", [events[1]]), write("/deals", [events[1]])]
    assert exp.outstanding(events, deliveries, arrived) == 0
    # An event not accepted yet is owed nothing; a tampered acceptance does not count.
    assert exp.outstanding(events, deliveries[:1], arrived[:2]) == 0
    assert exp.outstanding(events, deliveries[:1], [], tampered={deliveries[0].id}) == 0


@pytest.mark.parametrize("model", [Model.LEDGER, Model.REGISTER])
def test_the_any_rule_matches_the_old_verdict(model: Model) -> None:
    events = [ev("zqrun", 1, key="k"), ev("zqrun", 2, key="k")]
    h = run(events, [ok(e) for e in events], [write("/x", events[:1])], tag="zqrun", model=model)
    exp = learn(h.info, events, None)
    assert exp.only_any and exp.any_rule == {e.id for e in events}
    assert exp.outstanding(events, h.deliveries, h.effects) == 1
    assert lost(h).status is Status.FAIL


# -- late or lost: a run (or its clean run) that stopped watching before the target was done --


def _settled(h: History, ended: str, idle: float, quiet: float = 1.0) -> History:
    """``h`` as a run whose settling ended ``ended``, ``idle`` s after the target's last call."""
    h.info = replace(h.info, settings={**h.info.settings, "settle": {"quiet": quiet}})
    detail = json.dumps({"ended": ended, "waited": 20.0, "pending": 1, "idle": idle})
    h.marks = [Mark(30.0, SETTLED_MARK, detail)]
    return h


def test_a_run_cut_at_its_deadline_while_the_target_worked_proves_no_loss() -> None:
    """Settling stopped at its deadline 0.2 s after the target's last call (quiet 1 s): the
    deal missing may be on its way. Inconclusive, saying so and what to do; the same run gone
    quiet, or cut with the target idle longer than the quiet, fails."""
    events, clean = checkout_pair(3)
    effects = [write(p, [e]) for e in events for p in ("/contacts", "/deals")][:-1]

    def judged(ended: str, idle: float) -> Verdict:
        h = run(events, [ok(e) for e in events], effects, tag="zqrun", baseline=clean)
        return lost(_settled(h, ended, idle))

    cut = judged("deadline", 0.2)
    assert cut.status is Status.INCONCLUSIVE
    assert cut.summary.startswith(
        "1 of 3 accepted events lack expected effects, but settling stopped at its deadline "
        "after 20.0 s with the target still working (its last call 0.20 s before, under the 1 s "
        "quiet): it may be late rather than lost — raise the settle deadline"
    )
    assert cut.evidence.event_ids == (events[2].id,)
    for ended, idle in (("pending", 2.0), ("deadline", 1.5)):
        assert judged(ended, idle).status is Status.FAIL


def test_an_effect_that_came_after_the_final_state_is_late_not_lost() -> None:
    """The third deal arrived after the run's final state was taken (a late effect): that
    event is not called lost. The second one's deal never came: lost, and the summary says
    which one is only late."""
    events, clean = checkout_pair(3)
    effects = [write("/contacts", [e]) for e in events] + [write("/deals", events[:1])]
    h = run(events, [ok(e) for e in events], effects, tag="zqrun", baseline=clean)
    h.late_effects = [write("/deals", events[2:], at=40.0)]
    v = lost(h)
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "1 of 3 accepted events lack expected effects (lost): missing POST /deals for 1; "
        "1 event more lacks its, but effects naming it arrived after the run's final state "
        "was taken"
    )
    assert v.evidence.event_ids == (events[1].id,)
    h.late_effects.append(write("/deals", events[1:2], at=41.0))
    assert lost(h).status is Status.INCONCLUSIVE


def test_a_clean_run_cut_at_its_deadline_teaches_no_silence() -> None:
    """The clean run stopped at its deadline with the target still working, after deals for
    two of four checkouts, and made nothing for the refunds: whether the other two, or the
    refund type, are skipped by design or were still queued is not known. Where this run
    makes them, they pass; where it does not, no loss is proven (nor a skip)."""
    twins = [ev("zqclean", i) for i in (1, 2, 3, 4)] + [ev("zqclean", 5, "charge.refunded")]
    clean = _settled(clean_run(twins, [write("/deals", twins[:2])]), "deadline", 0.1)
    events = [ev("zqrun", i) for i in (1, 2, 3, 4)] + [ev("zqrun", 5, "charge.refunded")]
    deliveries = [ok(e) for e in events]
    acted = [write("/deals", events[:4]), write("/refunds", events[4:])]
    made = run(events, deliveries, acted, tag="zqrun", baseline=clean)
    assert lost(made).status is Status.PASS
    exp = learn(made.info, events, clean, made.effects)
    assert exp.unseen == {events[2].id, events[3].id, events[4].id} and not exp.nothing
    short = run(events, deliveries, [write("/deals", events[:2])], tag="zqrun", baseline=clean)
    v = lost(short)
    assert v.status is Status.INCONCLUSIVE
    assert "the clean twins of 3 events made no effect while the clean run watched" in v.summary
    assert "settling stopped at its deadline after 20.0 s" in v.summary
    # The clean run gone quiet: its silence is design, as before — for payloads it skipped
    # between others (left alone last, they would be held: test_stuck_tail.py).
    quiet = _settled(clean_run(twins, [write("/deals", [twins[0], twins[3]])]), "pending", 2.0)
    paid = [write("/deals", [events[0], events[3]])]
    skipped = run(events, deliveries, paid, tag="zqrun", baseline=quiet)
    assert lost(skipped).status is Status.PASS


def test_without_a_clean_run_a_cut_run_proves_no_loss_either() -> None:
    events = [ev("zqrun", i) for i in (1, 2)]
    h = run(events, [ok(e) for e in events], [write("/deals", events[:1])], tag="zqrun")
    assert lost(h).status is Status.FAIL
    v = lost(_settled(h, "deadline", 0.0))
    assert v.status is Status.INCONCLUSIVE
    assert v.summary.startswith("1 of 2 accepted events produced no effect, but settling")


def test_a_drifted_event_that_acted_proves_nothing_of_its_twins_silence() -> None:
    """Of five checkouts the clean run wrote a deal for the first two and the last, and left the
    third and fourth alone (payloads the automation skips, say unpaid ones). Here the third
    one's status field was renamed by a drift perturbation and the automation took the paid
    path for it: that payload is not its twin's, so the fourth is still not owed a deal — nor
    the third one."""
    twins = [ev("zqclean", i) for i in (1, 2, 3, 4, 5)]
    clean = clean_run(twins, [write("/deals", [*twins[:2], twins[4]])])
    events = [ev("zqrun", i) for i in (1, 2, 3, 4, 5)]
    drift = [
        {"kind": "rename", "path": "$.data.status", "to": "state", "events": {events[2].id: "open"}}
    ]
    info = run(events, [], [], tag="zqrun", settings={"drift": drift}).info
    paid = [write("/deals", [*events[:3], events[4]])]
    exp = learn(info, events, clean, paid)
    assert exp.not_expected == {events[2].id, events[3].id} and not exp.unlike_clean
    undrifted = run(events, [], [], tag="zqrun").info
    assert learn(undrifted, events, clean, paid).unlike_clean


def test_a_loss_found_when_settling_gave_up_says_how_long_it_waited() -> None:
    """Settling stopped after 2 s of quiet with an event still without its deal: a loss — or
    a target slower than that (a rate limit, a schedule). The failure says which to check."""
    events, clean = checkout_pair(2)
    effects = [write("/contacts", events), write("/deals", events[:1])]
    h = run(events, [ok(e) for e in events], effects, tag="zqrun", baseline=clean)
    assert "settling stopped after" not in lost(h).summary  # no mark: nothing said
    v = lost(_settled(h, "pending", 2.0))
    assert v.status is Status.FAIL
    assert (
        "; settling stopped after 2 s without a call from the target, these events still "
        "without their effects: late, or lost in a process that then ended (this run cannot "
        "tell which: a crash, an OOM kill or a restart between deliveries fails none of them and "
        "leaves no other trace here — look in the target's log for one during the run); if it "
        "works slower than that (a rate limit, a queue paused between events, a schedule), "
        "raise the settle quiet (`settle: {quiet: …}` or --settle-quiet) and run again"
    ) in v.summary


def test_held_events_sent_at_one_instant_are_one_request_only_for_a_batching_sender() -> None:
    """The clean run's last checkout was answered at the same instants as the one before it
    (two requests of a sender that does not batch, in flight together): not 'came in one
    request with an event of their type that acted' — only HubSpot's batches are (review)."""
    for provider, batched in (("stripe", False), ("hubspot", True)):
        twins = [ev("zqclean", n) for n in (1, 2, 3)]
        at = [0.0, 1.0, 1.0]
        made = [write("/contacts", [e], at=at[n] + 0.005) for n, e in enumerate(twins[:2])]
        settings = {"provider": provider}
        deliveries = [ok(e, at=at[n]) for n, e in enumerate(twins)]
        base = run(twins, deliveries, made, tag="zqclean", settings=settings)
        events = [ev("zqrun", n) for n in (1, 2, 3)]
        effects = [write("/contacts", [e], at=n + 0.005) for n, e in enumerate(events[:2])]
        h = run(events, [ok(e, at=float(n)) for n, e in enumerate(events)], effects,
                tag="zqrun", baseline=base, settings=settings)  # fmt: skip
        v = lost(h)
        assert v.status is Status.INCONCLUSIVE, (provider, v.summary)
        assert ("came in one request with an event" in v.summary) is batched, (provider, v.summary)
