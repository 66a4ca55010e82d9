"""Each worker's clock against the master's, measured as NTP does when the worker joins.

A worker stamps its deliveries with its own wall clock, and workers may run on other machines:
a clock a second off would put its sends a second before or after the writes they caused, and
the judge (``no_lost_events``' newest rule, anything timing a send against a write) would fail a
correct automation or pass a lost update. So the master asks each worker for its time, several
round trips (``Clocks``), and keeps the one that came back soonest (Cristian's algorithm, NTP's
filter):

    offset      = worker_time - (t0 + t1) / 2     (worker clock minus master clock)
    uncertainty = (t1 - t0) / 2                   (the true offset is within this of it)

where t0 and t1 are the master's clock as it asked and as the answer came. The worker's stamps
minus its offset are on the master's clock, which is the recorder's (one machine). The largest
uncertainty of the workers that delivered is the run's, kept in its settings (``settings``).

A clock drifts (50 ppm: 180 ms an hour) and NTP may step it while the test runs: the offset the
stamps were corrected with, measured at the join, is then off by more than its uncertainty.
So the master measures each worker again when the test ends, before the run is judged, and
the run's bound is widened by how far the offset moved (``widened``), never tightened.

Messages: worker -> master ``harness_hello`` (once its handlers are registered, at init),
master -> worker ``harness_clock_ask``, worker -> master ``harness_clock_tell``. No Locust
import here: the messages' handlers are the hooks' (``_hooks``), the arithmetic is this module's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

SAMPLES = 5  # round trips per worker at the least; the shortest is kept
MOST = 40  # round trips at the most, where they vary widely (a busy machine)
BUDGET = 2.0  # seconds after the worker's hello that no further round trip is begun
SPREAD = (1.5, 50e-6)  # the last SAMPLES round trips agree: the longest within 1.5x + 50 µs
WAIT = 10.0  # seconds a test start waits for its workers' readings


@dataclass(frozen=True, slots=True)
class Reading:
    """A worker's clock against the master's: ``offset`` seconds ahead, known to within
    ``uncertainty`` seconds."""

    offset: float
    uncertainty: float

    @classmethod
    def of(cls, t0: float, worker_time: float, t1: float) -> Reading:
        return cls(worker_time - (t0 + t1) / 2, (t1 - t0) / 2)


Ask = Callable[[str, int], None]  # (worker id, round) -> the ask sent


class Clocks:
    """The master's readings of its workers' clocks, by worker id.

    At least ``SAMPLES`` round trips a worker, one after the other; more while they vary
    widely — until the last ``SAMPLES`` agree (``SPREAD``): the path's own delay, not processes
    waiting for a CPU — and at most ``MOST``, none begun ``BUDGET`` s after the hello. Every
    round trip bounds the offset (Cristian), so the shortest of more is never less right. On a
    busy machine the first ones, as the worker starts, take tens of ms, and the quickest of five
    was once 4 ms (tests/test_locust_clock.py). (Spaced 10 ms apart, they came back slower:
    0.27-0.39 ms of uncertainty beside two busy loops, against 0.09-0.14 ms one after the
    other; benchmarks/bench_clock.py.)"""

    def __init__(self, ask: Ask, now: Callable[[], float] = time.time) -> None:
        self._ask = ask
        self._now = now
        self._asked: dict[str, tuple[int, float]] = {}  # worker id -> (round, t0)
        self._best: dict[str, Reading] = {}
        self._trips: dict[str, list[float]] = {}  # worker id -> its round trips so far
        self._since: dict[str, float] = {}  # worker id -> its hello, on the master's clock
        self._done: set[str] = set()

    def hello(self, worker: str) -> None:
        """A worker joined (or joined again), or the test ended: measure its clock anew."""
        self._best.pop(worker, None)
        self._done.discard(worker)
        self._trips[worker] = []
        self._since[worker] = self._now()
        self._next(worker)

    def tell(self, worker: str, round_: int, worker_time: float) -> None:
        """A worker's answer to ask ``round_``; a stale one (an older round) is ignored."""
        t1 = self._now()
        asked = self._asked.get(worker)
        if asked is None or asked[0] != round_:
            return
        del self._asked[worker]
        reading = Reading.of(asked[1], worker_time, t1)
        best = self._best.get(worker)
        if best is None or reading.uncertainty < best.uncertainty:
            self._best[worker] = reading
        trips = self._trips[worker]
        trips.append(t1 - asked[1])
        if self._enough(trips, t1 - self._since[worker]):
            self._done.add(worker)
        else:
            self._next(worker)

    def reading(self, worker: str) -> Reading | None:
        """The worker's best reading, once its measurement ended; None before."""
        return self._best.get(worker) if worker in self._done else None

    def round_trips(self, worker: str) -> int:
        """How many round trips the worker's reading was chosen from."""
        return len(self._trips.get(worker, ()))

    @staticmethod
    def _enough(trips: list[float], elapsed: float) -> bool:
        if len(trips) < SAMPLES:
            return False
        if len(trips) >= MOST or elapsed >= BUDGET:
            return True
        recent = trips[-SAMPLES:]
        factor, slack = SPREAD
        return max(recent) <= min(recent) * factor + slack

    def _next(self, worker: str) -> None:
        round_ = len(self._trips[worker]) + 1
        self._asked[worker] = (round_, self._now())
        self._ask(worker, round_)


def widened(joined: Reading, ended: Reading | None) -> float:
    """How far a worker's times, put on the master's clock with the ``joined`` offset, can be
    off at any time of the run, given the reading ``ended`` when it ended (None: not measured
    again, the join's uncertainty stands).

    At the join the true offset is within ``joined.uncertainty`` of the one used; at the end
    within ``ended.uncertainty`` of ``ended.offset``, so off by at most their disagreement plus
    that; between the two, a drift or a step that lasted is within the larger of the two. So
    the bound is the larger, never below the join's: a second reading that agrees tightens
    nothing (its own round trip may have been the quicker)."""
    if ended is None:
        return joined.uncertainty
    moved = abs(ended.offset - joined.offset)
    return max(joined.uncertainty, moved + ended.uncertainty)


def settings(
    readings: Sequence[Reading], ends: Sequence[Reading | None] | None = None
) -> dict[str, object]:
    """What a distributed run keeps of its workers' clocks (RunInfo.settings ``clocks``): each
    worker's offset and uncertainty by index, as measured when it joined, and the run's
    uncertainty, the largest, which the judge allows for where it times a worker's send
    against a write. With ``ends``, the readings when the test ended (one a worker; None where
    one was not measured again): each worker's ``end`` reading (or None) and ``bound``
    (``widened``), and the run's uncertainty the largest bound."""
    workers: list[dict[str, object]] = [
        {"index": i, "offset": r.offset, "uncertainty": r.uncertainty}
        for i, r in enumerate(readings)
    ]
    bounds = [r.uncertainty for r in readings]
    if ends is not None:
        bounds = [widened(r, e) for r, e in zip(readings, ends, strict=True)]
        for worker, end, bound in zip(workers, ends, bounds, strict=True):
            worker["end"] = (
                None if end is None else {"offset": end.offset, "uncertainty": end.uncertainty}
            )
            worker["bound"] = bound
    return {"clocks": {"uncertainty": max(bounds, default=0.0), "workers": workers}}
