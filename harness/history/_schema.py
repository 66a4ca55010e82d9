"""The journal's SQLite format: its tables, what each column holds, its version, and the check
that a file has a format this harness reads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..core._errors import InputError
from ..core._model import Outcome

# Kept in the file as PRAGMA user_version. 5: deliveries keep the start of a non-2xx answer's
# body (answer_body). 6: the same tables and columns, each column with a CHECK of what it holds,
# so that SQLite refuses a row of another type when it is written and reading needs no scan.
SCHEMA_VERSION = 6
# Format 5 is still read: its rows are checked one by one when a run is loaded (``_integrity``).
READABLE = (5, SCHEMA_VERSION)

_NUMBER = "typeof({0}) IN ('integer', 'real')"
_INTEGER = "typeof({0}) = 'integer'"
_TEXT = "typeof({0}) = 'text'"
_JSON = "typeof({0}) = 'text' AND json_valid({0})"
_OBJECT = "typeof({0}) = 'text' AND json_valid({0}) AND json_type({0}) = 'object'"
_LIST = "typeof({0}) = 'text' AND json_valid({0}) AND json_type({0}) = 'array'"
# Not ``IN (...)``: a list of four is made into a table for each row an INSERT checks (5 us).
_OUTCOME = "(" + " OR ".join(f"{{0}} = '{o.value}'" for o in Outcome) + ")"


def _or_null(check: str) -> str:
    return "({0} IS NULL OR " + check + ")"


# What each column of a run's rows holds: its declaration, its check (SQL, ``{0}`` the
# column) and the check in words, for the message naming a row that fails it.
COLUMNS: dict[str, dict[str, tuple[str, str, str]]] = {
    "runs": {
        "run_id": ("TEXT NOT NULL UNIQUE", _TEXT, "text"),
        "info": ("TEXT NOT NULL", _OBJECT, "a JSON object"),
        "status": ("TEXT NOT NULL", _TEXT, "text"),
        "ended_at": ("REAL", _or_null(_NUMBER), "a number or null"),
    },
    "events": {
        "seq": ("INTEGER", _INTEGER, "an integer"),
        "id": ("TEXT", _TEXT, "text"),
        "key": ("TEXT", _TEXT, "text"),
        "type": ("TEXT", _TEXT, "text"),
        "occurred_at": ("REAL", _NUMBER, "a number"),
        "payload": ("TEXT", _JSON, "JSON"),
        "headers": ("TEXT", _OBJECT, "a JSON object"),
    },
    "deliveries": {
        "id": ("TEXT", _TEXT, "text"),
        "event_id": ("TEXT", _TEXT, "text"),
        "attempt": ("INTEGER", _INTEGER, "an integer"),
        "scheduled_at": ("REAL", _NUMBER, "a number"),
        "sent_at": ("REAL", _NUMBER, "a number"),
        "answered_at": ("REAL", _or_null(_NUMBER), "a number or null"),
        "status": ("INTEGER", _or_null(_INTEGER), "an integer or null"),
        "outcome": ("TEXT", _OUTCOME, "one of " + ", ".join(o.value for o in Outcome)),
        "error": ("TEXT", _or_null(_TEXT), "text or null"),
        "answer_body": ("TEXT", _or_null(_TEXT), "text or null"),
    },
    "effects": {
        "id": ("TEXT", _TEXT, "text"),
        "downstream": ("TEXT", _TEXT, "text"),
        "at": ("REAL", _NUMBER, "a number"),
        "method": ("TEXT", _TEXT, "text"),
        "path": ("TEXT", _TEXT, "text"),
        "headers": ("TEXT", _OBJECT, "a JSON object"),
        "body": ("TEXT", _or_null(_TEXT), "text or null"),
        "status": ("INTEGER", _or_null(_INTEGER), "an integer or null"),
        "event_id": ("TEXT", _or_null(_TEXT), "text or null"),
        "event_ids": ("TEXT", _or_null(_LIST), "a JSON list or null"),
        "key": ("TEXT", _or_null(_TEXT), "text or null"),
        "committed": ("INTEGER", _or_null(_INTEGER), "an integer or null"),
    },
    "faults": {
        "downstream": ("TEXT", _TEXT, "text"),
        "mode": ("TEXT", _TEXT, "text"),
        "start": ("REAL", _NUMBER, "a number"),
        "end": ("REAL", _NUMBER, "a number"),
        "params": ("TEXT", _OBJECT, "a JSON object"),
    },
    "marks": {
        "at": ("REAL", _NUMBER, "a number"),
        "name": ("TEXT", _TEXT, "text"),
        "detail": ("TEXT", _or_null(_TEXT), "text or null"),
    },
    "states": {
        "source": ("TEXT", _TEXT, "text"),
        "collection": ("TEXT", _TEXT, "text"),
        "id": ("TEXT", _TEXT, "text"),
        "body": ("TEXT", _JSON, "JSON"),
        "event_ids": ("TEXT", _LIST, "a JSON list"),
        "key": ("TEXT", _or_null(_TEXT), "text or null"),
    },
}


def quoted(column: str) -> str:
    return f'"{column}"'


def _table(name: str) -> str:
    """``CREATE TABLE``: the row's run (in ``runs``, its number), then each column with its
    check."""
    columns = [
        f"{quoted(column)} {kind} CHECK ({check.format(quoted(column))})"
        for column, (kind, check, _) in COLUMNS[name].items()
    ]
    run = "run INTEGER PRIMARY KEY" if name == "runs" else "run INTEGER"
    return f"CREATE TABLE IF NOT EXISTS {name} (\n    " + ",\n    ".join([run, *columns]) + "\n);"


# One transaction: a file gets the whole format or none of it, and a new journal's write-ahead
# log holds each page of it once (not once per statement: ~100 kB of a small run's log).
SCHEMA = "\n".join(
    [
        "BEGIN;",
        *(_table(name) for name in COLUMNS),
        "CREATE INDEX IF NOT EXISTS deliveries_run ON deliveries(run);",
        "CREATE INDEX IF NOT EXISTS effects_run ON effects(run);",
        "CREATE INDEX IF NOT EXISTS events_run ON events(run);",
        f"PRAGMA user_version = {SCHEMA_VERSION};",
        "COMMIT;",
    ]
)


def journal_format(db: sqlite3.Connection, path: Path, *, writing: bool) -> int:
    """The format of the journal ``db`` (SCHEMA_VERSION for a file without runs yet, which
    this harness makes one of its format); InputError on a format it cannot read — or, when
    ``writing``, on any other than the one it writes."""
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
        return SCHEMA_VERSION
    if version == SCHEMA_VERSION or (version in READABLE and not writing):
        return version
    formats = f"reads formats {', '.join(map(str, READABLE))} and writes format {SCHEMA_VERSION}"
    hint = (
        "write to a new journal file (--journal)"
        if writing
        else "judge it with the harness version that wrote it, or run the scenario again"
    )
    raise InputError(
        f"journal format {version!r} (PRAGMA user_version); this harness {formats}",
        where=str(path),
        hint=hint,
    )
