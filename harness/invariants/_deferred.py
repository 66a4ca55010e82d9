"""Events the target deferred — answered 503 or 429, "come back later", to every genuine
delivery, none of them in flight during a downstream fault window — that the run never
redelivered.

A target that cannot take an event now (its queue full, a lock held) and says so does right
where its sender retries: the event is the sender's again, and whether the target takes it on
a retry is what decides its loss. A run that sent no such retry (a hazard that sends none, or a
provider whose retries come later than the run watched) did not see that; a ``no_lost_events``
pass over the accepted events alone would claim it. Refusals during a downstream fault window
are ``recovers_after_outage``'s; a sender that never redelivers (GitHub), or gave up after the
retries the run sent, is left as before: the event is not counted.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

from ..core._model import Delivery, Event, Status, Verdict
from ..core._scenario import FAULT_MODES
from ..history import delivery_column, delivery_numbers
from ._facts import MAX_WITNESSES, Facts, Witness, deliveries_text, event_ref, evidence, plural
from ._sender import Redelivery, Sender, sender_of

DEFERRALS = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class Deferred:
    """The deferred events, each with its deliveries, and the run's sender."""

    events: tuple[tuple[Event, tuple[Delivery, ...]], ...]
    sender: Sender

    def text(self) -> str:
        n = len(self.events)
        answers = Counter(d.status for _, ds in self.events for d in ds)
        said = " or ".join(str(s) for s, _ in answers.most_common())
        return (
            f"not judged: {plural(n, 'event')} the target deferred (answered {said} to every "
            "delivery, none in flight during a downstream fault window) "
            f"{'was' if n == 1 else 'were'} "
            f"never redelivered and accepted: {self.sender.unredelivered()}; whether the target "
            f"takes {'it' if n == 1 else 'them'} on a retry is not seen — {self._change()}"
        )

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
                f"{event_ref(event)} was {deliveries_text(ds)} and never redelivered",
                (event.id,),
                tuple(d.id for d in ds),
            )
            for event, ds in self.events[:MAX_WITNESSES]
        ]


def deferred(facts: Facts) -> Deferred | None:
    """The run's deferred events not redelivered, or None where there are none (or where the
    sender would not redeliver them: not this module's to judge)."""
    history = facts.history
    sender = sender_of(history.info.settings, history.status)
    if sender.redelivery in (Redelivery.NEVER, Redelivery.GIVEN_UP):
        return None
    # Found from the deliveries answered 429 or 503 (an array's few rows), the events of those
    # never accepted, and only those events' deliveries made into objects: a million of them
    # are a second and a half and 200 MB of a large run's check.
    import numpy as np

    deliveries = history.deliveries
    statuses = delivery_numbers(deliveries, "status")
    known, accepted = facts.events_by_id, facts.accepted
    said = np.flatnonzero(np.isin(statuses, sorted(DEFERRALS))).tolist()
    never = {e for e in {deliveries[i].event_id for i in said} if e in known and e not in accepted}
    if not never:
        return None
    tampered = facts.tampered
    windows = [(f.start, f.end) for f in history.faults if f.mode in FAULT_MODES]
    by_event: dict[str, list[Delivery]] = {}
    for d in [
        deliveries[i] for i, e in enumerate(delivery_column(deliveries, "event_id")) if e in never
    ]:
        if d.id not in tampered:
            by_event.setdefault(d.event_id, []).append(d)
    found = [
        (facts.events_by_id[eid], tuple(ds))
        for eid, ds in by_event.items()
        if all(d.status in DEFERRALS and not _in_flight(d, windows) for d in ds)
    ]
    if not found:
        return None
    found.sort(key=lambda pair: pair[0].seq)
    return Deferred(tuple(found), sender)


def _in_flight(d: Delivery, windows: list[tuple[float, float]]) -> bool:
    """Whether ``d`` was in flight while a window was open: sent before it closed, answered
    after it opened (its calls may have met the fault)."""
    answered = d.answered_at if d.answered_at is not None else d.sent_at
    return any(d.sent_at <= end and answered >= start for start, end in windows)


def mark_deferred(facts: Facts, judged: Verdict) -> Verdict:
    """``judged`` with the deferred events said; a pass over the others made inconclusive."""
    found = deferred(facts)
    if found is None:
        return judged
    summary = f"{judged.summary}; {found.text()}"
    if judged.status is not Status.PASS:
        return replace(judged, summary=summary)
    return replace(
        judged,
        status=Status.INCONCLUSIVE,
        summary=summary,
        evidence=evidence(found.witnesses()),
    )
