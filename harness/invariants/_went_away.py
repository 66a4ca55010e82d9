"""Lost events the target had accepted before it went away: work a process held when it died.

A target whose process dies (an OOM kill, a deploy that does not drain, a worker its supervisor
forks again) loses whatever it had accepted and held in memory — a queue, a background task —
though the sender heard 2xx for each. The run sees it go: deliveries it could not connect,
reset, or left unanswered for good (``target_available``'s outages). Events lost that it had
accepted before such an outage began were in the process that died: that is their cause, not a
queue slower than the settle quiet, and no longer settle shows them (tests/gallery/
restarts_midrun.py: told "raise the settle quiet" of the orders its dead workers had queued).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Effect
from ..drive._target import names_app
from ..history import History, effect_values, event_rows
from ._facts import first_accepted, plural, timestamp, which_of
from .target_available import NoAnswer, Outage, availability, kinds_text


def unseen_end(history: History, what: str) -> str:
    """``, or queued them in a process that then ended (this run cannot tell which: …)``:
    where the run saw the target go nowhere, lost events it accepted may still have died with
    a process that ended between deliveries — a worker its supervisor forks again on the socket
    it holds fails no delivery where none is in flight (tests/gallery/restarts_midrun.py, 125 ms
    between orders: 14 of 24 lost, every delivery answered, told only to raise the settle
    quiet). No trace of it reaches a sender, so a cause naming only the other reading guesses.
    "" for an app run in the harness's own process, which cannot end unseen."""
    if names_app(history.info.target):
        return ""
    return (
        f", or {what} in a process that then ended (this run cannot tell which: a crash, an "
        "OOM kill or a restart between deliveries fails none of them and leaves no other trace "
        "here — look in the target's log for one during the run)"
    )


@dataclass(frozen=True, slots=True)
class WentAway:
    """Of ``lost`` (events, or records short of requests that name no event), those the
    target accepted events of before an outage began (``held``), and the outages after them."""

    lost: int
    held: tuple[str, ...]
    outages: tuple[Outage, ...]
    records: bool = False  # ``held`` are records, not events

    @property
    def every(self) -> bool:
        return len(self.held) == self.lost

    def text(self) -> str:
        """``; all 3 of these were accepted before the target went away …``."""
        n = len(self.held)
        these, one = ("these records", "the record") if self.records else ("these", "it")
        which = which_of(n, self.lost, these, one)
        if self.records:
            verb = "had events accepted (2xx)"
        else:
            verb = f"{'was' if n == 1 else 'were'} accepted (2xx)"
        pairs = [p for o in self.outages for p in o.deliveries]
        first, last = self.outages[0], self.outages[-1]
        when = (
            f"at {timestamp(first.start)}"
            if len(self.outages) == 1
            else f"{len(self.outages):,} times, from {timestamp(first.start)} to "
            f"{timestamp(last.start)}"
        )
        # Timeouts alone, with no sign of life after (target_available's outage): hung or dead,
        # the run cannot tell which.
        hung = all(kind is NoAnswer.TIMEOUT for _, kind in pairs)
        if last.until is not None:
            after = (
                f"and answered again after {'it' if len(self.outages) == 1 else 'each'}: its "
                "process died and was started again: work it held in memory, queued or in "
                "flight, died with the process"
            )
        elif hung:
            after = (
                "and neither answered nor called a downstream after the last: it hung or died, "
                "and work it held in memory, queued or in flight, was stuck or lost with it"
            )
        else:
            after = (
                "and answered nothing after the last: its process died: work it held in "
                "memory, queued or in flight, died with the process"
            )
        fix = (
            "find what stopped it (a deadlock, a call without a timeout, an OOM kill)"
            if hung and last.until is None
            else "drain the work before a restart"
        )
        return (
            f"; {which} {verb} before the target went away {when} — "
            f"{plural(len(pairs), 'delivery', 'deliveries')} got no answer ({kinds_text(pairs)}; "
            f"target_available), {after}, so a longer settle would show nothing more of it — "
            "keep each event where a new process takes it up (a durable queue, a jobs table) "
            f"before answering 2xx, and {fix}"
        )


def went_away(
    history: History,
    effects: Sequence[Effect],
    lost: Collection[str],
    records: Collection[str] = (),
) -> WentAway | None:
    """Which of ``lost`` (events accepted and left without their effects) — or, where none is
    named, of ``records`` (short of requests that name no event) — the target had accepted
    (events of) before it went away; None where none was, or it never went away.

    An event it accepted before an outage is not said held when it worked an event accepted
    after it and before the outage: its queue got past the event, passed over rather than
    held when the process died (``_after_answers`` says so). Of a record, a call naming only
    the record is taken as work on its latest event accepted by then (``_worked``)."""
    if not lost and not records:
        return None
    outages = availability(history).outages
    if not outages:
        return None
    keys = set(records) if not lost else set()
    wanted = set(lost)
    of_record: dict[str, str] = {}
    if keys:
        of_record = {e.id: e.key for e in history.events if e.key in keys}
        wanted = set(of_record)
    accepted = first_accepted(history.deliveries)
    starts = sorted(o.start for o in outages)
    worked = sorted(_worked(history, effects, accepted) if keys else _named(effects, accepted))
    before: dict[str, float] = {}
    for e in wanted:
        at = accepted.get(e)
        if at is None or (n := bisect_right(starts, at)) == len(starts):
            continue  # accepted after the last outage began
        # A call for an event accepted after it, before the outage: passed over, not held.
        if bisect_right(worked, at) == bisect_left(worked, starts[n]):
            before[e] = at
    if not before:
        return None
    since = min(before.values())
    after = tuple(o for o in outages if o.start > since)
    if keys:
        held = tuple(sorted({of_record[e] for e in before}))
        return WentAway(len(keys), held, after, records=True)
    return WentAway(len(wanted), tuple(e for e in lost if e in before), after)


def _named(effects: Sequence[Effect], accepted: Mapping[str, float]) -> set[float]:
    """When the events the target made calls for were accepted."""
    return {
        accepted[i] for ids in effect_values(effects, "event_ids") for i in ids if i in accepted
    }


def _worked(
    history: History, effects: Sequence[Effect], accepted: Mapping[str, float]
) -> set[float]:
    """When the events the target made calls for were accepted, a call naming only its record
    taken for the latest event of it accepted by then: a worker that paid an order accepted
    after one held got past it."""
    times: dict[str, list[float]] = {}
    for eid, key in event_rows(history.events, "id", "key"):
        if (at := accepted.get(eid)) is not None:
            times.setdefault(key, []).append(at)
    for ordered in times.values():
        ordered.sort()
    worked = _named(effects, accepted)
    for w in effects:
        if not w.event_ids and w.key is not None and (found := times.get(w.key)):
            if n := bisect_right(found, w.at):
                worked.add(found[n - 1])
    return worked
