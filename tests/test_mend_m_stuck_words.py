"""The stuck causes told from the journal alone: with no error before the first held delivery
nothing was leaked (a pool whose tasks wait on its own tasks), and answers to earlier
deliveries, or calls made in their flights, are no sign the target went on after a later one.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Status
from harness.history import History

from .test_invariants import delivery, effect, event, history, one
from .test_mend_j_stuck import _timed_out, leaked_lock


def pool_deadlock() -> History:
    """Two syncs answered 200 late, their calls made after four more deliveries were sent,
    none of which got an answer or made a call."""
    events = [event(n, f"cus_{n}") for n in range(1, 7)]
    deliveries = [
        delivery("dlv_1", "evt_1", sent=0.0, latency=0.45),
        delivery("dlv_2", "evt_2", sent=0.03, latency=0.42),
        *(_timed_out(n, 0.05 * n) for n in range(3, 7)),
    ]
    effects = [effect("eff_1", ["evt_1"], 0.4), effect("eff_2", ["evt_2"], 0.44)]
    return history(events, deliveries, effects)


def test_a_target_that_finished_its_earlier_work_and_took_nothing_new_stopped_answering() -> None:
    """Before, it passed: "the target answered 2 of 6 deliveries; 4 deliveries timed out while
    the target went on answering: slow, not gone" (dlv_2's answer and the calls came after
    dlv_3 was sent, and were theirs)."""
    v = one(pool_deadlock(), "target_available")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "the target stopped answering at 0.15 s: 4 of the 6 deliveries got no answer from then on"
    ), v.summary
    assert "slow, not gone" not in v.summary, v.summary


def test_a_stuck_tail_with_no_error_before_names_no_error() -> None:
    """Before: "… that an earlier error never released" with every answer a 200."""
    v = one(pool_deadlock(), "ack_within", seconds=0.4)
    assert v.summary.endswith(
        "; dlv_3 and all 3 deliveries sent after it got no answer (no answer within 0.5 s), none "
        "of them making a call: not slow but stuck — 2 deliveries before it answered, with no "
        "error: a handler waiting on something that never comes, a pool or a lock its own "
        "earlier work holds (a thread pool whose tasks wait on tasks of the same pool, a "
        "connection pool never given back); give the work it waits on a pool of its own, and "
        "bound every wait"
    ), v.summary


def test_held_deliveries_in_a_window_with_no_error_before_name_no_error() -> None:
    """leaked_lock with evt_2 answered 200 (its refused call not passed back): before, the held
    deliveries were "stuck on a shared resource (a lock, a pool) that an earlier error never
    released"."""
    h = leaked_lock()
    ok = delivery("dlv_2", "evt_2", sent=1.2)
    h = replace(h, deliveries=[ok if d.id == "dlv_2" else d for d in h.deliveries])
    v = one(h, "recovers_after_outage")
    assert "that an earlier error never released" not in v.summary, v.summary
    assert "a shared resource (a lock, a pool) that its own earlier work holds (no error came " in (
        v.summary
    )
