"""The garbage collector around the harness's bulk phases, where it was measured to cost most.

Loading or judging a large History makes millions of objects that all live on; a drive keeps
thousands of in-flight tasks. In both, full collections rescan what cannot be garbage.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No collection inside; the collector's previous state restored after, errors included.

    Loading a million deliveries: ~2.5 s less; judging a large failing run: a third less.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# The youngest generation's threshold while a drive runs (Python's default: 700). A drive's
# in-flight deliveries keep thousands of young objects alive at any moment (at 64 connections,
# some seventy per delivery: its task, request, response, headers, timer), so at 700 a young
# collection ran every fourteen deliveries and found nothing to free: ~1,100 young, ~100 middle
# and ~9 full collections in 20,000 deliveries, 17-25 µs of the sender's CPU a delivery
# (bench_delivery). Above that working set they run about once in the same drive. Cycles (an
# error's traceback) are still collected, after at most this many more objects.
DRIVE_THRESHOLD = 10_000


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """Move what exists now out of the collector's sight while the block runs, and collect
    the young objects made meanwhile only when they outnumber a drive's working set.

    A drive: full collections walking the in-flight tasks took ~40% of the sender's CPU and an
    18 ms pause could land inside a burst; freezing the long-lived heap removes both.
    The young generations are collected first (what preparing the drive left); not the old
    one: a full collection walks the whole heap, ~0.1 s a drive in a process that has run many
    (a suite of scenarios, a test session), and its garbage is collected after the drive.
    The thresholds in force before are restored, and the heap unfrozen, when the last of the
    drives running at once (``engine.together``) ends, errors included.
    """
    gc.collect(1)
    gc.freeze()
    with _drives.lock:
        if not _drives.running:
            _drives.thresholds = gc.get_threshold()
            first, *older = _drives.thresholds
            gc.set_threshold(max(first, DRIVE_THRESHOLD), *older)
        _drives.running += 1
    try:
        yield
    finally:
        with _drives.lock:
            _drives.running -= 1
            if not _drives.running:
                gc.set_threshold(*_drives.thresholds)
                # Not before: unfreezing is all or nothing, and the drives still running would
                # have their heaps walked again by every full collection.
                gc.unfreeze()


class _Drives:
    """How many drives are in ``frozen`` now, and the thresholds the first found."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.thresholds: tuple[int, ...] = gc.get_threshold()


_drives = _Drives()
