"""A target that stopped for good, told as stopped whatever the machine's timing: a pool
deadlocked by a burst (tests/gallery/shared_executor.py) on a loaded machine answered a few
deliveries that reached it after the first ones it held for good. Those first ones were told
"timed out while the target went on answering: slow, not gone" beside "the target stopped
answering at …" in one verdict (a fresh-venv suite run: 7 of them, and 50 after the stop)."""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Status
from harness.history import History
from harness.invariants._refusal_context import timed_out

from .test_invariants import delivery, effect, event, history, one
from .test_mend_j_stuck import _timed_out


def deadlock_out_of_order() -> History:
    """dlv_1 and dlv_4 answered 502 (their calls refused), dlv_2 and dlv_3 sent between them
    and never answered, nor anything sent after dlv_4: the target's last answer at 0.07 s,
    while dlv_2 and dlv_3 still waited (0.5 s)."""
    events = [event(n, f"cus_{n}") for n in range(1, 9)]
    deliveries = [
        delivery("dlv_1", "evt_1", sent=0.0, latency=0.06, status=502),
        _timed_out(2, 0.01),
        _timed_out(3, 0.02),
        delivery("dlv_4", "evt_4", sent=0.03, latency=0.04, status=502),
        *(_timed_out(n, 0.01 * n) for n in range(5, 9)),
    ]
    effects = [
        effect("eff_1", ["evt_1"], 0.04, status=502),
        effect("eff_4", ["evt_4"], 0.05, status=502),
    ]
    return history(events, deliveries, effects)


def test_timeouts_still_held_when_the_target_stopped_are_not_slow() -> None:
    """Before: "the target stopped answering at 0.05 s: 4 of the 8 deliveries got no answer
    from then on (4 timed out); 6 events never accepted because of it; 2 deliveries timed out
    while the target went on answering: slow, not gone (ack_within judges that)"."""
    v = one(deadlock_out_of_order(), "target_available")
    assert v.status is Status.FAIL, v.summary
    assert v.summary == (
        "the target stopped answering at 0.05 s: 4 of the 8 deliveries got no answer from then "
        "on (4 timed out); before that, 2 deliveries got no answer between 0.01 s and 0.02 s "
        "(2 timed out), and the target answered again after; 6 events never accepted because "
        "of it"
    ), v.summary


def test_a_timeout_the_target_went_on_after_is_still_slow() -> None:
    """dlv_2 gave up (0.51 s) before the target's last answer (dlv_4's, at 0.6 s): it went on
    answering after it, then stopped — dlv_2 slow, the stop after dlv_4 counted."""
    h = deadlock_out_of_order()
    h.deliveries[3] = delivery("dlv_4", "evt_4", sent=0.03, latency=0.57, status=502)
    h.deliveries[2] = delivery("dlv_3", "evt_3", sent=0.02, latency=0.03, status=502)
    v = one(h, "target_available")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "the target stopped answering at 0.05 s: 4 of the 8 deliveries got no answer from then on"
    ), v.summary
    assert v.summary.endswith(
        "; 1 delivery timed out while the target went on answering: slow, not gone (ack_within "
        "judges that)"
    ), v.summary


def deadlocked_at_once() -> History:
    """Six deliveries sent together, none answered, no call made — the pool taken by the
    first burst's syncs before any of their look-ups ran —, where the clean run answered each
    and its calls named their events."""
    events = [event(n, f"cus_{n}") for n in range(1, 7)]
    clean = history(
        events,
        [delivery(f"dlv_{n}", f"evt_{n}", sent=0.1 * n) for n in range(1, 7)],
        [effect(f"eff_{n}", [f"evt_{n}"], 0.1 * n + 0.02) for n in range(1, 7)],
    )
    run = history(events, [_timed_out(n, 0.005 * n) for n in range(1, 7)], [])
    return replace(run, baseline=clean)


def test_a_pool_deadlocked_by_the_first_burst_is_stuck_not_hung_alone() -> None:
    """Before: no cause here ("6 of 6 deliveries over the 0.4 s budget …; no delivery was
    answered"), and in the compressed run of tests/test_mend_m_stuck.py (5 of 28 times beside
    two busy loops) "dlv_000001 got no answer (no answer within 5 s) with no other delivery in
    flight: it hung on its own, not for the pace" — 59 more were sent in its flight, and the
    clean run answered each event."""
    v = one(deadlocked_at_once(), "ack_within", seconds=0.4)
    stuck = (
        "; dlv_1 and all 5 deliveries sent after it got no answer (no answer within 0.5 s), none "
        "of them making a call: not slow but stuck — from the run's first delivery, whose "
        "events the clean run's calls named: a handler waiting on something that never comes, "
        "a pool or a lock the work of the deliveries sent together holds (a thread pool whose "
    )
    assert stuck in v.summary, v.summary
    assert "hung on its own" not in v.summary, v.summary
    # The run header tells the same (it said "it is stuck or far too slow").
    h = deadlocked_at_once()
    assert timed_out(h, h.deliveries).stuck.startswith(
        "no delivery answered from dlv_1 on, none of them making a call: not slow but stuck"
    )


def test_with_no_clean_run_a_target_that_never_answered_is_not_told_stuck_on_a_pool() -> None:
    """Nothing shows the target calls for its events: no stuck tail to tell."""
    v = one(replace(deadlocked_at_once(), baseline=None), "ack_within", seconds=0.4)
    assert "not slow but stuck" not in v.summary, v.summary
