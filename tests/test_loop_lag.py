"""The harness's own event loop running late (engine/_lag) and what ack_within makes of it: a
slow answer that the harness's lateness explains is counted and said, not blamed on the target;
one still over budget without the lag, or timed while the loop kept up, is."""

from __future__ import annotations

import asyncio
import json
import time

from harness.core._model import LOOP_LAG_MARK, Outcome, Status
from harness.core._scenario import InvariantSpec
from harness.engine._lag import watch_lag
from harness.history import History, Mark
from harness.invariants import judge

from .test_invariants import delivery, event, history


def test_a_blocked_loop_leaves_a_mark_of_how_late_it_ran() -> None:
    marks: list[tuple[float, str, str]] = []
    start = time.monotonic()

    def clock() -> float:
        return time.monotonic() - start

    async def run() -> None:
        watching = asyncio.create_task(watch_lag(clock, lambda n, d: marks.append((clock(), n, d))))
        await asyncio.sleep(0.3)  # a quiet loop: no mark, or the machine's own lateness
        time.sleep(0.15)  # the loop blocked, as by a CPU-bound neighbour
        await asyncio.sleep(0.4)
        watching.cancel()

    asyncio.run(run())
    lags = [(at, json.loads(detail)["lag"]) for at, name, detail in marks if name == LOOP_LAG_MARK]
    assert len(lags) == len(marks)
    # A loaded machine (the suite's other workers) may make the loop late before the block
    # too, and be said so; never by as much as the block itself.
    at, worst = max(lags, key=lambda mark: mark[1])
    assert 0.14 <= worst < 0.5 and at >= 0.45
    assert all(lag < 0.14 for when, lag in lags if when < 0.3)


def _judged(latency: float | None, lag: float | None) -> tuple[Status, str]:
    """ack_within (budget 0.5 s) over one delivery sent at 1 s, with a loop-lag mark of
    ``lag`` during its flight."""
    outcome = Outcome.OK if latency is not None else Outcome.INDETERMINATE
    status = 200 if latency is not None else None
    d = delivery("dlv_1", "evt_1", outcome, sent=1.0, latency=latency, status=status)
    h = history([event(1)], [d], [])
    marks = [] if lag is None else [Mark(1.2, LOOP_LAG_MARK, json.dumps({"lag": lag}))]
    h = History(h.info, h.events, h.deliveries, h.effects, marks=marks)
    [v] = judge(h, [InvariantSpec("ack_within", {"seconds": 0.5})])
    return v.status, v.summary


def test_a_slow_answer_the_harness_lag_explains_is_inconclusive_and_says_why() -> None:
    status, summary = _judged(0.7, 0.3)
    assert status is Status.INCONCLUSIVE
    assert "1 more delivery over the budget not counted" in summary
    assert "ran up to 300 ms late" in summary


def test_a_slow_answer_is_the_targets_when_the_lag_cannot_explain_it() -> None:
    assert _judged(0.7, None)[0] is Status.FAIL  # no lag at all
    assert _judged(0.7, 0.03)[0] is Status.FAIL  # under a tenth of the budget
    assert _judged(1.2, 0.3)[0] is Status.FAIL  # over budget even without the lag


def test_a_timeout_during_a_lagging_loop_is_not_blamed_on_the_target() -> None:
    assert _judged(None, 0.3)[0] is Status.INCONCLUSIVE
    assert _judged(None, 0.03)[0] is Status.FAIL
