"""The harness's own event loop, watched during a run: how late a short sleep wakes up.

A loaded machine (the test suite's other workers, a year's month, a CPU-bound automation on the
same cores) makes the loop that sends, times and answers run late: an answer waits in the socket
until the loop reads it, and the double's answers to the target are late too. Each quarter
second whose worst lateness reaches ``FLOOR`` is kept as a ``loop-lag`` mark, so that a verdict
on time (``ack_within``) can tell the target's slowness from the harness's own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from ..core._model import LOOP_LAG_BUCKET, LOOP_LAG_MARK

TICK = 0.01  # the sleep whose oversleep is measured
BUCKET = LOOP_LAG_BUCKET  # one mark at most per this many seconds: the worst lateness in it
FLOOR = 0.02  # lateness below this is the machine's ordinary jitter: not kept
MAX_MARKS = 20_000  # a bound on one run's marks (83 minutes of a lagging loop)


async def watch_lag(clock: Callable[[], float], mark: Callable[[str, str], None]) -> None:
    """Until cancelled: keep a mark for each bucket in which the loop ran ``FLOOR`` late."""
    loop = asyncio.get_running_loop()
    worst = 0.0
    ends = clock() + BUCKET
    kept = 0
    while kept < MAX_MARKS:
        before = loop.time()
        await asyncio.sleep(TICK)
        worst = max(worst, loop.time() - before - TICK)
        now = clock()
        if now >= ends:
            if worst >= FLOOR:
                mark(LOOP_LAG_MARK, json.dumps({"lag": round(worst, 4)}))
                kept += 1
            worst = 0.0
            ends = now + BUCKET
