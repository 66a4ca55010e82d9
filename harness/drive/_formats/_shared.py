"""A recorded JSON document's records, read and parsed once while a command prepares its runs.

A provider's export read whole (a Stripe list response, a HAR, a JSON array) is gone through
by every step that checks or uses it before anything is sent: the key guessed for
``--events``, the project's model, the hazards' span, the source's paths, the events — and
again for the clean run. Each used to read and parse it anew (ten times for ``harness run
duplicate-storm --events export.json``: most of the 14 CPU-s before its first delivery).
Within ``shared_reads()`` the first read's records are kept and given to the others; the
engine lets them go (``let_go``) as a run starts sending, so a run never holds them.

Outside ``shared_reads()`` nothing is kept: a library caller reads as before. A file read a
line at a time (JSON Lines) is never kept: it is read in flat memory whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ._common import Record

# The records of the last document read (one at a time: a command replays one file per
# source), by what it was read as; None outside ``shared_reads``.
_kept: dict[tuple[object, ...], tuple[Record, ...]] | None = None


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
    """Forget the records kept: a run is about to send, and nothing it does reads them."""
    if _kept is not None:
        _kept.clear()


def records(
    path: Path, read_as: tuple[object, ...], read: Callable[[], Iterator[Record]]
) -> Iterator[Record]:
    """``read()``'s records, read once within ``shared_reads`` for this file as it is on disk
    now and ``read_as`` (its format and how it is picked from)."""
    if _kept is None:
        return read()
    try:
        found = path.stat()
    except OSError:
        return read()  # the reader says why the file cannot be read
    key = (str(path.resolve()), found.st_ino, found.st_size, found.st_mtime_ns, *read_as)
    kept = _kept.get(key)
    if kept is None:
        kept = tuple(read())  # a bad record raises here, as reading it through would
        _kept.clear()
        _kept[key] = kept
    return iter(kept)
