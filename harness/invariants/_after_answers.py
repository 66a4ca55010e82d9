"""Does the target work after it answers? What a run's pace says of its missing effects.

A target that does its work before it answers (inline) made every write while a delivery of
its event was in flight: an event it answered without its effect was dropped there and then (a
circuit breaker that skipped the call, a renamed field it ignored, an invoice number it took for
one it had booked), and a longer settle shows nothing more. One that answers first and works
after (a queue, a job, a debounce) made some write once every delivery of its event had been
answered: what it still owes may be on its way. ``no_lost_events`` tells a user to raise the
settle quiet only in the second case (docs/troubleshooting.md, "Lost or late?").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ..core._model import Delivery, Effect
from ..history import delivery_rows
from ._facts import is_write


def works_after_answering(deliveries: Sequence[Delivery], effects: Iterable[Effect]) -> bool | None:
    """Whether some write tied to an event came while none of that event's deliveries was in
    flight, after one had been sent (work after the answer); None: no write was tied to an
    event, and the pace tells nothing."""
    flights: dict[str, list[tuple[float, float]]] = {}
    for eid, sent, answered in delivery_rows(deliveries, "event_id", "sent_at", "answered_at"):
        # Unanswered (a timeout): the target may still be at it, inline.
        flights.setdefault(eid, []).append((sent, math.inf if answered is None else answered))
    told = False
    for w in effects:
        if not w.event_ids or not is_write(w):
            continue
        for eid in w.event_ids:
            windows = flights.get(eid)
            if not windows:
                continue
            told = True
            started = any(sent <= w.at for sent, _ in windows)
            if started and not any(sent <= w.at <= answered for sent, answered in windows):
                return True
    return None if not told else False
