"""The History of a run: an append-only SQLite journal (WAL, batched writes).

One journal file holds one or more runs (one per scenario of a ``harness run``).
Everything after the drive — judging, reports, ``harness check`` — reads only this.
A killed run loses at most the last unflushed batch; what was flushed can be judged.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import InputError
from ._model import Delivery, Effect, Event, Fault, Model, Outcome

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, info TEXT NOT NULL, status TEXT NOT NULL, ended_at REAL
);
CREATE TABLE IF NOT EXISTS events (
    run_id TEXT, seq INTEGER, id TEXT, key TEXT, type TEXT, occurred_at REAL,
    payload TEXT, headers TEXT
);
CREATE TABLE IF NOT EXISTS deliveries (
    run_id TEXT, id TEXT, event_id TEXT, attempt INTEGER, scheduled_at REAL, sent_at REAL,
    answered_at REAL, status INTEGER, outcome TEXT, error TEXT
);
CREATE TABLE IF NOT EXISTS effects (
    run_id TEXT, id TEXT, downstream TEXT, at REAL, method TEXT, path TEXT, headers TEXT,
    body TEXT, status INTEGER, event_ids TEXT, key TEXT
);
CREATE TABLE IF NOT EXISTS faults (
    run_id TEXT, downstream TEXT, mode TEXT, start REAL, "end" REAL, params TEXT
);
CREATE TABLE IF NOT EXISTS marks (run_id TEXT, at REAL, name TEXT, detail TEXT);
CREATE INDEX IF NOT EXISTS deliveries_run ON deliveries(run_id);
CREATE INDEX IF NOT EXISTS effects_run ON effects(run_id);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id);
"""


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


@dataclass(slots=True)
class History:
    """The record of one run, in memory. Invariants read it and nothing else."""

    info: RunInfo
    events: list[Event]
    deliveries: list[Delivery]
    effects: list[Effect]
    faults: list[Fault] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    status: str = "complete"
    ended_at: float | None = None


class Journal:
    """Appends a run's records to SQLite in batches. Not thread-safe; one writer per file."""

    def __init__(self, path: str | Path, *, batch: int = 2000, interval: float = 0.2):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._batch = batch
        self._interval = interval
        self._last_flush = time.monotonic()
        self._deliveries: list[tuple[Any, ...]] = []
        self._effects: list[tuple[Any, ...]] = []
        self._marks: list[tuple[Any, ...]] = []
        self.run_id: str | None = None

    def begin(self, info: RunInfo, events: Iterable[Event], faults: Iterable[Fault] = ()) -> None:
        """Start a run: its description, its source events and its declared faults."""
        self.flush()
        self.run_id = info.run_id
        rid = info.run_id
        with self._tx():
            self._db.execute(
                "INSERT INTO runs(run_id, info, status) VALUES (?, ?, 'running')",
                (rid, info.to_json()),
            )
            self._db.executemany(
                "INSERT INTO events VALUES (?,?,?,?,?,?,?,?)",
                [
                    (
                        rid,
                        e.seq,
                        e.id,
                        e.key,
                        e.type,
                        e.occurred_at,
                        json.dumps(e.payload),
                        json.dumps(dict(e.headers)),
                    )
                    for e in events
                ],
            )
            self._db.executemany(
                "INSERT INTO faults VALUES (?,?,?,?,?,?)",
                [
                    (rid, f.downstream, f.mode, f.start, f.end, json.dumps(dict(f.params)))
                    for f in faults
                ],
            )

    def delivery(self, d: Delivery) -> None:
        self._deliveries.append(
            (
                self.run_id,
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
        self._effects.append(
            (
                self.run_id,
                e.id,
                e.downstream,
                e.at,
                e.method,
                e.path,
                json.dumps(dict(e.headers)),
                e.body,
                e.status,
                json.dumps(list(e.event_ids)),
                e.key,
            )
        )
        self._maybe_flush()

    def mark(self, at: float, name: str, detail: str = "") -> None:
        self._marks.append((self.run_id, at, name, detail))
        self._maybe_flush()

    def end(self, status: str, ended_at: float) -> None:
        """Close the run with its final status ("complete" or "aborted")."""
        self.flush()
        self._db.execute(
            "UPDATE runs SET status = ?, ended_at = ? WHERE run_id = ?",
            (status, ended_at, self.run_id),
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
                    "INSERT INTO effects VALUES (?,?,?,?,?,?,?,?,?,?,?)", self._effects
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
        return [r[0] for r in db.execute("SELECT run_id FROM runs ORDER BY rowid")]


def load(path: str | Path, run_id: str) -> History:
    """Read one run of a journal back into memory."""
    with _open(path) as db:
        row = db.execute("SELECT info, status, ended_at FROM runs WHERE run_id = ?", (run_id,))
        found = row.fetchone()
        if found is None:
            raise InputError(f"no run {run_id!r} in this journal", where=str(path))
        info = RunInfo.from_json(found[0])
        events = [
            Event(
                id=r[1],
                key=r[2],
                seq=r[0],
                type=r[3],
                occurred_at=r[4],
                payload=json.loads(r[5]),
                headers=json.loads(r[6]),
            )
            for r in db.execute(
                "SELECT seq, id, key, type, occurred_at, payload, headers FROM events "
                "WHERE run_id = ? ORDER BY seq",
                (run_id,),
            )
        ]
        deliveries = [
            Delivery(r[0], r[1], r[2], r[3], r[4], r[5], r[6], Outcome(r[7]), r[8])
            for r in db.execute(
                "SELECT id, event_id, attempt, scheduled_at, sent_at, answered_at, status, "
                "outcome, error FROM deliveries WHERE run_id = ?",
                (run_id,),
            )
        ]
        effects = [
            Effect(
                id=r[0],
                downstream=r[1],
                at=r[2],
                method=r[3],
                path=r[4],
                headers=json.loads(r[5]),
                body=r[6],
                status=r[7],
                event_ids=tuple(json.loads(r[8])),
                key=r[9],
            )
            for r in db.execute(
                "SELECT id, downstream, at, method, path, headers, body, status, event_ids, key "
                "FROM effects WHERE run_id = ? ORDER BY at",
                (run_id,),
            )
        ]
        faults = [
            Fault(r[0], r[1], r[2], r[3], json.loads(r[4]))
            for r in db.execute(
                'SELECT downstream, mode, start, "end", params FROM faults WHERE run_id = ?',
                (run_id,),
            )
        ]
        marks = [
            Mark(r[0], r[1], r[2])
            for r in db.execute(
                "SELECT at, name, detail FROM marks WHERE run_id = ? ORDER BY at", (run_id,)
            )
        ]
    return History(info, events, deliveries, effects, faults, marks, found[1], found[2])


def load_all(path: str | Path) -> list[History]:
    return [load(path, rid) for rid in run_ids(path)]


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
        try:
            self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            self._db.execute("SELECT 1 FROM runs LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise InputError(
                f"not a harness journal ({exc})",
                where=str(self.path),
                hint="pass the .db file a `harness run` wrote",
            ) from None
        return self._db

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
