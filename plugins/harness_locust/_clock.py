"""Each worker's clock against the master's, measured as NTP does when the worker joins.

A worker stamps its deliveries with its own wall clock, and workers may run on other machines:
a clock a second off would put its sends a second before or after the writes they caused, and
the judge (``no_lost_events``' newest rule, anything timing a send against a write) would fail a
correct automation or pass a lost update. So the master asks each worker for its time, ``SAMPLES``
round trips, and keeps the one that came back soonest (Cristian's algorithm, NTP's filter):

    offset      = worker_time - (t0 + t1) / 2     (worker clock minus master clock)
    uncertainty = (t1 - t0) / 2                   (the true offset is within this of it)

where t0 and t1 are the master's clock as it asked and as the answer came. The worker's stamps
minus its offset are on the master's clock, which is the recorder's (one machine). The largest
uncertainty of the workers that delivered is the run's, kept in its settings (``settings``).

Messages: worker -> master ``harness_hello`` (once its handlers are registered, at init),
master -> worker ``harness_clock_ask``, worker -> master ``harness_clock_tell``. No Locust
import here: the messages' handlers are the hooks' (``_hooks``), the arithmetic is this module's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

SAMPLES = 5  # round trips per worker; the shortest is kept
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
    """The master's readings of its workers' clocks, by worker id."""

    def __init__(self, ask: Ask, now: Callable[[], float] = time.time) -> None:
        self._ask = ask
        self._now = now
        self._asked: dict[str, tuple[int, float]] = {}  # worker id -> (round, t0)
        self._best: dict[str, Reading] = {}
        self._rounds: dict[str, int] = {}

    def hello(self, worker: str) -> None:
        """A worker joined (or joined again): measure its clock anew."""
        self._best.pop(worker, None)
        self._rounds[worker] = 0
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
        if self._rounds[worker] < SAMPLES:
            self._next(worker)

    def reading(self, worker: str) -> Reading | None:
        """The worker's best reading, once every round came back; None before."""
        done = self._rounds.get(worker, 0) >= SAMPLES and worker not in self._asked
        return self._best.get(worker) if done else None

    def _next(self, worker: str) -> None:
        round_ = self._rounds[worker] = self._rounds[worker] + 1
        self._asked[worker] = (round_, self._now())
        self._ask(worker, round_)


def settings(readings: Sequence[Reading]) -> dict[str, object]:
    """What a distributed run keeps of its workers' clocks (RunInfo.settings ``clocks``): each
    worker's offset and uncertainty by index, and the run's uncertainty, the largest, which the
    judge allows for where it times a worker's send against a write."""
    return {
        "clocks": {
            "uncertainty": max((r.uncertainty for r in readings), default=0.0),
            "workers": [
                {"index": i, "offset": r.offset, "uncertainty": r.uncertainty}
                for i, r in enumerate(readings)
            ],
        }
    }
