"""Events the target refused — answered 503 or 429 ("come back later"), another 5xx, or no
answer at all, to every genuine delivery, none of them in flight during a downstream fault
window — that the run never redelivered and saw accepted.

A target that cannot take an event now (its queue full, a lock held, its database pool
exhausted) leaves the event to its sender: whether the target takes it on a retry is what
decides its loss. A run that sent no such retry (a hazard that sends none, or a provider whose
retries come later than the run watched) did not see that, and a ``no_lost_events`` pass over
the accepted events alone would claim it: inconclusive, saying so. A 500 is no different there:
``no_server_errors`` counts it where a scenario judges it, but a burst answered 500 for a
quarter of its events passed "never accepted by the target (not counted as lost)", the run
Ready. A sender that never redelivers (GitHub), or gave up after the retries the run sent, will
not bring back an event refused any way: it is lost in production, and ``no_lost_events`` fails
on it — a GitHub receiver that answered 500 to one issue of 200 (a title beyond Latin-1 in a
header) passed the same way. Refusals during a downstream fault window are
``recovers_after_outage``'s — but those the automation made alike in the clean run, with no call
of theirs answered by the fault, are its own (``_refused_alike``) and judged here; a 4xx is a
refusal of the event (a payload the automation rejects), and an event a drift hazard changed
may be refused on purpose (``drift_is_loud`` judges those) — unless its clean twin, undrifted,
was refused alike: then the drift is not what refused it, and it is judged here
(tests/gallery/issue_exports: an issue whose title is beyond Latin-1, 500, drifted or not).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from itertools import compress, count

from ..core._model import Delivery, Event, Evidence, Model, Status, Verdict
from ..core._scenario import FAULT_MODES
from ..drive._drift import drifted_events
from ..history import delivery_column, delivery_numbers
from ._expected import expectation_of
from ._facts import MAX_WITNESSES, Facts, Witness, deliveries_text, event_ref, evidence, plural
from ._lag import flight_end
from ._refused_alike import refused_alike
from ._sender import Redelivery, Sender, sender_of

DEFERRALS = frozenset({429, 503})
# Where the verdict failed on other events already: how many more the refusals lost.
MORE_LOST = "and {n:,} more lost: "


def refused_for_now(status: int | None) -> bool:
    """An answer after which the caller may come back: 429, a 5xx, or none (None, or an
    effect's 0)."""
    return not status or status == 429 or status >= 500


@dataclass(frozen=True, slots=True)
class Deferred:
    """The deferred events, each with its deliveries, and the run's sender."""

    events: tuple[tuple[Event, tuple[Delivery, ...]], ...]
    sender: Sender
    alike: int = 0  # of them, refused during a fault window as their clean twins were

    @property
    def lost(self) -> bool:
        """Whether the sender will not bring them back: lost in production."""
        return self.sender.never_brings_back

    @property
    def lost_count(self) -> int:
        return len(self.events) if self.lost else 0

    def _answers(self) -> str:
        """``answered 503``, ``answered 500 or got no answer``, …: to every delivery."""
        answers = Counter(d.status for _, ds in self.events for d in ds)
        said = [str(s) for s, _ in answers.most_common() if s is not None]
        parts = [f"answered {' or '.join(said)}"] if said else []
        if None in answers:
            parts.append("got no answer")
        return " or ".join(parts)

    def text(self) -> str:
        n = len(self.events)
        deferred = all(d.status in DEFERRALS for _, ds in self.events for d in ds)
        what = "deferred" if deferred else "refused"
        head = (
            f"{plural(n, 'event')} the target {what} ({self._answers()} to every delivery, "
            f"{self._windows()}) {'was' if n == 1 else 'were'} never redelivered and accepted: "
            f"{self.sender.unredelivered()}"
        )
        why = "find why it was refused (`harness inspect` shows each answer)"
        if self.lost:
            return (
                f"{head} — answer 2xx once the event is kept (a durable queue) and do the work "
                f"after, and {why}"
            )
        return (
            f"not judged: {head}; whether the target takes {'it' if n == 1 else 'them'} on a "
            f"retry is not seen — {self._change()}{'' if deferred else f'; and {why}'}"
        )

    def _windows(self) -> str:
        """How the refusals stand to the run's fault windows."""
        outside = "none in flight during a downstream fault window"
        if not self.alike:
            return outside
        alike = (
            "in a downstream fault window that met no call of theirs, and refused alike in the "
            "clean run, where none was open: the automation's own refusals"
        )
        if self.alike == len(self.events):
            return alike
        return f"{self.alike:,} of them {alike}; the others {outside}"

    def _change(self) -> str:
        sender = self.sender
        if sender.redelivery is Redelivery.CUT:
            return "run it again to its end"
        if sender.title is None or not sender.known:
            return (
                "name the sender (the project's `provider:`, or the scenario's) and give the "
                "scenario its retries, so that the run redelivers as it does"
            )
        return (
            "to see it, run the hazard as a scenario of your own that sends the provider's "
            f"retries (provider: {{name: {sender.provider}, retries: {sender.schedule}}}, with a "
            "`time_scale` that brings them into the run; `harness show NAME` prints the hazard "
            "to copy); or keep what the target cannot work off yet (a durable queue) and "
            "answer 2xx"
        )

    def witnesses(self) -> list[Witness]:
        return [
            Witness(
                f"{event_ref(event)} was {deliveries_text(ds)} and never redelivered"
                + (": lost" if self.lost else ""),
                (event.id,),
                tuple(d.id for d in ds),
            )
            for event, ds in self.events[:MAX_WITNESSES]
        ]


def deferred(facts: Facts) -> Deferred | None:
    """The run's events refused to every genuine delivery and not redelivered (module
    docstring), or None where there are none."""
    history = facts.history
    sender = sender_of(history.info.settings, history.status)
    # Found from the deliveries answered 429 or 5xx, or not answered (an array's few rows),
    # the events of those never accepted, and only those events' deliveries made into objects:
    # a million of them are a second and a half and 200 MB of a large run's check.
    import numpy as np

    deliveries = history.deliveries
    statuses = delivery_numbers(deliveries, "status")  # no answer: NaN
    known, accepted = facts.events_by_id, facts.accepted
    # A sender that never brings an event back loses it to any refusal; whether one that
    # retries loses it is not seen.
    said = np.flatnonzero(~(statuses < 500) | (statuses == 429)).tolist()
    if not said:
        return None
    drifted = drifted_events(history.info.settings)
    # An event that made writes all the same (a slow receiver that wrote, then timed out; one
    # that wrote, then answered 500) did its work: not lost for its answer.
    wrote = facts.first_write
    ids = list(delivery_column(deliveries, "event_id"))
    never = {
        e for e in {ids[i] for i in said} if e in known and e not in accepted and e not in wrote
    }
    if not never:
        return None
    tampered = facts.tampered
    windows = [(f.start, f.end) for f in history.faults if f.mode in FAULT_MODES]
    by_event: dict[str, list[Delivery]] = {}
    for i in list(compress(count(), map(never.__contains__, ids))):
        d = deliveries[i]
        if d.id not in tampered:
            by_event.setdefault(d.event_id, []).append(d)
    # In flight during a window, but refused as its clean twin was with none open: the
    # automation's own refusal, not the outage's (``_refused_alike``). So is a drifted event's
    # refused as its undrifted twin was: not the drift's doing (drift_is_loud leaves it here).
    alike = refused_alike(
        facts,
        (
            d
            for ds in by_event.values()
            for d in ds
            if _in_flight(d, windows) or d.event_id in drifted
        ),
    )
    found = [
        (facts.events_by_id[eid], tuple(ds))
        for eid, ds in by_event.items()
        if all(
            refused_for_now(d.status)
            and (d.id in alike or not _in_flight(d, windows))
            and (d.id in alike or eid not in drifted)
            for d in ds
        )
    ]
    if found and history.info.model is Model.REGISTER:
        found = _latest(found, facts)
    if not found:
        return None
    found.sort(key=lambda pair: pair[0].seq)
    during = sum(1 for _, ds in found if any(d.id in alike and _in_flight(d, windows) for d in ds))
    return Deferred(tuple(found), sender, during)


def _latest(
    found: list[tuple[Event, tuple[Delivery, ...]]], facts: Facts
) -> list[tuple[Event, tuple[Delivery, ...]]]:
    """A register's refused events that no accepted event of their record came after: a
    state a newer one supersedes is no state lost. But not one the automation ignores (its
    clean twin made nothing: a GitHub receiver filing ``opened`` issues and ignoring ``edited``
    ones): it writes no state over the refused one's."""
    keys = {event.key for event, _ in found}
    accepted = facts.accepted
    ignored = expectation_of(facts).nothing
    newest: dict[str, int] = {}
    for e in facts.history.events:
        if (
            e.key in keys
            and e.id in accepted
            and e.id not in ignored
            and e.seq > newest.get(e.key, -1)
        ):
            newest[e.key] = e.seq
    return [(e, ds) for e, ds in found if newest.get(e.key, -1) < e.seq]


def _in_flight(d: Delivery, windows: list[tuple[float, float]]) -> bool:
    """Whether ``d`` was in flight while a window was open: sent before it closed, answered
    after it opened (its calls may have met the fault). One that got no answer was in flight
    for as long as its sender waited (``no answer within 5 s``): a delivery sent just before
    a downstream hung, whose call the hang held, was in the window, not refused apart from it."""
    ended = flight_end(d, 0.0)
    return any(d.sent_at <= end and ended >= start for start, end in windows)


def mark_deferred(found: Deferred | None, facts: Facts, judged: Verdict) -> Verdict:
    """``judged`` with the refused events ``found`` (``deferred``) said: lost where the sender
    will not bring them back (a fail, their count first), else a pass over the others made
    inconclusive."""
    if found is None:
        return judged
    if found.lost:
        # Counted for the year's report either way (``report._year``): first where nothing
        # else was lost, else after the judged verdict's count, as ``and N more lost``.
        n, total = len(found.events), len(facts.history.events)
        if judged.status is Status.FAIL:
            summary = f"{judged.summary}; {MORE_LOST.format(n=n)}{found.text()}"
        else:
            summary = f"{n:,} of {plural(total, 'event')} lost: {found.text()}; {judged.summary}"
        shown = _joined(judged.evidence, evidence(found.witnesses()))
        return replace(judged, status=Status.FAIL, summary=summary, evidence=shown)
    summary = f"{judged.summary}; {found.text()}"
    if judged.status is not Status.PASS:
        return replace(judged, summary=summary)
    return replace(
        judged,
        status=Status.INCONCLUSIVE,
        summary=summary,
        evidence=evidence(found.witnesses()),
    )


def _joined(first: Evidence, then: Evidence) -> Evidence:
    """``first``'s witnesses, then ``then``'s."""
    return Evidence(
        (*first.lines, *then.lines),
        tuple(dict.fromkeys((*first.event_ids, *then.event_ids))),
        tuple(dict.fromkeys((*first.delivery_ids, *then.delivery_ids))),
        tuple(dict.fromkeys((*first.effect_ids, *then.effect_ids))),
    )
