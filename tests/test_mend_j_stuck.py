"""Deliveries that got no answer during a fault window that answers at once, having made no
call: not refused by the window, and not slow — held before any call (``_stuck``,
``_slow_acks``). tests/gallery/repo_lock.py under github-issues-tracker-blip: a lock taken by
hand and leaked by the first 503 held every later delivery of the repository. ack_within said
the first of them was 'slow on its own … acknowledge first'; recovers_after_outage counted all
16 as refused by the window ('16 events refused during a fault window were never accepted'),
15 of which made no call.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Delivery, Fault, Outcome, Status
from harness.history import History

from .test_fault_invariants import OUTAGE, with_faults
from .test_invariants import delivery, effect, event, history, one
from .test_slow_acks import compressed

SLOW = Fault("api", "slow", 1.0, 3.0, {"latency": 2.2})


def _timed_out(n: int, sent: float) -> Delivery:
    return delivery(
        f"dlv_{n}", f"evt_{n}", Outcome.INDETERMINATE, sent=sent, latency=None, status=None,
        error="no answer within 0.5 s",
    )  # fmt: skip


def leaked_lock(fault: Fault = OUTAGE) -> History:
    """A GitHub receiver's issues, one record each: evt_1 written before the window; evt_2's
    call refused 503 by it, answered 500 (and its lock left held); evt_3 to evt_5 never
    answered, none of them calling anything — two during the window, one after it."""
    events = [event(n, f"iss_{n}") for n in range(1, 6)]
    deliveries = [
        delivery("dlv_1", "evt_1", sent=0.4),
        delivery("dlv_2", "evt_2", Outcome.FAILED, sent=1.2, status=500),
        _timed_out(3, 1.5),
        _timed_out(4, 2.0),
        _timed_out(5, 3.5),
    ]
    effects = [effect("eff_1", ["evt_1"], 0.45), effect("eff_2", ["evt_2"], 1.21, status=503)]
    h = with_faults(history(events, deliveries, effects), fault)
    return replace(h, info=replace(h.info, settings={**h.info.settings, "provider": "github"}))


def test_unanswered_deliveries_that_made_no_call_are_not_refused_by_a_503_window() -> None:
    v = one(leaked_lock(), "recovers_after_outage")
    # Only evt_2, whose call the window refused, is the window's refusal.
    assert (v.status, v.evidence.event_ids) == (Status.FAIL, ("evt_2",)), v.summary
    head = "1 event refused during a fault window was never accepted and never got its effects"
    assert v.summary.startswith(head), v.summary
    assert v.summary.endswith(
        "; 2 events whose deliveries got no answer during the fault window not judged (evt_3, "
        "evt_4; the first dlv_3): none of them made a call, and the fault answered each call at "
        "once — not refused by the window but held before any call, as a handler stuck on a "
        "shared resource (a lock, a pool) that its error path never released, after dlv_2 was "
        "answered 500 — the api status fault's answer to its call, passed back, not an error "
        "of the automation's own (a lock taken by hand), or one its own earlier work holds (a "
        "pool whose tasks wait on its own tasks) — the run cannot tell which — holds every "
        "later delivery (no_lost_events and ack_within judge them)"
    ), v.summary


def test_unanswered_deliveries_during_a_window_that_holds_calls_are_still_its() -> None:
    """A slow downstream holds the calls made to it, and a delivery waiting for a connection
    those calls hold makes none: the window may have held it."""
    v = one(leaked_lock(SLOW), "recovers_after_outage")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("3 events refused during a fault window"), v.summary
    assert "not judged" not in v.summary, v.summary


def test_deliveries_none_answered_from_one_on_and_none_calling_are_stuck_not_slow() -> None:
    """At any time scale: not slow on its own, nor a backlog for --time-scale 1 (under load the
    first held delivery went out while the 500 was in flight, and the rerun was advised)."""
    # Without its window (compressed() drops it) dlv_2's 500 is the automation's own error;
    # with it, the window's answer to its call passed back: a leak, or its own work's hold.
    leaked = (
        ": not slow but stuck — a handler waiting on a shared resource (a lock, a pool) that an "
        "earlier error never released; release it whatever happens (`async with`, `finally`)"
    )
    passed = (
        " — the api status fault's answer to its call, passed back, not an error of the "
        "automation's own: not slow but stuck — a handler waiting on a shared resource (a lock, "
        "a pool) that its error path never released after that failure (a lock taken by hand, "
        "released only on success), or, if it releases what it holds whatever happens, one its "
        "own earlier work holds"
    )
    for h, cause in ((compressed(leaked_lock()), leaked), (leaked_lock(), passed)):
        v = one(h, "ack_within", seconds=0.4)
        assert v.status is Status.FAIL, v.summary
        assert "slow on its own" not in v.summary, v.summary
        assert "--time-scale 1" not in v.summary, v.summary
        assert (
            "; dlv_3 and both deliveries sent after it got no answer (no answer within 0.5 s), "
            "none of them making a call, after dlv_2 was answered 500" + cause
        ) in v.summary, v.summary


def test_timed_out_deliveries_whose_calls_came_are_a_backlog_not_stuck() -> None:
    """A target working through a queue it was sent too fast: the deliveries it still held
    when the sender gave up made their calls later."""
    h = compressed(leaked_lock())
    later = [effect(f"eff_{n}", [f"evt_{n}"], 4.0 + n) for n in (3, 4, 5)]
    v = one(replace(h, effects=[*h.effects, *later]), "ack_within", seconds=0.4)
    assert "stuck" not in v.summary, v.summary


def test_a_delivery_alone_that_got_no_answer_with_later_ones_answered_hung_on_its_own() -> None:
    h = compressed(leaked_lock())
    answered = delivery("dlv_5", "evt_5", sent=3.5)
    h = replace(h, deliveries=[*h.deliveries[:4], answered], faults=[])
    v = one(h, "ack_within", seconds=0.4)
    assert v.summary.endswith(
        "; dlv_3 got no answer (no answer within 0.5 s) with no other delivery in flight, after "
        "dlv_2 was answered 500: it hung on its own, not for the pace — bound what it waits on "
        "(a call's timeout, a lock's), and acknowledge first and do the work after"
    ), v.summary


def test_many_held_after_the_first_are_counted() -> None:
    h = leaked_lock()
    more = [_timed_out(n, 3.5 + n / 10) for n in range(6, 9)]
    h = replace(h, events=[*h.events, *(event(n, f"iss_{n}") for n in range(6, 9))])
    v = one(replace(h, deliveries=[*h.deliveries, *more]), "ack_within", seconds=0.4)
    assert "; dlv_3 and all 5 deliveries sent after it got no answer" in v.summary, v.summary
