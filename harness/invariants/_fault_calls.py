"""Which fault window answered each call: what the doubles marked, or what the answers say.

The run's doubles keep a FAULT_MARK for each call a fault answered (its effect, and the fault's
position among the run's faults). A journal written before they did is read by the calls'
answers instead (``double._faults.acted_on``): a call that met a window and got the answer its
fault gives. ``recovers_after_outage`` counts the calls a window met; ``ack_within`` asks
whether a slow answer waited on one; the refusal box and ``no_server_errors`` ask which window
answered a delivery's own calls (``DeliveryWindows``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from operator import attrgetter

from ..core._model import FAULT_MARK, FAULT_MARKS, Delivery, Effect, Fault
from ..core._scenario import FAULT_MODES
from ..double._faults import acted_on
from ..history import History
from ._own_calls import OwnCalls


def marked_faults(history: History) -> dict[str, list[int]] | None:
    """Effect id -> the positions in ``history.faults`` of the faults that answered it, from
    the run's FAULT_MARKs; None for a run whose doubles did not keep them."""
    if not history.info.settings.get(FAULT_MARKS):
        return None
    count = len(history.faults)
    found: dict[str, list[int]] = {}
    for m in history.marks:
        if m.name != FAULT_MARK:
            continue
        try:
            detail = json.loads(m.detail)
        except ValueError:
            continue
        if not isinstance(detail, dict):
            continue
        effect, n = detail.get("effect"), detail.get("fault")
        if isinstance(effect, str) and type(n) is int and 0 <= n < count:
            found.setdefault(effect, []).append(n)
    return found


class FaultCalls:
    """The faults that answered a run's calls: by its marks where it kept them, else by the
    calls' answers."""

    def __init__(self, history: History) -> None:
        self._faults: Sequence[Fault] = history.faults
        self._marked = marked_faults(history) if self._faults else {}

    def answering(self, effect: Effect) -> list[Fault]:
        """The faults that answered ``effect`` (none for a call a route answered)."""
        if self._marked is not None:
            return [self._faults[n] for n in self._marked.get(effect.id, ())]
        return [f for f in self._faults if acted_on(f, effect)]


class DeliveryWindows:
    """The fault window that answered a call of a delivery's own while it was in flight
    (``_own_calls``: its event's calls, its record's, or one naming nothing made while it was
    alone in flight); a window only open meanwhile, its calls other events', is not its. A
    batch's deliveries (its events, sent and answered together) are one request with one
    answer: a call of any of its events is the request's."""

    def __init__(
        self,
        history: History,
        deliveries: Iterable[Delivery],
        effects_in_order: Sequence[Effect] | None = None,
    ) -> None:
        """For ``deliveries``; ``effects_in_order``: the run's effects by time, where the
        caller has them (``Facts.effects_in_order``)."""
        self.windows = [f for f in history.faults if f.mode in FAULT_MODES]
        self._answered_by = FaultCalls(history)
        if effects_in_order is None:
            effects_in_order = sorted(history.effects, key=attrgetter("at"))
        self._calls = OwnCalls(effects_in_order, history.deliveries)
        self._requests: dict[_Request, set[str]] = {}
        for d in deliveries:
            self._requests.setdefault(_request(d), set()).add(d.event_id)
        wanted = {i for ids in self._requests.values() for i in ids}
        self._keys = {e.id: e.key for e in history.events if e.id in wanted}
        self._place = {id(w): n for n, w in enumerate(self.windows)}  # FaultCalls answers these
        self._met: dict[_Request, int | None] = {}

    def met(self, d: Delivery) -> int | None:
        """The place in ``windows`` of the first window that answered a call of ``d``'s (or
        of its batch's)."""
        request = _request(d)
        if request in self._met:
            return self._met[request]
        span = self._flight(d)
        ids = self._requests.get(request) or {d.event_id}
        records = {k for i in ids if (k := self._keys.get(i)) is not None}
        found = self._met[request] = next(
            (
                n
                for _, own in self._calls.owned(span, ids, records)
                for c in own
                for f in self._answered_by.answering(c)
                if (n := self._place.get(id(f))) is not None
            ),
            None,
        )
        return found

    def maybe(self, d: Delivery) -> bool:
        """Whether a window answered, in ``d``'s flight, a call naming nothing made while other
        requests were in flight too: it may have been ``d``'s (a loaded run's flights overlap,
        and a list read then is no delivery's by name)."""
        crowded = self._calls.crowded(self._flight(d))
        return any(
            self._place.get(id(f)) is not None
            for c in crowded
            for f in self._answered_by.answering(c)
        )

    def _flight(self, d: Delivery) -> tuple[int, int]:
        """The positions of the calls made while ``d`` was in flight (to its answer)."""
        end = d.answered_at if d.answered_at is not None else d.sent_at
        return self._calls.span(d.sent_at, end)


_Request = tuple[float, float | None]  # a request's send and answer times: a batch's are one


def _request(d: Delivery) -> _Request:
    return d.sent_at, d.answered_at
