"""A retry pace the watched target's wait for a CPU may have set: tests/gallery/hammer_retry.py
retrying at once, starved beside two busy loops at -n 4 (3 of 6 runs), made each refused order
about 10 times a second — under backs_off's 20 — while the harness's own loop kept within half
a gap: backs_off passed "at most 10 calls of one write in one second" for a loop that does not
wait at all. Where the run watched the target's process (``--target-pid``) and the seconds it
waited for a CPU, taken off, leave a pace over the limit, it cannot be told: inconclusive."""

from __future__ import annotations

import json
from dataclasses import replace

from harness.core._model import LOOP_LAG_MARK, Status
from harness.history import History, Mark

from .test_backs_off import NAME, OUTAGE, retried
from .test_invariants import one

STEADY = [1.0 + 0.1 * n for n in range(10)]  # 10 refused calls 100 ms apart, then one let through


def watched(h: History, target_wait: float) -> History:
    """``h`` with the harness's loop 20 ms late in every quarter second of 1-3 s, and the
    target's process waiting ``target_wait`` s of each for a CPU."""
    detail = json.dumps({"lag": 0.02, "span": 0.25, "target_wait": target_wait})
    return replace(h, marks=[Mark(1.0 + 0.25 * n, LOOP_LAG_MARK, detail) for n in range(9)])


def test_a_steady_pace_the_watched_target_was_starved_into_is_not_passed() -> None:
    """Before: passed, "at most 10 calls of one write in one second"."""
    v = one(watched(retried(STEADY, OUTAGE, let_through=3.5), 0.15), NAME)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert (
        "but POST /payouts was made 10 times in one second from 1.00 s, each refused, at a steady "
        "100 ms apart (the median gap), while the harness's own event loop ran up to 20 ms late, "
        "and the automation's process waited 540 ms of their 900 ms for a CPU: on this loaded "
        "machine that pace may be the machine's"
    ) in v.summary, v.summary


def test_a_pace_the_wait_would_not_take_over_the_limit_passes() -> None:
    """The same calls where the target waited 50 ms a quarter second: 9 gaps in 720 ms of its
    own, 12.5 a second — its own pace under the limit, whatever the machine."""
    v = one(watched(retried(STEADY, OUTAGE, let_through=3.5), 0.05), NAME)
    assert v.status is Status.PASS, v.summary
    assert "at most 10 calls of one write in one second" in v.summary, v.summary
    growing = [1.0, 1.02, 1.06, 1.14, 1.3, 1.62]  # a backoff doubling from 20 ms
    v = one(watched(retried(growing, OUTAGE, let_through=3.5), 0.15), NAME)
    assert v.status is Status.PASS, v.summary
