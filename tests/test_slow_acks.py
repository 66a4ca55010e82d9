"""What ``ack_within`` advises about slow answers, over hand-built Histories (_slow_acks): the
rerun at ``--time-scale 1`` only where a compressed pace can have built a backlog; the
downstream's fault where the answers waited on it (the same latency at any time scale); nothing
of the pace where a delivery alone was slow.

The same through the `harness` command against a real automation is in test_gallery.py
(``test_slow_acks_of_a_work_before_answering_automation_name_the_slow_downstream``).
"""

from __future__ import annotations

import json
from dataclasses import replace

from harness.core._model import FAULT_MARK, FAULT_MARKS, Delivery, Fault, Outcome, Status
from harness.history import History, Mark

from .test_invariants import delivery, effect, event, history, one

RERUN = "run with --time-scale 1 to judge the acks at it"
SLOW = Fault("api", "slow", 0.1, 1.1, {"latency": 2.2, "jitter": 0.1})
THROTTLE = Fault("api", "throttle", 0.1, 1.9, {"retry_after": 1.0})


def compressed(h: History, *faults: Fault, marks: bool = False) -> History:
    settings = {**h.info.settings, "time_scale": 0.05}
    if marks:
        settings[FAULT_MARKS] = True
    return replace(h, info=replace(h.info, settings=settings), faults=list(faults))


def marked(h: History, *effects: str) -> History:
    """``h`` with a FAULT_MARK of its first fault for each of ``effects``."""
    found = [Mark(0.0, FAULT_MARK, json.dumps({"effect": e, "fault": 0})) for e in effects]
    return replace(h, marks=[*h.marks, *found])


def waiting_on_a_slow_downstream() -> History:
    """Each event's answer waited on its own call, which the slow fault held 2.2 s: the
    deliveries 0.05 s apart, all in flight together (a threaded automation)."""
    events = [event(i, key=f"ord_{i}") for i in range(1, 6)]
    ds = [delivery(f"dlv_{i}", f"evt_{i}", sent=i / 20, latency=2.25) for i in range(1, 6)]
    effects = [effect(f"eff_{i}", [f"evt_{i}"], i / 20 + 0.01) for i in range(1, 6)]
    h = compressed(history(events, ds, effects), SLOW, marks=True)
    return marked(h, *(f"eff_{i}" for i in range(1, 6)))


def test_answers_that_waited_on_a_slow_fault_name_it_not_the_time_scale() -> None:
    v = one(waiting_on_a_slow_downstream(), "ack_within")
    assert v.status is Status.FAIL
    assert RERUN not in v.summary
    assert (
        "; 5 of them waited on api's slow calls (2.2 s ± 0.1 s a call; the slow fault, "
        "0.10 s-1.10 s): the automation called api before answering, and a call's wait is real "
        "seconds: --time-scale 1 would wait as long — acknowledge first and do the work after "
        "(a queue), or bound the call's timeout"
    ) in v.summary
    assert v.evidence.lines[0].endswith(
        "; meanwhile api's slow fault answered its 1 call: POST /payouts eff_1"
    )
    assert v.evidence.effect_ids == tuple(f"eff_{i}" for i in range(1, 6))


def test_without_marks_the_calls_answers_say_which_fault_held_them() -> None:
    """A journal from before the doubles kept FAULT_MARKs: a throttle's 429 followed by the
    same event's second call before the answer is Retry-After waited out in the request."""
    events = [event(1, key="ord_1"), event(2, key="ord_2")]
    ds = [delivery("dlv_1", "evt_1", sent=0.2, latency=2.1), delivery("dlv_2", "evt_2", sent=0.3)]
    effects = [
        effect("eff_1", ["evt_1"], 0.21, "PUT", "/tickets/1", status=429),
        effect("eff_2", ["evt_2"], 0.31, "PUT", "/tickets/2", status=429),
        effect("eff_3", ["evt_1"], 2.25, "PUT", "/tickets/1"),
    ]
    v = one(compressed(history(events, ds, effects), THROTTLE), "ack_within")
    assert v.status is Status.FAIL
    assert "1 of them waited on api's 429 answers (Retry-After 1 s; the throttle fault, " in (
        v.summary
    )
    assert "waiting out Retry-After there, not while the sender waits" in v.summary
    assert RERUN not in v.summary
    # Only its own calls: eff_2 (another event's) is not in its witness.
    assert v.evidence.lines[0].endswith("answered its 1 call: PUT /tickets/1 eff_1")


def test_a_429_not_retried_before_the_answer_did_not_hold_it() -> None:
    """The automation got a 429 and answered; its answer was slow for another reason (it was
    alone in flight): the throttle is not named, nor the time scale."""
    h = history(
        [event(1)],
        [delivery("dlv_1", "evt_1", sent=0.2, latency=2.5)],
        [effect("eff_1", ["evt_1"], 0.21, status=429)],
    )
    v = one(compressed(h, THROTTLE), "ack_within")
    assert "waited on api" not in v.summary and RERUN not in v.summary
    assert (
        "; dlv_1 was over the budget with no other delivery in flight: slow on its own, not for "
        "the pace, so --time-scale 1 would not change it"
    ) in v.summary


def test_calls_of_other_records_during_the_flight_are_not_its() -> None:
    events = [event(1, key="ord_1"), event(2, key="ord_2")]
    ds = [delivery("dlv_1", "evt_1", sent=0.2, latency=2.5), delivery("dlv_2", "evt_2", sent=0.3)]
    other = replace(effect("eff_1", [], 0.31), key="ord_2")  # names only its record
    h = marked(compressed(history(events, ds, [other]), SLOW, marks=True), "eff_1")
    v = one(h, "ack_within")
    assert "waited on api" not in v.summary
    # Its own record's call, naming no event, is its: its event's, the record's only one
    # (``Facts.single_event``); its record's, where the record has another event.
    mine = replace(other, key="ord_1")
    v = one(replace(h, effects=[mine]), "ack_within")
    assert "1 of them waited on api's slow calls" in v.summary
    assert v.evidence.lines[0].endswith("answered its 1 call: POST /payouts eff_1")
    later = event(3, key="ord_1")
    v = one(replace(h, events=[*events, later], effects=[mine]), "ack_within")
    assert "1 of them waited on api's slow calls" in v.summary
    assert v.evidence.lines[0].endswith("answered its record's 1 call: POST /payouts eff_1")


def backlog() -> History:
    """A serial automation taking 0.4 s a delivery, sent 10 a second: the first is answered in
    time, each later one waits for those before it."""
    events = [event(i, key=f"ord_{i}") for i in range(1, 9)]
    ds = [
        delivery(f"dlv_{i}", f"evt_{i}", sent=(i - 1) / 10, latency=0.4 * i - (i - 1) / 10)
        for i in range(1, 9)
    ]
    return compressed(history(events, ds, []))


def test_a_backlog_under_compression_is_sent_to_the_scenarios_pace() -> None:
    v = one(backlog(), "ack_within", seconds=1.0)
    assert v.status is Status.FAIL
    assert v.summary.endswith(
        "; 6 of them were sent while earlier deliveries were still unanswered, faster than the "
        "scenario's own pace: " + RERUN
    )
    # At the scenario's own pace nothing is said of it.
    h = backlog()
    at_pace = replace(h, info=replace(h.info, settings={**h.info.settings, "time_scale": 1.0}))
    assert "earlier deliveries" not in one(at_pace, "ack_within", seconds=1.0).summary


def test_a_delivery_slow_alone_is_not_the_paces() -> None:
    """The first delivery, with none other in flight, took 3 s: the pace cannot have made it
    slow, whatever came after it."""
    h = backlog()
    first = replace(h.deliveries[0], answered_at=3.0)
    h = replace(h, deliveries=[first, *h.deliveries[1:]])
    v = one(h, "ack_within", seconds=1.0)
    assert RERUN not in v.summary
    assert "; dlv_1 was over the budget with no other delivery in flight" in v.summary


def timed_out(dlv_id: str, event_id: str, sent: float) -> Delivery:
    return delivery(
        dlv_id, event_id, Outcome.INDETERMINATE, sent=sent, latency=None, status=None,
        error="no answer within 0.5 s",
    )  # fmt: skip


def test_a_timed_out_delivery_is_in_flight_for_what_follows() -> None:
    """The target may still hold a delivery the sender gave up on: one sent after it is
    queued behind it, and the rerun advice stands."""
    h = history(
        [event(1, key="a"), event(2, key="b"), event(3, key="c")],
        [
            delivery("dlv_1", "evt_1", sent=0.0, latency=0.1),
            timed_out("dlv_2", "evt_2", 0.05),
            delivery("dlv_3", "evt_3", sent=0.7, latency=1.5),
        ],
        [],
    )
    v = one(compressed(h), "ack_within", seconds=1.0)
    assert v.summary.endswith(
        "; 2 of them were sent while earlier deliveries were still unanswered, faster than the "
        "scenario's own pace: " + RERUN
    )


def test_a_batchs_deliveries_waited_on_the_calls_of_any_of_its_events() -> None:
    """HubSpot sends several events in one request: the request waited on its first event's
    slow call, and so did the deliveries of the events after it in the batch."""
    events = [event(1, key="ord_1"), event(2, key="ord_2")]
    ds = [delivery(f"dlv_{i}", f"evt_{i}", sent=0.2, latency=2.3) for i in (1, 2)]
    h = compressed(history(events, ds, [effect("eff_1", ["evt_1"], 0.21)]), SLOW, marks=True)
    v = one(marked(h, "eff_1"), "ack_within")
    assert "; 2 of them waited on api's slow calls" in v.summary
    assert "no other delivery in flight" not in v.summary


def test_a_call_naming_no_event_is_a_deliverys_only_when_it_was_alone_in_flight() -> None:
    """Five deliveries 0.05 s apart, their calls naming nothing (writes that carry nothing of
    the event): the first call was made with one delivery in flight, so it is that one's; each
    later one with several in flight may be any of theirs, and is credited to none (reading
    every call of every flight also cost 30 CPU-s at 50,000 deliveries: a review's figures)."""
    crowd = waiting_on_a_slow_downstream()
    unnamed = [replace(e, event_ids=(), key=None) for e in crowd.effects]
    v = one(replace(crowd, effects=unnamed), "ack_within")
    assert v.status is Status.FAIL
    assert "; 1 of them waited on api's slow calls" in v.summary
    assert "; 4 of them were sent while earlier deliveries were still unanswered" in v.summary
    assert v.evidence.lines[0].endswith(
        "; meanwhile api's slow fault answered 1 call naming no event: POST /payouts eff_1"
    )
    assert "meanwhile" not in v.evidence.lines[1]


HANG = Fault("api", "timeout", 0.1, 0.6, {"hold": 30.0})


def stuck_workers() -> History:
    """Two sync workers (gunicorn's), each in a call the API held 30 s with no client timeout:
    the two deliveries they took and the three sent after them time out, and the target makes
    no call until the hold ends — the three waited in the listen queue, behind the hang."""
    events = [event(i, key=f"ord_{i}") for i in range(1, 6)]
    ds = [timed_out(f"dlv_{i}", f"evt_{i}", 0.05 * i) for i in range(1, 6)]
    calls = [effect(f"eff_{i}", [f"evt_{i}"], 0.05 * i + 0.01, status=504) for i in (1, 2)]
    late = [effect(f"eff_{i}", [f"evt_{i}"], 30.2 + i / 100) for i in (3, 4, 5)]
    h = compressed(history(events, ds, [*calls, *late]), HANG, marks=True)
    return marked(h, "eff_1", "eff_2")


def test_deliveries_queued_behind_calls_a_hung_api_held_name_the_hang_not_the_pace() -> None:
    """They made no call while they waited, and were sent while others were unanswered, as a
    compressed pace makes them — but the hold is real seconds: a rerun at the scenario's pace
    would wait as long, and the cause to act on is the call without a timeout."""
    v = one(stuck_workers(), "ack_within", seconds=1.0)
    assert v.status is Status.FAIL
    assert RERUN not in v.summary
    assert "; 2 of them waited on api's held calls (no answer for 30 s" in v.summary
    assert (
        "; 3 of them were sent while earlier deliveries waited on api's held calls (no answer "
        "for 30 s; the timeout fault, 0.10 s-0.60 s), and waited their turn behind them: a hold "
        "is real seconds, so --time-scale 1 would wait as long — give the call a timeout and "
        "acknowledge before it (a queue)"
    ) in v.summary
    line = next(x for x in v.evidence.lines if x.startswith("delivery dlv_3 "))
    assert line.endswith(
        "; sent while dlv_2 waited on api's timeout fault holding its call POST /payouts eff_2"
    )


def test_a_target_calling_on_while_a_call_is_held_is_not_queued_behind_it() -> None:
    """A thread per request: the later deliveries each made a call of their own while the first
    was held (naming nothing, so not theirs by name) — the target was not stuck behind the hold,
    and the pace is what is said of them."""
    h = stuck_workers()
    busy = [effect(f"eff_{i}b", [], 0.05 * i + 0.02) for i in (3, 4, 5)]
    v = one(replace(h, effects=sorted([*h.effects, *busy], key=lambda e: e.at)), "ack_within",
            seconds=1.0)  # fmt: skip
    assert "waited their turn behind them" not in v.summary
    assert "; 3 of them were sent while earlier deliveries were still unanswered" in v.summary


def test_a_delivery_sent_as_the_hold_let_go_and_late_after_it_is_not_behind_it() -> None:
    """dlv_1 waited on its held call until its 504 at 1.2 s; dlv_2, sent 10 ms before, was
    answered 2.8 s later, its own call made at 3.9 s: the hold let go 1.19 s before dlv_2 was
    due — late for something else, not behind the hang (main said it waited its turn)."""
    events = [event(i, key=f"ord_{i}") for i in (1, 2)]
    ds = [
        delivery("dlv_1", "evt_1", Outcome.FAILED, sent=0.05, latency=1.15, status=504),
        delivery("dlv_2", "evt_2", sent=1.19, latency=2.81),
    ]
    effects = [effect("eff_1", ["evt_1"], 0.06, status=504), effect("eff_2", ["evt_2"], 3.9)]
    v = one(marked(compressed(history(events, ds, effects), HANG, marks=True), "eff_1"),
            "ack_within", seconds=1.0)  # fmt: skip
    assert v.status is Status.FAIL
    assert "1 of them waited on api's held calls" in v.summary
    assert "waited their turn behind them" not in v.summary


def test_a_delivery_sent_before_the_worker_ahead_took_up_its_held_call_is_behind_it() -> None:
    """On a loaded machine the second worker's held call reached the API 15 ms after dlv_3 was
    sent (tests/gallery/no_timeout under downstream-hangs, steady-tests): that call was counted
    as the target working on, and dlv_3 was told 'run with --time-scale 1', which would wait
    as long. A held call is the worker getting stuck, not work going on."""
    h = stuck_workers()
    moved = [replace(e, at=0.165) if e.id == "eff_2" else e for e in h.effects]
    v = one(replace(h, effects=sorted(moved, key=lambda e: e.at)), "ack_within", seconds=1.0)
    assert v.status is Status.FAIL
    assert RERUN not in v.summary, v.summary
    assert "; 3 of them were sent while earlier deliveries waited on api's held calls" in v.summary
