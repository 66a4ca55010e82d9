"""Unseen, not lost: the accepted events a run the user stopped (Ctrl-C, SIGTERM) could not
watch for as long as a complete run would have.

A complete run waits, once its deliveries are sent and its fault windows closed, until the
target has made no call for the settle quiet — for ``wait`` seconds (twice the quiet) while
accepted events still lack their effects (``engine/_settle``). It calls an event lost only
after that. A run the user stopped ends where it is: the ``interrupted`` Mark keeps when, and
the wait its settling would have given. Its target was watched until then — or until a deploy
restart hook Ctrl-C stopped part-way began (``_restarts``): from there on the target was the
hook's, maybe stopped, maybe half restarted. The rule, with ``since`` the last moment the
target was seen busy before that (its last call, a call still held open at the stop, the end
of a fault window):

* the target still busy within ``wait`` of the watch's end: every accepted event may be late
  (a queue that had not reached it), none is lost;
* else an event accepted within ``wait`` of the watch's end (or after it) is unseen;
* an event accepted earlier, the target idle for ``wait`` since: a complete run would have
  waited no longer — lost, as in a complete run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence, Set
from dataclasses import dataclass, field

from ..core._model import Delivery
from ..history import History, effect_values
from ._facts import first_accepted, plural, timestamp
from ._restarts import restarts_of

INTERRUPTED_MARK = "interrupted"
"""The Mark of a run the user stopped (Ctrl-C or SIGTERM), at the moment it stopped (detail:
JSON ``{"quiet": s, "wait": s, "held": bool}``: the settle quiet, the quiet settling waits
while accepted events lack their effects, and whether a call to a double was still open)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Where the user stopped a run (``at``), until when its target was watched (``watched``:
    ``at``, or the start of a restart hook Ctrl-C stopped), the last moment it was seen busy
    before (``since``), and the wait a complete run would have given (``wait``); the run's
    ``deliveries``, read for the moments its events were accepted."""

    at: float
    watched: float
    since: float
    wait: float
    restarting: bool
    deliveries: Sequence[Delivery] = field(repr=False, compare=False)

    @property
    def busy(self) -> bool:
        """Whether the target was seen working within the wait of the watch's end: then no
        accepted event was waited for as long as a complete run would have."""
        return self.watched < self.since + self.wait

    def unseen(self, ids: Collection[str]) -> set[str]:
        """Those of ``ids`` (accepted events) the stop left unseen: all where the target was
        busy, else those accepted within the wait of the watch's end (or after it)."""
        if self.busy:
            return set(ids)
        if not ids:
            return set()
        accepted = first_accepted(self.deliveries, ids if isinstance(ids, Set) else set(ids))
        after = self.watched - self.wait
        return {eid for eid, at in accepted.items() if at > after}

    def left_unseen(self) -> int:
        """How many of the run's accepted events the stop left unseen."""
        accepted = first_accepted(self.deliveries)
        if self.busy:
            return len(accepted)
        after = self.watched - self.wait
        return sum(1 for at in accepted.values() if at > after)

    def text(self, n: int) -> str:
        """Why ``n`` accepted events short of their effects are not called lost."""
        one = n == 1
        it, they = ("it", "it") if one else ("them", "they")
        where = f"the user stopped the run (Ctrl-C or SIGTERM) at {timestamp(self.at)}"
        if self.restarting:
            where += f", in the deploy restart that began at {timestamp(self.watched)}"
        if self.busy:
            seen = (
                f"the target still working then (its last call {self.watched - self.since:.2f} s "
                f"before, under the {self.wait:g} s a run waits for work not yet done)"
            )
        else:
            seen = (
                f"less than the {self.wait:g} s a run waits for work not yet done after "
                f"{'it was' if one else 'they were'} accepted"
            )
        return (
            f"{where}, {seen}: {they} may be late rather than lost, not seen — let the run "
            f"settle (run it again to its end) to judge {it}"
        )


def stop_of(history: History) -> Stop | None:
    """The stop the user made of ``history``, None where it ran to its end (most runs)."""
    found = [m for m in history.marks if m.name == INTERRUPTED_MARK]
    if not found:
        return None
    mark = found[-1]
    detail = json.loads(mark.detail)
    cut = [r.started for r in restarts_of(history) if r.interrupted]
    watched = min([mark.at, *cut])
    calls = [t for t in effect_values(history.effects, "at") if t <= watched]
    busy = [max(calls, default=-math.inf)]
    if detail.get("held") and watched == mark.at:
        busy.append(watched)  # a call still open: the target was waiting on it
    busy += [min(f.end, watched) for f in history.faults if f.start <= watched]
    since = max(busy)
    wait = float(detail["wait"])
    return Stop(mark.at, watched, since, wait, watched < mark.at, history.deliveries)


def stopped_line(stop: Stop) -> str:
    """The run header's line: when the user stopped the run, and what that left unseen."""
    n = stop.left_unseen()
    when = f"stopped by the user (Ctrl-C or SIGTERM) at {timestamp(stop.at)}"
    if stop.restarting:
        when += f", in the deploy restart that began at {timestamp(stop.watched)}"
    wait = f"the {stop.wait:g} s a run waits for work not yet done"
    if not n:
        return f"{when}: every accepted event had had {wait}; what they lack is judged"
    were = "was" if n == 1 else "were"
    return (
        f"{when}: {plural(n, 'accepted event')} {were} still within {wait} — what "
        f"{'it lacks' if n == 1 else 'they lack'} is unseen, not judged lost"
    )
