"""Where a run may journal, checked before anything is sent; and one run writing a journal at
a time.

Two runs started at once into one ``--journal`` are refused, the second with a message that
says so (exit 2), instead of interleaving their writes and timing out on SQLite's lock: the
running one holds an advisory lock (``flock``) on the file while it writes. Runs into the
default journals never meet: each gets a file of its own (``default_journal``). Readers
(`harness check`, `report`) never take the lock: they may read a journal while it is written.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ..core._errors import InputError
from ..core._files import check_writable_file
from ._integrity import check_tables
from ._schema import journal_format

try:
    import fcntl
except ImportError:  # Windows: no advisory lock; one run per journal is then on the user
    fcntl = None  # type: ignore[assignment]

_NEW = "pass a new file with --journal, or leave --journal out for a file of this run's own"


def check_journal_path(path: Path, where: str = "--journal") -> None:
    """InputError unless a run can write its journal at ``path``: a writable place that is not
    a directory, and either no file yet, an empty one, or a journal of this format that no
    other run is writing."""
    check_writable_file(path, where, "run.db")
    if not path.exists():
        return
    if not path.is_file():
        raise InputError(f"{str(path)!r} is not a regular file", where=where, hint=_NEW)
    # The lock first: a run that holds it may not have written its tables yet, and the
    # second must hear that another run writes, not that the file is another program's.
    lock = claim(path, where)
    try:
        if path.stat().st_size:
            _check_journal(path, where)
    finally:
        os.close(lock)


def _check_journal(path: Path, where: str) -> None:
    """InputError unless the file at ``path`` is an undamaged journal of this format."""
    db = None
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        version = journal_format(db, path, writing=True)
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone() is None:
            raise InputError(
                f"{str(path)!r} is an SQLite file of another program (it has no runs table)",
                where=where,
                hint=_NEW,
            )
        check_tables(db, path, version)
        found = db.execute("PRAGMA quick_check(1)").fetchone()[0]
        if found != "ok":
            raise InputError(
                f"{str(path)!r} is a damaged journal ({found}); a run must not add to it",
                where=where,
                hint=_NEW,
            )
    except sqlite3.DatabaseError as exc:
        raise InputError(
            f"{str(path)!r} is not a harness journal ({exc})", where=where, hint=_NEW
        ) from None
    finally:
        if db is not None:
            db.close()


def claim(path: Path, where: str = "--journal") -> int:
    """A descriptor of ``path`` holding its writer's lock; InputError when another run holds
    it. Close it after the journal's own connection (closing it earlier would drop SQLite's
    locks of this process on the file)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InputError(
            f"another run is writing {str(path)!r} now",
            where=where,
            hint="give each run its own --journal (or leave it out: every run then gets a "
            "file of its own), or wait for the other run to end",
        ) from None
    return fd
