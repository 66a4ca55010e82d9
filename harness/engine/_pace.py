"""The clean run's pace: the next event is sent once the previous one's work is done, as far as
the doubles can see — not merely once it was answered.

An automation that answers first and works afterwards (a queue, worker threads, an async
engine) would otherwise get the clean run as a burst at the speed of its answers, and its own
races would happen there: what the clean run teaches (expected effects, final state) would hold
them, and a run that loses the same work would pass. The rule, after each event is answered,
with ``event_quiet`` and ``event_deadline`` the scenario's real seconds (``Settle``):

* an automation not yet seen working after it answers, whose calls for this event were made
  before its answer and none is still held open, is not waited for: a synchronous automation
  costs nothing more;
* otherwise the wait is settling's (``_settle.wait_quiet``) on one event: no call for
  ``event_quiet`` s since the answer or the last call, at most ``event_deadline`` s; an event
  that made no call yet waits for its first one up to ``event_deadline``;
* an automation that made its calls before answering, and after an event that made none was
  waited for in vain, is taken as synchronous: an event that made none is not waited for again
  (one ``event_deadline`` per run, for the events it skips);
* an event type none of whose events made a call, one of which made none within
  ``event_deadline``, is taken as one the automation ignores: its later events wait
  ``event_quiet`` alone once the automation was seen working after it answers, and not at all
  before (until one of them makes a call);
* an automation that let IN_VAIN waits for an event's first call reach ``event_deadline``
  without any call (a batch that fills or times out, a schedule) is taken as deferring its
  work: from then on no event waits for its first call, only for ``event_quiet`` — a clean run
  of a batching automation costs a few deadlines, not one per event.

The automation is seen working after it answers once a call reaches a double after an answer
(while the harness waited, or before it sent the next event).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence

from ..core._scenario import Settle
from ..double._downstream import Downstream
from ._settle import wait_quiet

IN_VAIN = 3  # waits for a first call that saw none before the automation is taken as deferring


class CleanPace:
    """The ``pace`` of a clean run's Deliverer (``drive._deliver.Pace``): runs one delivery,
    then waits by the rule above before returning. ``detail()``: what it waited, for the
    journal's PACED_MARK."""

    def __init__(self, clock: Callable[[], float], doubles: Sequence[Downstream], settle: Settle):
        self._clock = clock
        self._doubles = doubles
        self._wait = Settle(settle.event_quiet, settle.event_deadline)
        self._after_answer = False  # a call reached a double after an answer
        self._acting: set[str] = set()  # types an event of which made a call
        self._before_answer = False  # an event's calls were all made before its answer
        self._synchronous = False  # ... and a wait after an event without calls saw none
        self._silent: set[str] = set()  # types taken as ignored (none of them made a call)
        self._since_answer = 0  # calls recorded when the last wait ended
        self._events = 0
        self._waits = 0
        self._capped = 0  # waits that reached event_deadline
        self._in_vain = 0  # ... of which no call at all came in
        self._waited = 0.0

    def _calls(self) -> int:
        return sum(d.effects_recorded for d in self._doubles)

    @property
    def _deferring(self) -> bool:
        """Taken as deferring its work: no event waits for its first call any more."""
        return self._in_vain >= IN_VAIN

    async def __call__(self, job: Callable[[], Awaitable[object]], event_type: str) -> None:
        sent = self._calls()
        if sent > self._since_answer:  # calls after the previous answer, before this send
            self._after_answer = True
        await job()
        self._events += 1
        answered, calls = self._clock(), self._calls()
        self._since_answer = calls
        if not self._wait.deadline:
            return
        made = calls > sent
        busy = any(d.in_flight for d in self._doubles)
        if made:
            self._acting.add(event_type)
            self._before_answer |= not busy
        silent = event_type in self._silent
        if not self._after_answer and not busy and (made or silent or self._synchronous):
            return  # worked before answering, or an event it ignores

        def first_call() -> tuple[str, ...]:
            return () if self._calls() > sent else (event_type,)

        settled = await wait_quiet(
            self._clock,
            self._doubles,
            self._wait,
            None if made or silent or self._deferring else first_call,
            since=answered,
            pending_quiet=self._wait.deadline,
        )
        self._waits += 1
        self._capped += settled.ended != "quiet"
        self._waited += settled.waited
        self._since_answer = after = self._calls()
        self._in_vain += settled.ended != "quiet" and after == calls
        if after > calls:
            self._after_answer = True
        elif self._before_answer:
            self._synchronous = True
        if after > sent:
            self._acting.add(event_type)
            self._silent.discard(event_type)
        elif event_type not in self._acting:
            self._silent.add(event_type)

    def detail(self) -> str:
        """How the clean run was paced: events sent, waits, those that reached the event
        deadline, whether it was taken as deferring its work, seconds waited, whether the
        automation was seen working after it answered, the types taken as ignored."""
        return json.dumps(
            {
                "events": self._events,
                "waits": self._waits,
                "capped": self._capped,
                "deferring": self._deferring,
                "waited": round(self._waited, 3),
                "after_answer": self._after_answer,
                "ignored_types": sorted(self._silent),
            }
        )
