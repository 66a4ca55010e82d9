"""When a run has settled: the target quiet for a while in real seconds, and no accepted event
still waiting for its effects — or the deadline.

The rule (docs/troubleshooting.md, "Lost or late?"), with ``quiet`` and ``deadline`` in real
seconds (``_options.settle_for``), counted once the last fault window has closed:

* settling ends once no call reached a double, and none was held open, for ``quiet`` seconds,
  and no accepted event is pending (``PendingRule``);
* while some are pending, the quiet it takes is PENDING_QUIET times longer: a queue that pauses
  between two events is waited for, and a target that ignores some events by design (they never
  get an effect) costs one more quiet period, not the whole deadline;
* whatever happens, it ends ``deadline`` seconds after it began.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Effect, Event
from ..core._scenario import Settle
from ..double._downstream import Downstream
from ..invariants._facts import is_write

PendingRule = Callable[[Sequence[Event], Sequence[Effect], Mapping[str, float]], Collection[str]]
"""(accepted events, effects recorded so far, event id -> when its first delivery was sent)
-> the ids of the accepted events still waiting for an effect. Called once the target has been
quiet, again only when something new arrived."""

# Measured on tests/gallery/background_queue.py (0.3 s of work per event after the 200): 1 s of
# quiet already covers its gaps; twice the quiet while events are pending also covers a retry
# backoff of a second or two, at the price of one more quiet period for targets that ignore
# events by design or lose them.
PENDING_QUIET = 2.0
# Seconds between looks at the doubles while a call is held open (its end unknown): settling
# ends within this of its time. Otherwise the wait sleeps until the quiet would be reached or a
# call arrives: the 20 to 80 looks a second it took whatever happened cost the run's loop a
# wake-up each (about 0.1 ms of CPU), for as long as it settled.
_POLL = 0.05
_STEP_FLOOR = 0.001  # a timer due a hair early: the rest of the wait, never a busy loop


def awaiting_effect(
    accepted: Sequence[Event], effects: Sequence[Effect], first_sent: Mapping[str, float]
) -> set[str]:
    """The default PendingRule: accepted events that no committed write names yet."""
    written = {eid for e in effects if is_write(e) for eid in e.event_ids}
    return {ev.id for ev in accepted if ev.id not in written}


@dataclass(frozen=True, slots=True)
class Settled:
    """How settling ended: ``quiet`` (nothing pending), ``pending`` (quiet for PENDING_QUIET
    times the quiet with events still pending) or ``deadline``; ``waited`` s after it began,
    ``idle`` s after the target's last call (under the quiet at a deadline: still working)."""

    ended: str
    waited: float
    pending: int
    idle: float

    def detail(self) -> str:
        """The SETTLED_MARK detail kept in the journal."""
        return json.dumps(
            {
                "ended": self.ended,
                "waited": round(self.waited, 3),
                "pending": self.pending,
                "idle": round(self.idle, 3),
            }
        )


async def wait_quiet(
    clock: Callable[[], float],
    doubles: Sequence[Downstream],
    settle: Settle,
    pending: Callable[[], Collection[str]] | None = None,
    *,
    since: float | None = None,
    pending_quiet: float | None = None,
) -> Settled:
    """Wait by the settle rule on ``doubles`` (``clock``: the run's time); ``pending`` gives
    the events still waiting, None to wait for quiet alone. The quiet counts from the doubles'
    last call, and not before ``since`` (default: now): a wait that follows one which already
    saw the quiet (a run's drain after its settling) ends at once when nothing came since.
    ``pending_quiet``: the quiet it takes while some are pending (default: PENDING_QUIET times
    the quiet)."""
    start = clock()
    busy = start if since is None else since
    deadline = start + settle.deadline
    quiet_pending = pending_quiet or settle.quiet * PENDING_QUIET
    while True:
        now = clock()
        flying = any(d.in_flight for d in doubles)
        if flying:
            busy = now  # a slow or held answer: the automation is still waiting on it
        last = max((d.last_effect_at or 0.0 for d in doubles), default=0.0)
        idle = now - max(last, busy)
        if idle >= settle.quiet:
            if pending is None:
                return Settled("quiet", now - start, 0, idle)
            waiting = pending()
            if not waiting:
                return Settled("quiet", now - start, 0, idle)
            if idle >= quiet_pending:
                return Settled("pending", now - start, len(waiting), idle)
        if now >= deadline:
            left = len(pending()) if pending is not None else 0
            return Settled("deadline", now - start, left, idle)
        if flying:  # its end is not known: looked at again shortly, as it always was
            await asyncio.sleep(min(_POLL, settle.quiet / 4, max(deadline - now, 0.001)))
        else:  # only a new call can move the wait's end: until then, or a call
            step = (quiet_pending if idle >= settle.quiet else settle.quiet) - idle
            await _until_a_call(doubles, max(min(step, deadline - now), _STEP_FLOOR))


async def _until_a_call(doubles: Sequence[Downstream], seconds: float) -> None:
    """Sleep ``seconds``, or until a call reaches one of ``doubles`` (``Downstream.woken``)."""
    loop = asyncio.get_running_loop()
    woken: asyncio.Future[None] = loop.create_future()
    timer = loop.call_later(seconds, _wake, woken)
    for d in doubles:
        d.woken.add(woken)
    try:
        await woken
    finally:
        timer.cancel()
        for d in doubles:
            d.woken.discard(woken)


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)
