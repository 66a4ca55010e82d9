"""A recorded JSON document's records, read and parsed once while a command prepares its runs.

A provider's export read whole (a Stripe list response, a HAR, a JSON array) is gone through
by every step that checks or uses it before anything is sent: the key guessed for
``--events``, the project's model, the hazards' span, the source's paths, the events — and
again for the clean run. Each used to read and parse it anew (ten times for ``harness run
duplicate-storm --events export.json``: most of the 14 CPU-s before its first delivery).
Within ``shared_reads()`` the first read's records are kept and given to the others, and the
events a recorded source makes of them (``_sources.recorded``) to the clean run's prepare; the
last prepare that reads them lets them go (``let_go``) before it traces its events, and the
engine again as a run starts sending, so no run holds them.

Outside ``shared_reads()`` nothing is kept: a library caller reads as before. The records of
a file read a line at a time (JSON Lines) are never kept, it is read in flat memory whatever
its size; the events made of it (whole, as a recording's run makes them) are shared as above.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar, cast

from ._common import Record

# What was read of the last file (one at a time: a command replays one file per source) and
# made of it, by the file as it was on disk and what was made; None outside ``shared_reads``.
_kept: dict[tuple[object, ...], object] | None = None
T = TypeVar("T")


@contextmanager
def shared_reads() -> Iterator[None]:
    """Within: each JSON document a reader reads whole is parsed once, its records shared by
    every later read of the same file, unchanged on disk, as the same format. Nested: the
    outermost scope keeps them."""
    global _kept
    if _kept is not None:
        yield
        return
    _kept = {}
    try:
        yield
    finally:
        _kept = None


def let_go() -> None:
    """Forget what was kept: the last prepare that reads it has its events."""
    if _kept is not None:
        _kept.clear()


def records(
    path: Path, read_as: tuple[object, ...], read: Callable[[], Iterator[Record]]
) -> Iterator[Record]:
    """``read()``'s records, read once within ``shared_reads`` for this file as it is on disk
    now and ``read_as`` (its format and how it is picked from)."""
    if _kept is None:
        return read()
    # A bad record raises here, as reading it through would.
    return iter(made(path, ("records", *read_as), lambda: tuple(read())))


def made(path: Path, what: tuple[object, ...], make: Callable[[], T]) -> T:
    """``make()``, made once within ``shared_reads`` from the file at ``path`` as it is on
    disk now (``what``: what is made of it, and how)."""
    if _kept is None:
        return make()
    try:
        found = path.stat()
    except OSError:
        return make()  # the reader says why the file cannot be read
    file = (str(path.resolve()), found.st_ino, found.st_size, found.st_mtime_ns)
    key = (file, *what)
    if key in _kept:
        return cast(T, _kept[key])
    value = make()
    if any(k[0] != file for k in _kept):
        _kept.clear()
    _kept[key] = value
    return value
