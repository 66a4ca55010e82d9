"""What of a delivery's latency may be the harness's own, from its event loop's ``loop-lag``
marks (engine/_lag): what ``ack_within`` cannot blame on the target.

A target at a URL answers from a process of its own: the harness's loop running late delays the
reading of its answer by the loop's worst step at most (a mark's ``lag``). An app driven
in-process answers on that same loop, so its answer also waited for the other work that kept
the loop busy (a mark's ``busy``: the harness sending and recording, the double, the app's other
requests, a machine that gave the loop's thread no CPU). That time is taken off only where it
can be the cause: a request of another event was in flight beside it (else the busy loop was
this request's own work, or its retry's, which is the app's), and the loop was busy for at least
half of the flight (else the work ran while the app was waiting anyway). Where the marks say
how long the loop's thread waited for a CPU or had it stolen by a hypervisor (``wait``), that
wait is the machine's and is taken off any in-process flight, and the loop's lateness no longer
is: a loop late while its thread neither ran, nor waited, nor was stolen was blocked in a call
made on it, the app's.

A target whose process the harness watched (``--target-pid``) may have answered late because
it waited for a CPU the machine gave to others (a mark's ``target_wait``, its threads' waits
summed, at most the span): that time is taken off its flights too. Its own CPU time is not.

A delivery that timed out waited as long as its error says (``no answer within 15 s``: the
delivery timeout, or the provider's ack timeout), and is judged as an answer that late: a loop
late by 300 ms does not explain 15 s of silence. One whose error names no wait (a journal of
another shape, a connection broken before the timeout) is taken to have waited the budget, and
a lateness of a tenth of it excuses it, as before.
"""

from __future__ import annotations

import bisect
import json
import math
from collections import defaultdict
from collections.abc import Sequence

from ..core._model import LOOP_LAG_BUCKET, LOOP_LAG_MARK, NO_ANSWER_WITHIN, Delivery
from ..drive._target import names_app
from ..history import History


class Lag:
    """The harness's loop lateness and busy time over a run, by time."""

    def __init__(self, history: History) -> None:
        found = sorted(
            (m.at, *_figures(m.detail)) for m in history.marks if m.name == LOOP_LAG_MARK
        )
        # (time, worst lateness, busy seconds, span, wait, the target's wait) each, by time
        self._marks = found
        self._at = [at for at, *_ in found]
        # How far past a flight's end a mark can be and still cover part of the flight.
        self._reach = max([LOOP_LAG_BUCKET, *(m[3] for m in found)])
        self.in_process = names_app(history.info.target)
        self._flights: _Flights | None = None
        self._deliveries = history.deliveries
        self.worst = self.busiest = self.starved = 0.0
        # The longest the loop an in-process app shares stood still in a flight blamed on the
        # app, its thread neither running nor waiting for a CPU: held by a call made on it.
        self.blocked = 0.0

    def blames_target(self, d: Delivery, latency: float | None, budget: float) -> bool:
        """Whether ``d``'s time over ``budget`` (``latency`` None: it timed out) is the
        target's: the harness's loop kept up while it was in flight, or the delivery is over
        budget even with the harness's time taken off."""
        if not self._at:
            return True
        if latency is None:
            latency = waited(d)
        flight = latency if latency is not None else budget
        start, end = d.sent_at, d.sent_at + flight
        lo = bisect.bisect_left(self._at, start)
        hi = bisect.bisect_right(self._at, end + self._reach)
        lag, busy, wait, starved = self._during(lo, hi, start, end)
        ran = busy - (wait or 0.0)  # the seconds the loop's thread ran in the flight
        if busy < flight / 2 or not self._others_in_flight(d, start, end, budget):
            busy = wait or 0.0  # the loop's work was this request's own; the machine's wait not
        blocked = 0.0
        if self.in_process and wait is not None:
            # The loop late while its thread neither ran nor waited to run was blocked in a
            # call made on it: the app's (a blocking call in async code), not the harness's.
            blocked, lag = lag, 0.0
        harness = max(lag, busy, starved)
        if harness < budget / 10 or (latency is not None and latency - harness > budget):
            if blocked >= budget / 10 and ran < blocked / 2:
                self.blocked = max(self.blocked, blocked)
            return True
        self.worst = max(self.worst, lag)
        self.busiest = max(self.busiest, busy)
        self.starved = max(self.starved, starved)
        return False

    def worst_between(self, start: float, end: float) -> float:
        """The loop's worst lateness in the marks whose span reaches into [start, end] that the
        machine or the harness may have caused. In-process, where a mark says how long the
        loop's thread waited for a CPU, its lateness counts only up to its busy seconds (the
        thread running or waiting to run): beyond, the loop stood still, held by a blocking
        call the app made on it — the app's, as ``blames_target`` reads it, and no quieter
        machine shortens it."""
        lo = bisect.bisect_left(self._at, start)
        hi = bisect.bisect_right(self._at, end + self._reach)
        worst = 0.0
        for at, late, used, span, wait, _ in self._marks[lo:hi]:
            if at - span <= end:
                held = self.in_process and wait is not None
                worst = max(worst, min(late, used) if held else late)
        return worst

    def held_between(self, start: float, end: float) -> float:
        """What of [start, end] the machine may have taken from a target's pace: the loop's
        worst lateness in it (an answer of the double read or sent that late) and the seconds
        the target's watched process waited for a CPU in it (a mark's ``target_wait``)."""
        lo = bisect.bisect_left(self._at, start)
        hi = bisect.bisect_right(self._at, end + self._reach)
        target = self._during(lo, hi, start, end)[3]
        return self.worst_between(start, end) + target

    def _during(
        self, lo: int, hi: int, start: float, end: float
    ) -> tuple[float, float, float | None, float]:
        """The worst lateness of the marks ``lo:hi`` whose span (up to the mark's time) reaches
        into [start, end]; in-process, the loop's busy seconds within it and of those the
        seconds its thread waited for a CPU (None unless every mark says); and the seconds the
        target's process waited for one: each mark's share by the part of its span inside."""
        lag = busy = waited = starved = 0.0
        known = True
        for at, late, used, span, wait, target in self._marks[lo:hi]:
            if at - span <= end:
                lag = max(lag, late)
            inside = min(at, end) - max(at - span, start)
            if inside <= 0:
                continue
            starved += target * inside / span
            if self.in_process:
                busy += used * inside / span
                if wait is None:
                    known = False
                else:
                    waited += wait * inside / span
        return lag, busy, waited if known else None, starved

    def _others_in_flight(self, d: Delivery, start: float, end: float, budget: float) -> bool:
        if self._flights is None:
            self._flights = _Flights(self._deliveries, budget)
        return self._flights.others(d, start, end)


class _Flights:
    """The deliveries' flights, from send to answer (or to the end of the wait its error
    names, or to a failure), sorted by start and by end: how many overlap a span, by
    bisection, less those of the same event (its retries) or of the same request (the other
    events of one batch: sent and answered together)."""

    def __init__(self, deliveries: Sequence[Delivery], budget: float) -> None:
        self._starts: list[float] = []
        self._ends: list[float] = []
        self._of_event: defaultdict[str, list[_Flight]] = defaultdict(list)
        self._of_request: defaultdict[tuple[float, float | None], list[_Flight]]
        self._of_request = defaultdict(list)
        for d in deliveries:
            flight = (d.id, d.sent_at, flight_end(d, budget))
            self._starts.append(d.sent_at)
            self._ends.append(flight[2])
            self._of_event[d.event_id].append(flight)
            self._of_request[(d.sent_at, d.answered_at)].append(flight)
        self._starts.sort()
        self._ends.sort()

    def others(self, d: Delivery, start: float, end: float) -> bool:
        """Whether a request of another event was in flight during [start, end]."""
        began = bisect.bisect_left(self._starts, end)
        overlapping = began - bisect.bisect_right(self._ends, start)
        request = self._of_request[(d.sent_at, d.answered_at)]
        own = {i for i, s, e in (*self._of_event[d.event_id], *request) if s < end and e > start}
        return overlapping > len(own)


_Flight = tuple[str, float, float]  # a delivery's id, when it was sent, when its flight ended


def waited(d: Delivery) -> float | None:
    """How long a delivery that got no answer waited for one: the wait its error names
    (``no answer within 15 s``); None for another error."""
    error = d.error or ""
    if not error.startswith(NO_ANSWER_WITHIN) or not error.endswith(" s"):
        return None
    seconds = _seconds(_number(error[len(NO_ANSWER_WITHIN) : -2]))
    return seconds if seconds > 0 else None


def in_flight(d: Delivery, at: float) -> bool:
    """Whether ``d`` was sent by ``at`` and not answered before it (one never answered never
    landed)."""
    return d.sent_at <= at and (d.answered_at is None or at <= d.answered_at)


def flight_end(d: Delivery, budget: float) -> float:
    """When a delivery's flight ended: its answer (or failure), else the end of the wait its
    error names, else ``budget`` after it was sent."""
    if d.answered_at is not None:  # an answer, or the moment the connection failed
        return d.answered_at
    wait = waited(d)
    return d.sent_at + (wait if wait is not None else budget)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _figures(detail: str) -> tuple[float, float, float, float | None, float]:
    """A mark's worst lateness, busy seconds, the span it covers, the seconds of its busy time
    the loop's thread waited for a CPU, and those the target's process waited for one (older
    journals and targets at a URL: no busy time, the span a bucket's; no wait where the machine
    does not say: None; no target's wait unless its process was watched: 0)."""
    try:
        found = json.loads(detail)
    except ValueError:
        return 0.0, 0.0, LOOP_LAG_BUCKET, None, 0.0
    if not isinstance(found, dict):
        return 0.0, 0.0, LOOP_LAG_BUCKET, None, 0.0
    span = _seconds(found.get("span"))
    wait = found.get("wait")
    return (
        _seconds(found.get("lag")),
        _seconds(found.get("busy")),
        span if span > 0 else LOOP_LAG_BUCKET,
        None if wait is None else _seconds(wait),
        _seconds(found.get("target_wait")),
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
