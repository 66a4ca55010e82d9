"""A run's calls found by what they name, for the deliveries they may belong to: those naming
a delivery's event, those naming only its record, and those naming nothing made while it was
the one request in flight (with others in flight, such a call may be theirs)."""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterator, Sequence

from ..core._model import Delivery, Effect
from ..history import delivery_rows

# Whose a call made during a delivery's flight is, by what it names (best first).
ITS, RECORDS, UNNAMED = "its", "its record's", "naming no event"


class OwnCalls:
    """A run's calls in time order, found by what they name: a delivery's own calls in its
    flight read from the lists of its events, its records and the calls naming nothing, not
    by a scan of every call in flight (a loaded run has hundreds at once). A call naming
    nothing is a delivery's only when no other request was in flight as it was made: with
    others in flight, it may be theirs."""

    def __init__(self, effects: Sequence[Effect], deliveries: Sequence[Delivery]) -> None:
        self._effects = effects
        self._ats = [e.at for e in effects]
        self._by_event: defaultdict[str, list[int]] = defaultdict(list)
        self._by_key: defaultdict[str, list[int]] = defaultdict(list)
        self._unnamed: list[int] = []
        self._crowded: list[int] = []  # naming nothing, made while several were in flight
        alone: Alone | None = None  # made for the first call naming nothing: most runs have none
        for n, e in enumerate(effects):
            if e.event_ids:
                for i in e.event_ids:
                    self._by_event[i].append(n)
            elif e.key is not None:
                self._by_key[e.key].append(n)
            else:
                alone = alone or Alone(deliveries)
                (self._unnamed if alone(e.at) else self._crowded).append(n)

    def span(self, start: float, end: float) -> tuple[int, int]:
        """The positions of the calls made from ``start`` to ``end``."""
        return bisect.bisect_left(self._ats, start), bisect.bisect_right(self._ats, end)

    def crowded(self, span: tuple[int, int]) -> list[Effect]:
        """In ``span``, the calls naming nothing made while several requests were in flight:
        any of theirs, none known to be one's."""
        lo, hi = span
        return [self._effects[n] for n in _within(self._crowded, lo, hi)]

    def owned(
        self, span: tuple[int, int], ids: set[str], keys: set[str]
    ) -> Iterator[tuple[str, list[Effect]]]:
        """In ``span``, the calls naming one of ``ids``, those naming only one of the records
        ``keys``, and those naming nothing — each in time order, best first, each found only
        when the one before did not serve."""
        lo, hi = span
        effects = self._effects
        its = {n for i in ids for n in _within(self._by_event.get(i, ()), lo, hi)}
        yield ITS, [effects[n] for n in sorted(its)]
        records = sorted(n for k in keys for n in _within(self._by_key.get(k, ()), lo, hi))
        yield RECORDS, [effects[n] for n in records]
        yield UNNAMED, [effects[n] for n in _within(self._unnamed, lo, hi)]


class Alone:
    """Was one request alone in flight at a moment, and how many were? A batch's deliveries
    are one request; one never answered (timed out) is in flight to the end, as the target
    may still hold it."""

    def __init__(self, deliveries: Sequence[Delivery]) -> None:
        flights = set(delivery_rows(deliveries, "sent_at", "answered_at"))
        self._starts = sorted(sent for sent, _ in flights)
        self._ends = sorted(math.inf if end is None else end for _, end in flights)

    def __call__(self, at: float) -> bool:
        return self.in_flight(at) <= 1

    def in_flight(self, at: float) -> int:
        """How many requests were in flight at ``at``."""
        return bisect.bisect_right(self._starts, at) - bisect.bisect_left(self._ends, at)


def _within(positions: Sequence[int], lo: int, hi: int) -> Sequence[int]:
    return positions[bisect.bisect_left(positions, lo) : bisect.bisect_left(positions, hi)]
