"""The journal's SQLite format: its tables, its version, and the check that a file has it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..core._errors import InputError

# Kept in the file as PRAGMA user_version. 5: deliveries keep the start of a non-2xx answer's
# body (answer_body).
SCHEMA_VERSION = 5

SCHEMA = f"""
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
    answered_at REAL, status INTEGER, outcome TEXT, error TEXT, answer_body TEXT
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


def refuse_other_format(db: sqlite3.Connection, path: Path, *, writing: bool) -> None:
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
