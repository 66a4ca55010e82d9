"""A stuck tail after a 5xx that was a fault window's answer passed back: not "an earlier error
never released" alone (tests/gallery/shared_executor.py under ambiguous-commit: the sync's
pool deadlocked by its own look-ups, the delivery before the stall answered 502 — the
commit-then-fail fault's answer to its call, passed back — was told "after dlv_000003 was
answered 502: … that an earlier error never released")."""

from __future__ import annotations

from harness.core._model import Fault, Outcome, Status

from .test_fault_invariants import with_faults
from .test_invariants import delivery, effect, event, history, one
from .test_mend_j_stuck import _timed_out, leaked_lock

AMBIGUOUS = Fault("api", "commit-then-fail", 0.0, 0.1, {"status": 502})


def test_a_stall_after_the_faults_502_passed_back_names_the_fault_and_both_readings() -> None:
    """evt_1 synced; evt_2's call applied and answered 502 by the window, the delivery answered
    502; evt_3 to evt_6 never answered, none making a call. It said "after dlv_2 was answered
    502: not slow but stuck — … that an earlier error never released" (fails before)."""
    events = [event(n, f"cus_{n}") for n in range(1, 7)]
    deliveries = [
        delivery("dlv_1", "evt_1", sent=0.0, latency=0.03),
        delivery("dlv_2", "evt_2", Outcome.FAILED, sent=0.04, latency=0.03, status=502),
        *(_timed_out(n, 0.05 + 0.01 * n) for n in range(3, 7)),
    ]
    effects = [effect("eff_1", ["evt_1"], 0.01), effect("eff_2", ["evt_2"], 0.05, status=502)]
    v = one(with_faults(history(events, deliveries, effects), AMBIGUOUS), "ack_within", seconds=0.4)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.endswith(
        "; dlv_3 and all 3 deliveries sent after it got no answer (no answer within 0.5 s), none "
        "of them making a call, after dlv_2 was answered 502 — the api commit-then-fail fault's "
        "answer to its call, passed back, not an error of the automation's own: not slow but "
        "stuck — a handler waiting on a shared resource (a lock, a pool) that its error path "
        "never released after that failure (a lock taken by hand, released only on success), "
        "or, if it releases what it holds whatever happens, one its own earlier work holds (a "
        "thread pool whose tasks wait on tasks of the same pool) — this run cannot tell which: "
        "release it whatever happens (`async with`, `finally`), give the work it waits on a "
        "pool of its own, and bound every wait"
    ), v.summary


def test_held_deliveries_after_an_outages_500_passed_back_name_both_readings() -> None:
    """leaked_lock (tests/gallery/repo_lock.py's shape: evt_2's call refused 503 by the window,
    answered 500, its lock left held): a leaked lock still named, beside a pool its own work
    holds, the 500 said the fault's."""
    v = one(leaked_lock(), "recovers_after_outage")
    assert (
        "as a handler stuck on a shared resource (a lock, a pool) that its error path never "
        "released, after dlv_2 was answered 500 — the api status fault's answer to its "
        "call, passed back, not an error of the automation's own (a lock taken by hand), or one "
        "its own earlier work holds (a pool whose tasks wait on its own tasks) — the run cannot "
        "tell which — holds every later delivery"
    ) in v.summary, v.summary
