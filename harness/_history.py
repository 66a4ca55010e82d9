"""The History of a run: an append-only SQLite journal (WAL, batched writes).

One journal file holds one or more runs (one per scenario of a ``harness run``).
Everything after the drive — judging, reports, ``harness check`` — reads only this.
A killed run loses at most the last unflushed batch; what was flushed can be judged.

Rows name their run by a small integer (``runs.run``), not by its run id. An effect
attributed to one event (the common case) keeps that id in ``event_id``; only several ids
go to ``event_ids`` as a JSON list. Loading a run of a million deliveries takes seconds:
event ids and repeated values are shared, not copied per row; headers stay JSON text until read
(``LazyHeaders``); the payloads of a chunk of events are decoded in one call.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import _gc
from ._errors import InputError
from ._model import Delivery, Effect, Event, Fault, Model, Outcome, StateRecord

SCHEMA_VERSION = 4  # kept in the file as PRAGMA user_version

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS runs (
    run INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, info TEXT NOT NULL,
    status TEXT NOT NULL, ended_at REAL
);
CREATE TABLE IF NOT EXISTS events (
    run INTEGER, seq INTEGER, id TEXT, key TEXT, type TEXT, occurred_at REAL,
    payload TEXT, headers TEXT
);
CREATE TABLE IF NOT EXISTS deliveries (
    run INTEGER, id TEXT, event_id TEXT, attempt INTEGER, scheduled_at REAL, sent_at REAL,
    answered_at REAL, status INTEGER, outcome TEXT, error TEXT
);
CREATE TABLE IF NOT EXISTS effects (
    run INTEGER, id TEXT, downstream TEXT, at REAL, method TEXT, path TEXT, headers TEXT,
    body TEXT, status INTEGER, event_id TEXT, event_ids TEXT, key TEXT, committed INTEGER
);
CREATE TABLE IF NOT EXISTS faults (
    run INTEGER, downstream TEXT, mode TEXT, start REAL, "end" REAL, params TEXT
);
CREATE TABLE IF NOT EXISTS marks (run INTEGER, at REAL, name TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS states (
    run INTEGER, source TEXT, collection TEXT, id TEXT, body TEXT, event_ids TEXT, key TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_run ON deliveries(run);
CREATE INDEX IF NOT EXISTS effects_run ON effects(run);
CREATE INDEX IF NOT EXISTS events_run ON events(run);
PRAGMA user_version = {SCHEMA_VERSION};
"""

_OUTCOMES = {o.value: o for o in Outcome}  # 20x cheaper than Outcome(text) per row
_BY_AT = attrgetter("at")
_BY_SEQ = attrgetter("seq")
_CHUNK = 10_000  # event rows decoded at once: one json.loads per chunk, bounded memory


@dataclass(frozen=True, slots=True)
class InvariantSpec:
    """An invariant named in a scenario, with its parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What was run: enough to reproduce it and to re-judge it offline."""

    run_id: str
    scenario: str
    seed: int
    target: str
    target_name: str
    model: Model
    invariants: tuple[InvariantSpec, ...]
    started_at: str
    tracer_tag: str
    description: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "run_id": self.run_id,
                "scenario": self.scenario,
                "seed": self.seed,
                "target": self.target,
                "target_name": self.target_name,
                "model": self.model.value,
                "invariants": [{"name": i.name, "params": dict(i.params)} for i in self.invariants],
                "started_at": self.started_at,
                "tracer_tag": self.tracer_tag,
                "description": self.description,
                "settings": dict(self.settings),
                "schema_version": SCHEMA_VERSION,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RunInfo:
        d = json.loads(text)
        return cls(
            run_id=d["run_id"],
            scenario=d["scenario"],
            seed=d["seed"],
            target=d["target"],
            target_name=d["target_name"],
            model=Model(d["model"]),
            invariants=tuple(InvariantSpec(i["name"], i["params"]) for i in d["invariants"]),
            started_at=d["started_at"],
            tracer_tag=d["tracer_tag"],
            description=d.get("description", ""),
            settings=d.get("settings", {}),
        )


@dataclass(frozen=True, slots=True)
class Mark:
    at: float
    name: str
    detail: str = ""


class LazyHeaders(Mapping[str, str]):
    """Headers kept as the JSON object text the journal stores, decoded on first read.

    Judging reads an effect's headers rarely (the Idempotency-Key of repeated requests), so a
    loaded run holds a million short strings instead of a million small dicts. Read-only, and
    equal to any mapping with the same items, as the dict it stands for would be.
    """

    __slots__ = ("_decoded", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._decoded: dict[str, str] | None = None

    def _dict(self) -> dict[str, str]:
        if self._decoded is None:
            self._decoded = json.loads(self.text)
        return self._decoded

    def __getitem__(self, name: str) -> str:
        return self._dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __contains__(self, name: object) -> bool:
        return name in self._dict()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyHeaders) and other.text == self.text:
            return True
        return self._dict() == other if isinstance(other, Mapping) else NotImplemented

    def __repr__(self) -> str:
        return f"LazyHeaders({self._dict()!r})"


# Most events, and effects without headers, share this one empty mapping.
_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(slots=True)
class History:
    """The record of one run, in memory. Invariants read it and nothing else.

    ``states``: the downstreams' final state, taken at the end of the run (stateful doubles,
    an observer). ``baseline``: the clean run this one is compared with, when it names one.
    """

    info: RunInfo
    events: list[Event]
    deliveries: list[Delivery]
    effects: list[Effect]
    faults: list[Fault] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    status: str = "complete"
    ended_at: float | None = None
    states: list[StateRecord] = field(default_factory=list)
    baseline: History | None = None


class Journal:
    """Appends a run's records to SQLite in batches. Not thread-safe; one writer per file."""

    def __init__(self, path: str | Path, *, batch: int = 2000, interval: float = 0.2):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = _open_for_writing(self.path)
        self._batch = batch
        self._interval = interval
        self._last_flush = time.monotonic()
        self._deliveries: list[tuple[Any, ...]] = []
        self._effects: list[tuple[Any, ...]] = []
        self._marks: list[tuple[Any, ...]] = []
        self._run: int | None = None
        self.run_id: str | None = None

    def begin(self, info: RunInfo, events: Iterable[Event], faults: Iterable[Fault] = ()) -> None:
        """Start a run: its description, its source events and its declared faults."""
        self.flush()
        with self._tx():
            added = self._db.execute(
                "INSERT INTO runs(run_id, info, status) VALUES (?, ?, 'running')",
                (info.run_id, info.to_json()),
            )
            run = self._run = added.lastrowid
            self.run_id = info.run_id
            self._db.executemany(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)",
                (  # a generator: half a million rows are never all in memory at once
                    (
                        run,
                        e.seq,
                        e.id,
                        e.key,
                        e.type,
                        e.occurred_at,
                        json.dumps(e.payload),
                        json.dumps(dict(e.headers)),
                    )
                    for e in events
                ),
            )
            self._db.executemany(
                "INSERT INTO faults VALUES (?,?,?,?,?,?)",
                (
                    (run, f.downstream, f.mode, f.start, f.end, json.dumps(dict(f.params)))
                    for f in faults
                ),
            )

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
            )
        )
        self._maybe_flush()

    def effect(self, e: Effect) -> None:
        ids = e.event_ids
        self._effects.append(
            (
                self._run,
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
        )
        self._maybe_flush()

    def mark(self, at: float, name: str, detail: str = "") -> None:
        self._marks.append((self._run, at, name, detail))
        self._maybe_flush()

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

    def end(self, status: str, ended_at: float) -> None:
        """Close the run with its final status ("complete" or "aborted")."""
        self.flush()
        self._db.execute(
            "UPDATE runs SET status = ?, ended_at = ? WHERE run = ?",
            (status, ended_at, self._run),
        )

    def _maybe_flush(self) -> None:
        pending = len(self._deliveries) + len(self._effects) + len(self._marks)
        if pending >= self._batch or time.monotonic() - self._last_flush >= self._interval:
            self.flush()

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not (self._deliveries or self._effects or self._marks):
            return
        with self._tx():
            if self._deliveries:
                self._db.executemany(
                    "INSERT INTO deliveries VALUES (?,?,?,?,?,?,?,?,?,?)", self._deliveries
                )
            if self._effects:
                self._db.executemany(
                    "INSERT INTO effects VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", self._effects
                )
            if self._marks:
                self._db.executemany("INSERT INTO marks VALUES (?,?,?,?)", self._marks)
        self._deliveries.clear()
        self._effects.clear()
        self._marks.clear()

    def close(self) -> None:
        self.flush()
        self._db.close()

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


def _open_for_writing(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _refuse_other_format(db, path, writing=True)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
    except (sqlite3.DatabaseError, InputError) as exc:
        db.close()
        if isinstance(exc, InputError):
            raise
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
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def run_ids(path: str | Path) -> list[str]:
    """The runs a journal holds, in the order they started."""
    with _open(path) as db:
        return [r[0] for r in db.execute("SELECT run_id FROM runs ORDER BY run")]


def load(path: str | Path, run_id: str) -> History:
    """Read one run of a journal back into memory, with the baseline run it names."""
    return _load(path, run_id, {})


def _load(path: str | Path, run_id: str, loaded: dict[str, History]) -> History:
    """``load``, reusing the runs in ``loaded`` (by run id) as baselines."""
    with _open(path) as db, _gc.paused():
        found = db.execute(
            "SELECT run, info, status, ended_at FROM runs WHERE run_id = ?", (run_id,)
        ).fetchone()
        if found is None:
            raise InputError(f"no run {run_id!r} in this journal", where=str(path))
        run, info, status, ended_at = found
        # Deliveries and effects name their event by the Event's own id object, and a value
        # that repeats from row to row (record key, type, path, method...) is one object:
        # a million rows hold no copies, and lookups by event id hit on identity.
        ids: dict[str, str] = {}
        repeated: dict[str, str] = {}
        events = _load_events(db, run, ids, repeated)
        deliveries = _load_deliveries(db, run, ids, repeated)
        effects = _load_effects(db, run, ids, repeated)
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
    history = History(
        run_info, events, deliveries, effects, faults, marks, status, ended_at, states
    )
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
    db: sqlite3.Connection, run: int, ids: dict[str, str], repeated: dict[str, str]
) -> list[Event]:
    share_id, share = ids.setdefault, repeated.setdefault
    cursor = db.execute(
        "SELECT id, key, seq, type, occurred_at, payload, headers FROM events WHERE run = ?",
        (run,),
    )
    events: list[Event] = []
    while rows := cursor.fetchmany(_CHUNK):
        # One decode for the chunk: a loads() call per payload costs several times more.
        payloads = json.loads("[" + ",".join([r[5] for r in rows]) + "]")
        events += [
            Event(share_id(i, i), share(k, k), seq, share(t, t), at, payload, _headers(h))
            for (i, k, seq, t, at, _, h), payload in zip(rows, payloads, strict=True)
        ]
    events.sort(key=_BY_SEQ)  # stored in order already: a check more than a sort
    return events


def _load_deliveries(
    db: sqlite3.Connection, run: int, ids: dict[str, str], repeated: dict[str, str]
) -> list[Delivery]:
    share_id, share, outcomes = ids.setdefault, repeated.setdefault, _OUTCOMES
    return [
        Delivery(i, share_id(e, e), n, sch, sent, ans, st, outcomes[o], err and share(err, err))
        for i, e, n, sch, sent, ans, st, o, err in db.execute(
            "SELECT id, event_id, attempt, scheduled_at, sent_at, answered_at, status, "
            "outcome, error FROM deliveries WHERE run = ?",
            (run,),
        )
    ]


def _load_effects(
    db: sqlite3.Connection, run: int, ids: dict[str, str], repeated: dict[str, str]
) -> list[Effect]:
    share_id, share = ids.setdefault, repeated.setdefault
    effects = [
        Effect(
            i,
            share(ds, ds),
            at,
            share(m, m),
            share(path, path),
            _headers(h),
            body,
            st,
            (share_id(one, one),) if one is not None else _event_ids(many, ids),
            key and share(key, key),
            committed == 1,
        )
        for i, ds, at, m, path, h, body, st, one, many, key, committed in db.execute(
            "SELECT id, downstream, at, method, path, headers, body, status, event_id, "
            "event_ids, key, committed FROM effects WHERE run = ?",
            (run,),
        )
    ]
    # Sorted here, not by SQLite: rows arrive nearly in time order, which Python's sort
    # finishes in one pass, and ties keep the order they were recorded in.
    effects.sort(key=_BY_AT)
    return effects


def _headers(text: str) -> Mapping[str, str]:
    return _NO_HEADERS if text == "{}" else LazyHeaders(text)


def _event_ids(text: str | None, ids: dict[str, str]) -> tuple[str, ...]:
    """An effect's event ids when it names none or several (``event_id`` holds a single one)."""
    return () if text is None else tuple(ids.setdefault(i, i) for i in json.loads(text))


def _refuse_other_format(db: sqlite3.Connection, path: Path, *, writing: bool) -> None:
    """A journal written by another version of the harness has other tables: say so."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    has_runs = db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone()
    if has_runs and version != SCHEMA_VERSION:
        hint = (
            "write to a new journal file (--journal)"
            if writing
            else "judge it with the harness version that wrote it, or run the scenario again"
        )
        raise InputError(
            f"journal format {version!r} (PRAGMA user_version); this harness reads and writes "
            f"format {SCHEMA_VERSION}",
            where=str(path),
            hint=hint,
        )


class _open:
    """Open a journal read-only with an error that says what is wrong with the path."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __enter__(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise InputError(
                "no such journal file",
                where=str(self.path),
                hint="pass the .db file a `harness run` wrote (see --journal)",
            )
        db = None
        try:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            db.execute("SELECT 1 FROM runs LIMIT 1")
            _refuse_other_format(db, self.path, writing=False)
        except (sqlite3.DatabaseError, InputError) as exc:
            if db is not None:
                db.close()
            if isinstance(exc, InputError):
                raise
            raise InputError(
                f"not a harness journal ({exc})",
                where=str(self.path),
                hint="pass the .db file a `harness run` wrote",
            ) from None
        self._db = db
        return db

    def __exit__(self, *_: object) -> None:
        self._db.close()


__all__ = [
    "History",
    "InvariantSpec",
    "Journal",
    "Mark",
    "RunInfo",
    "load",
    "load_all",
    "run_ids",
]
