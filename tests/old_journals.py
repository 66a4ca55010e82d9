"""Journals of a format this harness still reads but no longer writes: format 5, whose tables
have no checks of what their columns hold (each run's rows are checked when it is loaded), and
format 6, whose tables check them, one row per event, delivery and effect (format 7 keeps these
as chunks)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from harness.history._chunks import rows
from harness.history._schema import CHUNKED, SCHEMA_VERSION, schema

# Format 5's tables, as harness versions of that format made them.
FORMAT_5 = """
CREATE TABLE runs (
    run INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, info TEXT NOT NULL,
    status TEXT NOT NULL, ended_at REAL
);
CREATE TABLE events (
    run INTEGER, seq INTEGER, id TEXT, key TEXT, type TEXT, occurred_at REAL,
    payload TEXT, headers TEXT
);
CREATE TABLE deliveries (
    run INTEGER, id TEXT, event_id TEXT, attempt INTEGER, scheduled_at REAL, sent_at REAL,
    answered_at REAL, status INTEGER, outcome TEXT, error TEXT, answer_body TEXT
);
CREATE TABLE effects (
    run INTEGER, id TEXT, downstream TEXT, at REAL, method TEXT, path TEXT, headers TEXT,
    body TEXT, status INTEGER, event_id TEXT, event_ids TEXT, key TEXT, committed INTEGER
);
CREATE TABLE faults (
    run INTEGER, downstream TEXT, mode TEXT, start REAL, "end" REAL, params TEXT
);
CREATE TABLE marks (run INTEGER, at REAL, name TEXT, detail TEXT);
CREATE TABLE states (
    run INTEGER, source TEXT, collection TEXT, id TEXT, body TEXT, event_ids TEXT, key TEXT
);
CREATE INDEX deliveries_run ON deliveries(run);
CREATE INDEX effects_run ON effects(run);
CREATE INDEX events_run ON events(run);
PRAGMA user_version = 5;
"""
_TABLES = ("runs", "events", "deliveries", "effects", "faults", "marks", "states")


def as_format_5(journal: Path, dest: Path) -> Path:
    """A copy of ``journal`` (of this harness's format) in format 5, at ``dest``."""
    return _as_rows(journal, dest, FORMAT_5)


def as_format_6(journal: Path, dest: Path) -> Path:
    """A copy of ``journal`` (of this harness's format) in format 6, at ``dest``."""
    return _as_rows(journal, dest, schema(6))


def _as_rows(journal: Path, dest: Path, tables: str) -> Path:
    db, src = sqlite3.connect(dest), sqlite3.connect(journal)
    try:
        db.executescript(tables)
        db.execute("ATTACH DATABASE ? AS new", (str(journal),))
        with db:
            for table in _TABLES:
                if table in CHUNKED:  # a row per chunk's row
                    marks = ",".join("?" * (len(CHUNKED[table]) + 1))
                    db.executemany(
                        f"INSERT INTO main.{table} VALUES ({marks})",
                        rows(src, table, SCHEMA_VERSION),
                    )
                else:
                    db.execute(f"INSERT INTO main.{table} SELECT * FROM new.{table}")
        db.execute("DETACH DATABASE new")
    finally:
        db.close()
        src.close()
    return dest
