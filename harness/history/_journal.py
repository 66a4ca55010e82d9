"""The journal: a run's History, appended to SQLite (WAL, batched writes).

One journal file holds one or more runs (one per scenario of a ``harness run``).
Everything after the drive — judging, reports, ``harness check`` — reads only this.
A killed run loses at most the last unflushed batch; what was flushed can be judged. The
write-ahead log is copied into the ``.db`` file about every second (CHECKPOINT_EVERY) and when
the journal is closed, after which the ``.db`` alone holds everything: the file a user attaches
to a ticket, or reads in a read-only folder, is never an empty shell of a ``-wal`` file. The
copy syncs the file to disk (milliseconds, tens on a busy machine), so a thread of its own
makes it (``_Checkpointer``): the run's event loop, where deliveries are sent on time and
answers are timed, never waits for the disk.

Rows name their run by a small integer (``runs.run``), not by its run id. Events, deliveries
and effects are written as chunks (``_chunks``): each batch one row per table and run, each of
its columns one value. An effect attributed to one event (the common case) keeps that id in
``event_id``; only several ids go to ``event_ids`` as a JSON list. Loading a run of a million
deliveries takes seconds: event ids and repeated values are shared, not copied per row; headers
stay JSON text until read (``LazyHeaders``), and payloads until read (``_event``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec

from ..core._errors import InputError, OutputError
from ..core._model import LATE_EFFECT_MARK, Delivery, Effect, Event, Fault, StateRecord
from ..core._text_event import payload_json
from . import _chunks as chunks
from ._claim import claim
from ._history import RunInfo
from ._integrity import check_tables
from ._schema import SCHEMA, SCHEMA_VERSION, journal_format

# Seconds between copies of the write-ahead log into the .db file while a run writes.
CHECKPOINT_EVERY = 1.0


_P = ParamSpec("_P")


def _written(
    method: Callable[Concatenate[Journal, _P], None],
) -> Callable[Concatenate[Journal, _P], None]:
    """A write that a full disk, a removed folder or a read-only file system can refuse, or
    the format's checks (a row of another type: ``_schema``): the first refusal raises
    OutputError (exit 3: the run could not be completed), which ends the run; later writes are
    dropped, so that ending it does not fail again. What was committed
    before stays in the file, for `harness check`."""

    def guarded(journal: Journal, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        if journal.failed is not None:
            return
        try:
            if journal._checkpointer.error is not None:
                raise journal._checkpointer.error
            method(journal, *args, **kwargs)
        except (sqlite3.OperationalError, OSError) as exc:
            journal.failed = OutputError(
                f"the journal could not be written ({exc}); the run stopped there",
                where=str(journal.path),
                hint="free some space or choose another folder (--journal); what was recorded "
                f"before is kept: judge it with `harness check {journal.path}`",
            )
            raise journal.failed from None
        except (sqlite3.IntegrityError, sqlite3.DataError) as exc:  # a check, a size limit
            journal.failed = OutputError(
                f"the journal refused a row ({exc}): a value it cannot hold, such as NaN or "
                "Infinity in a JSON body, or a bug in harness; the run stopped there",
                where=str(journal.path),
                hint=f"what was recorded before is kept: judge it with `harness check "
                f"{journal.path}`; if no NaN or Infinity is involved, please report it",
            )
            raise journal.failed from None

    return guarded


class Journal:
    """Appends a run's records to SQLite in batches. Not thread-safe; one writer per file."""

    def __init__(self, path: str | Path, *, batch: int = 2000, interval: float = 0.2):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = claim(self.path)  # one run writes a journal at a time (``_claim``)
        try:
            self._db = _open_for_writing(self.path)
        except BaseException:
            os.close(self._lock)
            raise
        self._checkpointer = _Checkpointer(self.path)
        self._batch = batch
        self._interval = interval
        self._last_flush = time.monotonic()
        self._events: list[tuple[Any, ...]] = []
        self._deliveries: list[tuple[Any, ...]] = []
        self._effects: list[tuple[Any, ...]] = []
        self._marks: list[tuple[Any, ...]] = []
        self._run: int | None = None
        self.run_id: str | None = None
        # run id -> row number, for late effects: a journal opened again knows its runs, so a
        # late effect of a run an earlier Journal on this file wrote goes back to it.
        self._runs: dict[str, int] = dict(self._db.execute("SELECT run_id, run FROM runs"))
        self.failed: OutputError | None = None  # the first write that could not be made

    @_written
    def begin(self, info: RunInfo, events: Iterable[Event], faults: Iterable[Fault] = ()) -> None:
        """Start a run: its description, its source events and its declared faults. A
        streamed run begins with no events and appends each as it is made (``event``)."""
        self.flush()
        with self._tx():
            added = self._db.execute(
                "INSERT INTO runs(run_id, info, status) VALUES (?, ?, 'running')",
                (info.run_id, info.to_json()),
            )
            run = self._run = added.lastrowid
            self.run_id = info.run_id
            if run is not None:
                self._runs[info.run_id] = run
            # A generator: half a million rows are never all in memory at once.
            chunks.write(self._db, "events", (_event_row(run, e) for e in events))
            self._db.executemany(
                "INSERT INTO faults VALUES (?,?,?,?,?,?)",
                (
                    (run, f.downstream, f.mode, f.start, f.end, json.dumps(dict(f.params)))
                    for f in faults
                ),
            )

    def event(self, e: Event, payload: str | None = None) -> None:
        """One more source event of the run, written with the next batch: the same row
        ``begin`` writes, in the same (seq) order, before any delivery of it is recorded.
        ``payload``: the event's payload as JSON text, when the caller has made it already."""
        self._events.append(_event_row(self._run, e, payload))
        self._maybe_flush()

    def delivery(self, d: Delivery) -> None:
        self._deliveries.append(
            (
                self._run,
                d.id,
                d.event_id,
                d.attempt,
                d.scheduled_at,
                d.sent_at,
                d.answered_at,
                d.status,
                d.outcome.value,
                d.error,
                d.answer_body,
            )
        )
        self._maybe_flush()

    def effect(self, e: Effect) -> None:
        self._effects.append(_effect_row(self._run, e))
        self._maybe_flush()

    def late_effect(self, run_id: str, e: Effect) -> None:
        """An effect of run ``run_id`` (begun in this journal) that arrived after that run's
        final state was taken: kept with that run, marked late, never judged (``History``)."""
        run = self._runs[run_id]
        self._effects.append(_effect_row(run, e))
        self._marks.append((run, e.at, LATE_EFFECT_MARK, e.id))
        self._maybe_flush()

    def mark(self, at: float, name: str, detail: str = "") -> None:
        self._marks.append((self._run, at, name, detail))
        self._maybe_flush()

    @_written
    def states(self, records: Iterable[StateRecord]) -> None:
        """The final state of the run's downstreams (written at once: it comes at the end)."""
        self.flush()
        with self._tx():
            self._db.executemany(
                "INSERT INTO states VALUES (?,?,?,?,?,?,?)",
                (
                    (
                        self._run,
                        r.source,
                        r.collection,
                        r.id,
                        json.dumps(r.body),
                        json.dumps(list(r.event_ids)),
                        r.key,
                    )
                    for r in records
                ),
            )

    @_written
    def describe(self, info: RunInfo) -> None:
        """The run's description (``begin``'s) replaced by ``info``: what became known as it
        ran (a schedule planned as it was sent, counted at its end)."""
        self._db.execute("UPDATE runs SET info = ? WHERE run = ?", (info.to_json(), self._run))

    @_written
    def end(self, status: str, ended_at: float) -> None:
        """Close the run with its final status ("complete" or "aborted")."""
        self.flush()
        self._db.execute(
            "UPDATE runs SET status = ?, ended_at = ? WHERE run = ?",
            (status, ended_at, self._run),
        )

    def _maybe_flush(self) -> None:
        pending = len(self._events) + len(self._deliveries) + len(self._effects) + len(self._marks)
        if pending >= self._batch or time.monotonic() - self._last_flush >= self._interval:
            self.flush()

    @_written
    def flush(self) -> None:
        """Write what is buffered (into the write-ahead log: no sync to disk). Called on each
        record (when the batch or the interval is full) and, while a run waits, by the Recorder
        every second."""
        self._last_flush = time.monotonic()
        if not (self._events or self._deliveries or self._effects or self._marks):
            return
        with self._tx():
            # Events first: a delivery's event is in the file before it.
            chunks.write(self._db, "events", self._events)
            chunks.write(self._db, "deliveries", self._deliveries)
            chunks.write(self._db, "effects", self._effects)
            if self._marks:
                self._db.executemany("INSERT INTO marks VALUES (?,?,?,?)", self._marks)
        self._events.clear()
        self._deliveries.clear()
        self._effects.clear()
        self._marks.clear()

    def close(self) -> None:
        """Flush, and leave one self-contained ``.db`` file (no ``-wal`` or ``-shm`` beside it).
        After a failed write, only closes: what was committed before it stays in the file.
        A last copy the disk refuses raises OutputError: every row is kept, in the ``-wal``."""
        try:
            self._checkpointer.close()  # before the last copy: it needs the only connection
            if self.failed is None:
                self.flush()
                try:
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                    self._db.execute("PRAGMA journal_mode=DELETE")
                except sqlite3.OperationalError as exc:
                    if _refused_by_disk(exc):
                        raise self._not_copied(exc) from None
                    # else another connection still reads it: the WAL stays, nothing is lost
        finally:
            self._db.close()
            os.close(self._lock)  # after the connection: see _claim.claim

    def _not_copied(self, exc: sqlite3.OperationalError) -> OutputError:
        wal = f"{self.path}-wal"
        return OutputError(
            f"the journal could not be written ({exc}): its write-ahead log could not be "
            "copied into the file; every row is kept, in the file and "
            f"{wal} together",
            where=str(self.path),
            hint=f"keep {wal} beside the file (a copy of the file alone lacks the end of the run) "
            f"and free some space; `harness check {self.path}` reads both",
        )

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


def _refused_by_disk(exc: sqlite3.OperationalError) -> bool:
    """A full disk, a file-size limit or an I/O error (SQLITE_FULL, SQLITE_IOERR_*), as
    against a busy or locked database."""
    return exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR)


class _Checkpointer:
    """Copies the write-ahead log into the ``.db`` every CHECKPOINT_EVERY seconds, from a
    thread and a connection of its own (sqlite releases the GIL while it works). A copy the
    disk refuses (full, or a file-size limit on the ``.db`` alone) is kept in ``error`` and
    copying stops: the log still holds every row, and the journal's next write reports it
    (the run stops there), as it would a write to the log the disk refused. A busy database
    is left to the next copy."""

    def __init__(self, path: Path):
        self._path = path
        self.error: sqlite3.OperationalError | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._copy, name="journal-checkpoint", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        # A connection per copy, closed at once: one held between copies would keep the
        # -wal and -shm files beside the .db of a journal its process never closed.
        while not self._stop.wait(CHECKPOINT_EVERY):
            try:
                db = sqlite3.connect(self._path, isolation_level=None)
                try:
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)")  # never waits for a writer
                finally:
                    db.close()
            except sqlite3.OperationalError as exc:
                if _refused_by_disk(exc):
                    self.error = exc
                    return
            except sqlite3.Error:
                continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def _event_row(run: int | None, e: Event, payload: str | None = None) -> tuple[Any, ...]:
    return (
        run,
        e.seq,
        e.id,
        e.key,
        e.type,
        e.occurred_at,
        payload_json(e) if payload is None else payload,
        json.dumps(dict(e.headers)),
    )


def _effect_row(run: int | None, e: Effect) -> tuple[Any, ...]:
    ids = e.event_ids
    return (
        run,
        e.id,
        e.downstream,
        e.at,
        e.method,
        e.path,
        json.dumps(dict(e.headers)),
        e.body,
        e.status,
        ids[0] if len(ids) == 1 else None,
        json.dumps(list(ids)) if len(ids) > 1 else None,
        e.key,
        e.committed,
    )


def _open_for_writing(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        journal_format(db, path, writing=True)
        db.execute("PRAGMA journal_mode=WAL")
        # Only the _Checkpointer copies the log: sqlite's own copy would run on a COMMIT, in
        # the run's event loop, every 1,000 pages.
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        check_tables(db, path, SCHEMA_VERSION)
    except (sqlite3.DatabaseError, InputError) as exc:
        db.close()
        if isinstance(exc, InputError):
            raise
        if isinstance(exc, sqlite3.OperationalError):  # a full disk, a read-only file system
            raise OutputError(
                f"the journal could not be written ({exc}); nothing was sent",
                where=str(path),
                hint="free some space or choose another folder (--journal)",
            ) from None
        raise InputError(
            f"not a harness journal ({exc})",
            where=str(path),
            hint="pass a new file (--journal), or a journal a `harness run` wrote",
        ) from None
    return db


class _Transaction:
    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, exc_type: object, *_: object) -> None:
        if not exc_type:
            self._db.execute("COMMIT")
            return
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass  # SQLite rolled it back itself (a full disk): the first error is the one told
