"""Reading runs back from a journal: ``load``, ``load_all``, ``run_ids``, ``run_infos``;
read-only."""

from __future__ import annotations

import json
import sqlite3
from array import array
from itertools import islice
from operator import gt
from pathlib import Path
from typing import Any

from ..core import _gc
from ..core._errors import DAMAGED_HINT, InputError
from ..core._model import LATE_EFFECT_MARK, Effect, Fault, Outcome, StateRecord
from ._chunks import DAMAGED, Codes, Column, Convert, Shared
from ._chunks import column_batches as _batches
from ._deliveries import FIELDS as DELIVERY_FIELDS
from ._deliveries import Deliveries
from ._effects import FIELDS as EFFECT_FIELDS
from ._effects import SEVERAL, Effects
from ._events import FIELDS as EVENT_FIELDS
from ._events import Events
from ._history import NO_HEADERS, History, Mark, RunInfo
from ._integrity import check_rows, check_tables
from ._schema import COLUMNS, SCHEMA_VERSION, journal_format

_OUTCOMES = {o.value: o for o in Outcome}  # 20x cheaper than Outcome(text) per row
EVENT_COLUMNS = tuple(COLUMNS["events"])  # as the journal orders them: seq first


def run_ids(path: str | Path) -> list[str]:
    """The runs a journal holds, in the order they started."""
    with _open(path) as db:
        return [r[0] for r in db.execute("SELECT run_id FROM runs ORDER BY run")]


def run_infos(path: str | Path) -> list[tuple[RunInfo, str]]:
    """Each run's RunInfo and status (complete, aborted, running), in the order they started,
    without its rows: what resuming a year reads (``harness.year``)."""
    with _open(path) as db:
        rows = db.execute("SELECT info, status FROM runs ORDER BY run").fetchall()
    return [(RunInfo.from_json(info), status) for info, status in rows]


def load(path: str | Path, run_id: str) -> History:
    """Read one run of a journal back into memory, with the baseline run it names."""
    return _load(path, run_id, {})


def _load(path: str | Path, run_id: str, loaded: dict[str, History]) -> History:
    """``load``, reusing the runs in ``loaded`` (by run id) as baselines."""
    try:
        return _read(path, run_id, loaded)
    except sqlite3.DatabaseError as exc:  # bytes damaged past what the open could see
        raise InputError(
            f"damaged journal: {exc} (while reading run {run_id!r})",
            where=str(path),
            hint="recover what is left with `sqlite3 JOURNAL .recover | sqlite3 recovered.db`, "
            "or run the scenario again",
        ) from None
    except DAMAGED as exc:
        raise InputError(
            f"damaged journal: run {run_id!r} cannot be read ({type(exc).__name__}: {exc})",
            where=str(path),
            hint=DAMAGED_HINT,
        ) from None


def _read(path: str | Path, run_id: str, loaded: dict[str, History]) -> History:
    journal = _open(path)
    with journal as db, _gc.paused():
        found = db.execute(
            "SELECT run, info, status, ended_at FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if found is None:
            raise InputError(f"no run {run_id!r} in this journal", where=str(path))
        run, info, status, ended_at = found
        if journal.version == 5:  # from format 6 on, SQLite checked each row
            check_rows(db, Path(path), run)
        # Deliveries and effects name their event by the Event's own id object, and a value
        # that repeats from row to row (record key, type, path, method...) is one object:
        # a million rows hold no copies, and lookups by event id hit on identity.
        repeated: dict[str, str] = {}
        events = _load_events(db, run, journal.version, repeated)
        deliveries = _load_deliveries(db, run, journal.version, events, repeated)
        effects = _load_effects(db, run, journal.version, repeated, events)
        faults = [
            Fault(r[0], r[1], r[2], r[3], json.loads(r[4]))
            for r in db.execute(
                'SELECT downstream, mode, start, "end", params FROM faults WHERE run = ?', (run,)
            )
        ]
        marks = [
            Mark(r[0], r[1], r[2])
            for r in db.execute(
                "SELECT at, name, detail FROM marks WHERE run = ? ORDER BY at", (run,)
            )
        ]
        states = [
            StateRecord(source, collection, rid, json.loads(body), tuple(json.loads(ids)), key)
            for source, collection, rid, body, ids, key in db.execute(
                "SELECT source, collection, id, body, event_ids, key FROM states WHERE run = ? "
                "ORDER BY rowid",
                (run,),
            )
        ]
        run_info = RunInfo.from_json(info)
        baseline_id = run_info.settings.get("baseline")
        has_baseline = (
            isinstance(baseline_id, str)
            and baseline_id != run_id
            and db.execute("SELECT 1 FROM runs WHERE run_id = ?", (baseline_id,)).fetchone()
        )
    late_ids = {m.detail for m in marks if m.name == LATE_EFFECT_MARK}
    late: list[Effect] = []
    if late_ids:
        effects, late = effects.parted(late_ids)
    history = History(
        run_info, events, deliveries, effects, faults, marks, status, ended_at, states
    )
    history.late_effects = late
    # Known before its baseline is read: runs that name each other load once each.
    loaded[run_id] = history
    if has_baseline:
        # The clean run this one is judged against (final_state_matches_baseline); one
        # loaded already (load_all) is not read a second time.
        baseline_id = str(baseline_id)
        found = loaded.get(baseline_id)
        history.baseline = found if found is not None else _load(path, baseline_id, loaded)
    return history


def load_all(path: str | Path) -> list[History]:
    """Every run of a journal but the baselines, in the order they were written: a baseline is
    part of the run that names it (``History.baseline``), judged and reported with it, not as a
    run of its own. Each run is read once."""
    loaded: dict[str, History] = {}
    histories = [loaded.get(rid) or _load(path, rid, loaded) for rid in run_ids(path)]
    named = {h.baseline.info.run_id for h in histories if h.baseline is not None}
    # A baseline no run names (its run was interrupted before it began) is shown on its own.
    return [
        h for h in histories if not (h.info.run_id in named and "baseline_of" in h.info.settings)
    ]


def _load_events(
    db: sqlite3.Connection, run: int, version: int, repeated: dict[str, str]
) -> Events:
    """The run's events in seq order, as columns (no Event made: ``_events``)."""
    shared: dict[str, Convert] = {"key": repeated, "type": repeated}
    held: dict[str, list[Any]] = {name: [] for name in EVENT_FIELDS if name != "occurred_at"}
    at = array("d")
    for batch in _batches(db, "events", run, version, shared):
        for name, values in zip(EVENT_COLUMNS, batch, strict=True):
            if name == "occurred_at":
                at.extend(values)
            else:
                held[name] += values
    seqs = held["seq"]
    columns: dict[str, Any] = {**held, "occurred_at": at}
    if any(map(gt, seqs, islice(seqs, 1, None))):  # in order, unless another program wrote it
        order = sorted(range(len(seqs)), key=seqs.__getitem__)
        columns = {
            name: array("d", [values[i] for i in order])
            if isinstance(values, array)
            else [values[i] for i in order]
            for name, values in columns.items()
        }
    return Events(columns)


def _load_deliveries(
    db: sqlite3.Connection, run: int, version: int, events: Events, repeated: dict[str, str]
) -> Deliveries:
    columns: list[Column] = []
    # An error and an answer's body repeat from row to row (the same 500 page): one object each.
    shared: dict[str, Convert] = {
        "event_id": Shared(events.column("id"), events.places),
        "outcome": _OUTCOMES.__getitem__,
        "error": repeated,
        "answer_body": repeated,
    }
    for batch in _batches(db, "deliveries", run, version, shared):
        if not columns:  # each column as the chunks hold it: a list, or an array of reals
            columns = batch
            continue
        for held, values in zip(columns, batch, strict=True):
            held += values  # type: ignore[operator]
    return Deliveries(columns or [[] for _ in DELIVERY_FIELDS])


def _load_effects(
    db: sqlite3.Connection,
    run: int,
    version: int,
    repeated: dict[str, str],
    events: Events,
) -> Effects:
    """The run's effects as columns, each row's event coded against ``events``; no Effect
    made (``_effects``)."""
    import numpy as np

    shared: dict[str, Convert] = {n: repeated for n in ("downstream", "method", "path", "key")}
    # Each row's event as its number: the run's events' places, then the other ids named.
    named = events.column("id")
    codes = Codes(list(named), events.places)  # None, and ids of no event, numbered after
    held: dict[str, list[Any]] = {name: [] for name in EFFECT_FIELDS if name != "at"}
    at = array("d")
    for batch in _batches(db, "effects", run, version, {**shared, "event_id": codes}):
        for name, values in zip(EFFECT_FIELDS, batch, strict=True):
            if name == "at":
                at.extend(values)
            elif name == "headers":  # as text until read; the empty ones one shared mapping
                held[name] += (
                    [NO_HEADERS if t == "{}" else t for t in values] if "{}" in values else values
                )
            elif name == "committed":
                held[name] += (
                    [True] * len(values)
                    if values.count(1) == len(values)
                    else [c == 1 for c in values]
                )
            elif name == "event_id":
                held[name].append(values)
            else:
                held[name] += values
    numbers = np.concatenate(held.pop("event_id")) if len(at) else np.zeros(0, np.int64)
    # Past the events' places, as first met: None, made SEVERAL, and the ids of no event,
    # numbered again after the events' without it.
    n = len(named)
    others: list[str] = []
    renumbered: list[int] = []
    for value in codes.names[len(named) :]:
        renumbered.append(SEVERAL if value is None else n + len(others))
        if value is not None:
            others.append(value)
    if renumbered:
        past = numbers >= n
        numbers[past] = np.array(renumbered, dtype=np.int64)[numbers[past] - n]
    return Effects({**held, "at": at, "event_id": numbers}, events, [*named, *others])


class _open:
    """Open a journal read-only with an error that says what is wrong with the path.

    Never written to, not even its ``-wal``/``-shm`` files: a journal in a folder the harness
    cannot write to (a read-only mount, an attachment) is read as immutable when a plain
    read-only open cannot set up its write-ahead log — what its ``.db`` holds, which the
    Journal checkpoints about every second. ``version``: the journal's format, once open.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.version = SCHEMA_VERSION

    def __enter__(self) -> sqlite3.Connection:
        if self.path.is_dir():
            raise InputError(
                "is a directory, not a journal",
                where=str(self.path),
                hint="pass the .db file in it a `harness run` wrote (see --journal)",
            )
        if not self.path.is_file():
            raise InputError(
                "no such journal file",
                where=str(self.path),
                hint="pass the .db file a `harness run` wrote (see --journal)",
            )
        try:
            db = self._connect("mode=ro")
        except sqlite3.OperationalError:
            db = self._connect("immutable=1")
        self._db = db
        return db

    def _connect(self, mode: str) -> sqlite3.Connection:
        db = None
        try:
            # As a URI, so that '#', '?' or '%' in a file name are quoted, not read as syntax.
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?{mode}", uri=True)
            db.execute("SELECT 1 FROM runs LIMIT 1")
            self.version = journal_format(db, self.path, writing=False)
            check_tables(db, self.path, self.version)
        except (sqlite3.DatabaseError, InputError) as exc:
            if db is not None:
                db.close()
            if isinstance(exc, InputError):
                raise
            if mode == "mode=ro" and "unable to open" in str(exc):
                raise  # no -shm can be made beside it: __enter__ opens it immutable
            raise InputError(
                f"not a harness journal ({exc})",
                where=str(self.path),
                hint="pass the .db file a `harness run` wrote",
            ) from None
        return db

    def __exit__(self, *_: object) -> None:
        self._db.close()
