"""A target that stopped for good, told as stopped whatever the machine's timing: a pool
deadlocked by a burst (tests/gallery/shared_executor.py) on a loaded machine answered a few
deliveries that reached it after the first ones it held for good. Those first ones were told
"timed out while the target went on answering: slow, not gone" beside "the target stopped
answering at …" in one verdict (a fresh-venv suite run: 7 of them, and 50 after the stop)."""

from __future__ import annotations

from harness.core._model import Status
from harness.history import History

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
