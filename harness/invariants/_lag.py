"""What of a delivery's latency may be the harness's own, from its event loop's ``loop-lag``
marks (engine/_lag): what ``ack_within`` cannot blame on the target.

A target at a URL answers from a process of its own: the harness's loop running late delays the
reading of its answer by the loop's worst step at most (a mark's ``lag``). An app driven
in-process answers on that same loop, so its answer also waited for the other work that kept
the loop busy (a mark's ``busy``: the harness sending and recording, the double, the app's other
requests, a machine that gave the loop's thread no CPU). That time is taken off only where it
can be the cause: another delivery was in flight beside it (else the busy loop was this
request's own work, which is the app's), and the loop was busy for at least half of the flight
(else the work ran while the app was waiting anyway).

A delivery that timed out waited the whole delivery timeout (the run's ``timeout`` setting), and
is judged as an answer that late: a loop late by 300 ms does not explain 10 s of silence. In a
journal that does not say its timeout, the flight is taken as the budget and a lateness of a
tenth of it excuses the timeout, as before.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..core._model import LOOP_LAG_BUCKET, LOOP_LAG_MARK, Delivery, Outcome
from ..drive._target import names_app
from ..history import History


class Lag:
    """The harness's loop lateness and busy time over a run, by time."""

    def __init__(self, history: History) -> None:
        found = sorted(
            (m.at, *_figures(m.detail)) for m in history.marks if m.name == LOOP_LAG_MARK
        )
        self._at = [at for at, *_ in found]
        self._lag = [lag for _, lag, _, _ in found]
        self._busy = [busy for _, _, busy, _ in found]
        self._span = [span for *_, span in found]
        # How far past a flight's end a mark can be and still cover part of the flight.
        self._reach = max([LOOP_LAG_BUCKET, *self._span])
        self.in_process = names_app(history.info.target)
        self._timeout = _timeout(history.info.settings)
        self._flights: _Flights | None = None
        self._deliveries = history.deliveries
        self.worst = self.busiest = 0.0

    def blames_target(self, d: Delivery, latency: float | None, budget: float) -> bool:
        """Whether ``d``'s time over ``budget`` (``latency`` None: it timed out) is the
        target's: the harness's loop kept up while it was in flight, or the delivery is over
        budget even with the harness's time taken off."""
        if not self._at:
            return True
        if latency is None and self._timeout is not None:
            latency = self._timeout  # it waited the whole timeout for no answer
        flight = latency if latency is not None else budget
        start, end = d.sent_at, d.sent_at + flight
        lo = bisect.bisect_left(self._at, start)
        hi = bisect.bisect_right(self._at, end + self._reach)
        lag = max(self._lag[lo:hi], default=0.0)
        busy = self._busy_in(lo, hi, start, end) if self.in_process else 0.0
        if busy < flight / 2 or not self._others_in_flight(start, end):
            busy = 0.0
        harness = max(lag, busy)
        if harness < budget / 10 or (latency is not None and latency - harness > budget):
            return True
        self.worst = max(self.worst, lag)
        self.busiest = max(self.busiest, busy)
        return False

    def _busy_in(self, lo: int, hi: int, start: float, end: float) -> float:
        """The loop's busy seconds within [start, end]: each mark's share by the part of the
        span it covers (up to its time) that falls inside."""
        total = 0.0
        marks = zip(self._at[lo:hi], self._busy[lo:hi], self._span[lo:hi], strict=True)
        for at, busy, span in marks:
            inside = min(at, end) - max(at - span, start)
            if inside > 0:
                total += busy * inside / span
        return total

    def _others_in_flight(self, start: float, end: float) -> bool:
        if self._flights is None:
            self._flights = _Flights(self._deliveries, self._timeout)
        return self._flights.overlapping(start, end) > 1  # itself, and another


class _Flights:
    """The deliveries' flights, from send to answer (or to the timeout, or to the failure),
    sorted by start and by end: how many overlap a span, by bisection."""

    def __init__(self, deliveries: Sequence[Delivery], timeout: float | None) -> None:
        waited = timeout if timeout is not None else 0.0
        indeterminate = Outcome.INDETERMINATE
        self._starts = sorted(d.sent_at for d in deliveries)
        # An answer's time, or a failed connection's; a timeout waited the whole timeout.
        self._ends = sorted(
            d.answered_at
            if d.answered_at is not None
            else d.sent_at + (waited if d.outcome is indeterminate else 0.0)
            for d in deliveries
        )

    def overlapping(self, start: float, end: float) -> int:
        """Flights that began before ``end`` and had not ended by ``start``."""
        return bisect.bisect_left(self._starts, end) - bisect.bisect_right(self._ends, start)


def _timeout(settings: Mapping[str, Any]) -> float | None:
    value = _seconds(settings.get("timeout"))
    return value if value > 0 else None


def _figures(detail: str) -> tuple[float, float, float]:
    """A mark's worst lateness, busy seconds and the span it covers (older journals and
    targets at a URL: no busy time; the span a bucket's)."""
    try:
        found = json.loads(detail)
    except ValueError:
        return 0.0, 0.0, LOOP_LAG_BUCKET
    if not isinstance(found, dict):
        return 0.0, 0.0, LOOP_LAG_BUCKET
    span = _seconds(found.get("span"))
    return (
        _seconds(found.get("lag")),
        _seconds(found.get("busy")),
        span if span > 0 else LOOP_LAG_BUCKET,
    )


def _seconds(value: object) -> float:
    """A finite, non-negative number of seconds, else 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        seconds = float(value)
    except OverflowError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds >= 0 else 0.0
