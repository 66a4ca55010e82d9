"""The harness's own event loop, watched during a run: how late a short sleep wakes up.

A loaded machine (the test suite's other workers, a year's month, a CPU-bound automation on the
same cores) makes the loop that sends, times and answers run late: an answer waits in the socket
until the loop reads it, and the double's answers to the target are late too. Each quarter
second whose worst lateness reaches ``FLOOR`` is kept as a ``loop-lag`` mark, so that a verdict
on time (``ack_within``) can tell the target's slowness from the harness's own.

An app driven in-process answers on that same loop, so it waits for everything else on it:
the harness sending and recording, the double, the app's other requests, and the machine
giving the loop's thread no CPU. For such a run a mark also says how long the loop was ``busy``
in the ``span`` it covers (a quarter second, or longer when the loop ran late): the seconds its
thread ran, and (Linux) waited to run or had its CPU taken by a hypervisor (steal), those also
kept alone as ``wait`` (the machine's, not the loop's work); a loop busy for a fifth of a
quarter second is kept even when no single step was late by ``FLOOR``. A loop late while its
thread neither ran, nor waited to run, nor was stolen was blocked in a call made on it: in an
in-process run, the app's (the harness's own calls on its loop, journal writes into the page
cache, take milliseconds). A process stopped whole (SIGSTOP, a frozen container) looks the
same, and is not told apart.

A target that is a process on this machine (``--target-pid``; ``harness demo``'s automations)
is watched too: how long its threads waited for a CPU in each bucket (``target_wait``). An
answer that waited for a CPU the machine gave to others is not slow by the target's own doing.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable

from ..core._model import LOOP_LAG_BUCKET, LOOP_LAG_MARK

TICK = 0.01  # the sleep whose oversleep is measured
BUCKET = LOOP_LAG_BUCKET  # one mark at most per this many seconds: the worst lateness in it
FLOOR = 0.02  # lateness below this is the machine's ordinary jitter: not kept
BUSY_FLOOR = 0.05  # busy a fifth of a quarter second: kept (an in-process app's run)
SCHEDSTAT = "/proc/thread-self/schedstat"  # Linux: ns on a CPU, ns waiting for one, slices
STAT = "/proc/stat"  # Linux: its first line sums every CPU's time, steal the 8th figure
MAX_MARKS = 20_000  # a bound on one run's marks (83 minutes of a lagging loop)


async def watch_lag(
    clock: Callable[[], float],
    mark: Callable[[str, str], None],
    *,
    busy: bool = False,
    target_pid: int | None = None,
) -> None:
    """Until cancelled: keep a mark for each bucket in which the loop ran ``FLOOR`` late at
    worst, or, with ``busy`` (an in-process app's run), was busy ``BUSY_FLOOR`` seconds, or the
    process ``target_pid`` (the target, on this machine) waited ``FLOOR`` seconds for a CPU
    (``target_wait``); such marks also say the span they cover.

    Each tick is a timer callback on the loop, not a coroutine's ``asyncio.sleep``: the same
    lateness (of a TICK-second timer), without a future and a task step a tick — a run's
    watch costs a quarter less CPU, paid a hundred times a second for as long as it lasts."""
    loop = asyncio.get_running_loop()
    watch = _Watch(loop, clock, mark, busy, target_pid)
    try:
        await watch.ended
    finally:
        watch.close()


class _Watch:
    """``watch_lag``'s state between its ticks; ``ended`` is done when MAX_MARKS were kept
    or a tick failed (the error is ``watch_lag``'s)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        clock: Callable[[], float],
        mark: Callable[[str, str], None],
        busy: bool,
        target_pid: int | None,
    ) -> None:
        self._loop, self._clock, self._mark = loop, clock, mark
        self.ended: asyncio.Future[None] = loop.create_future()
        self._used = _LoopThreadTime() if busy else None
        self._target = _ProcessWait(target_pid) if target_pid is not None else None
        self._worst = 0.0
        self._started = clock()
        self._ends = self._started + BUCKET
        self._since, self._waited = self._used() if self._used is not None else (0.0, None)
        self._target_since = self._target() if self._target is not None else None
        self._kept = 0
        self._next = self._schedule()

    def _schedule(self) -> asyncio.TimerHandle:
        due = self._loop.time() + TICK
        return self._loop.call_at(due, self._tick, due)

    def _tick(self, due: float) -> None:
        try:
            self._worst = max(self._worst, self._loop.time() - due)
            now = self._clock()
            if now >= self._ends:
                self._bucket(now)
        except Exception as error:  # watch_lag's, as the loop of a coroutine made it
            if not self.ended.done():
                self.ended.set_exception(error)
            return
        if self._kept >= MAX_MARKS:
            if not self.ended.done():
                self.ended.set_result(None)
            return
        self._next = self._schedule()

    def _bucket(self, now: float) -> None:
        span = now - self._started
        detail: dict[str, float] = {"lag": round(self._worst, 4)}
        if self._used is not None:
            until, waits = self._used()
            # A thread runs or waits for at most the span (a clock that changed to the
            # fallback midway gives one bucket a figure out of it).
            detail["busy"] = round(min(max(until - self._since, 0.0), span), 4)
            if waits is not None and self._waited is not None:
                detail["wait"] = round(min(max(waits - self._waited, 0.0), span), 4)
            self._since, self._waited = until, waits
        if self._target is not None:
            target_until = self._target()
            if target_until is not None and self._target_since is not None:
                # Threads that waited at once: the answer waited the span at most.
                starved = min(max(target_until - self._target_since, 0.0), span)
                detail["target_wait"] = round(starved, 4)
            self._target_since = target_until
        if len(detail) > 1:
            detail["span"] = round(span, 4)
        if (
            self._worst >= FLOOR
            or detail.get("busy", 0.0) >= BUSY_FLOOR
            or detail.get("target_wait", 0.0) >= FLOOR
        ):
            self._mark(LOOP_LAG_MARK, json.dumps(detail))
            self._kept += 1
        self._worst = 0.0
        self._started, self._ends = now, now + BUCKET

    def close(self) -> None:
        self._next.cancel()
        if self._used is not None:
            self._used.close()


class _ProcessWait:
    """A clock of the seconds a process's threads have waited for a CPU, summed: Linux's
    figures of each of its threads (``/proc/PID/task/TID/schedstat``); None once they cannot be
    read (the process ended, another system). A thread that ended takes its figure with it:
    the next bucket's difference is then short, never long."""

    def __init__(self, pid: int) -> None:
        self._tasks = f"/proc/{pid}/task"

    def __call__(self) -> float | None:
        try:
            threads = os.listdir(self._tasks)
        except OSError:
            return None
        total = 0
        for tid in threads:
            try:
                with open(f"{self._tasks}/{tid}/schedstat", "rb") as f:
                    total += int(f.read(128).split()[1])
            except (OSError, ValueError, IndexError):
                continue
        return total / 1e9


class _LoopThreadTime:
    """A clock of the calling thread's (the loop's) seconds on a CPU and, where Linux keeps
    them, its seconds waiting for one, and the seconds a hypervisor took the machine's CPUs
    (steal, summed over them: an upper bound of this thread's share): all time the loop was not
    free for an answer, the last two the machine's. Linux's figures for the thread that made
    this (``/proc/thread-self``, opened once); the thread's CPU time (``time.thread_time``)
    where there are none, or once they fail."""

    def __init__(self) -> None:
        self._fd: int | None = None
        self._stat: int | None = None
        try:
            self._fd = os.open(SCHEDSTAT, os.O_RDONLY)
            if int(self._fields()[0]) == 0:  # a kernel that keeps no scheduler figures
                self.close()
                return
            self._stat = os.open(STAT, os.O_RDONLY)
        except (OSError, ValueError, IndexError):
            self.close()

    def __call__(self) -> tuple[float, float | None]:
        """Seconds the thread ran or waited to run, or the machine was stolen, and of those
        the seconds the machine took (None where Linux's figures are not kept: the thread's
        CPU time alone)."""
        if self._fd is not None:
            try:
                on_cpu, waiting = (int(n) / 1e9 for n in self._fields()[:2])
                machine = waiting + self._stolen()
                return on_cpu + machine, machine
            except (OSError, ValueError):
                self.close()
        return time.thread_time(), None

    def _fields(self) -> list[bytes]:
        assert self._fd is not None
        return os.pread(self._fd, 128, 0).split()

    def _stolen(self) -> float:
        if self._stat is None:
            return 0.0
        try:
            return steal_seconds(os.pread(self._stat, 256, 0))
        except (OSError, ValueError):
            return 0.0

    def close(self) -> None:
        for fd in (self._fd, self._stat):
            if fd is not None:
                os.close(fd)
        self._fd = self._stat = None


def steal_seconds(stat: bytes) -> float:
    """The seconds of steal in ``/proc/stat``'s first line (``cpu  user nice system idle iowait
    irq softirq steal ...``, in clock ticks); 0 where it has none."""
    fields = stat.split(b"\n", 1)[0].split()
    if len(fields) < 9 or fields[0] != b"cpu":
        return 0.0
    return int(fields[8]) / os.sysconf("SC_CLK_TCK")
