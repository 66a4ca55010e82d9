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
# 7: a run's events, deliveries and effects are kept as chunks (``CHUNKED``): one row per batch
# the journal wrote at once, each of its columns one value, read back without a Python object
# per value (a million deliveries: 7 s of sqlite3's rows, a tenth of that as chunks).
SCHEMA_VERSION = 7
# Formats 5 and 6 are still read (their rows: ``_rows``); format 5's are checked one by one when
# a run is loaded (``_integrity``).
READABLE = (5, 6, SCHEMA_VERSION)
ROWS_FORMATS = (5, 6)

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


# What each column of a run's rows holds in formats 5 and 6 (the order of a row everywhere in
# ``history``, as written and as read): its declaration, its check (SQL, ``{0}`` the column) and
# the check in words, for the message naming a row that fails it.
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


# Format 7: how a chunk holds each column of its rows (``_chunks``). "real" and "int": packed
# 8-byte little-endian numbers (a BLOB; null as NaN, or as INT_NULL); "text": its distinct
# strings (and null, "text?") as a JSON array, in the order first met, with "<column>_codes",
# each row's place in that array (packed little-endian uint32) — a record key, a type, a path or
# an error page repeats from row to row, and is read once a chunk; "json": a JSON array of the
# JSON values themselves, which SQLite checks (and so each value, as format 6 did each row's),
# with "<column>_ends", where each value ends in that text (packed int64): each is cut out again
# without being parsed.
CHUNKED: dict[str, dict[str, str]] = {
    "events": {
        "seq": "int",
        "id": "text",
        "key": "text",
        "type": "text",
        "occurred_at": "real",
        "payload": "json",
        "headers": "json",
    },
    "deliveries": {
        "id": "text",
        "event_id": "text",
        "attempt": "int",
        "scheduled_at": "real",
        "sent_at": "real",
        "answered_at": "real?",
        "status": "int?",
        "outcome": "text",
        "error": "text?",
        "answer_body": "text?",
    },
    "effects": {
        "id": "text",
        "downstream": "text",
        "at": "real",
        "method": "text",
        "path": "text",
        "headers": "json",
        "body": "text?",
        "status": "int?",
        "event_id": "text?",
        "event_ids": "text?",
        "key": "text?",
        "committed": "int?",
    },
}
INT_NULL = -(2**63)  # a null in a chunk's packed integers
_ENDS, _CODES = "_ends", "_codes"
_PACKED = "typeof({0}) = 'blob' AND length({0}) = {1} * \"rows\""
_ARRAY = "typeof({0}) = 'text' AND json_valid({0}) AND json_array_length({0}) {1}"
_EACH, _DISTINCT = '= "rows"', 'BETWEEN 1 AND "rows"'


def chunk_columns(table: str) -> list[str]:
    """The columns of a chunk of ``table``, after its run and its number of rows."""
    return [
        stored
        for name, kind in CHUNKED[table].items()
        for stored in (
            (name, name + _ENDS)
            if kind == "json"
            else (name, name + _CODES)
            if kind.startswith("text")
            else (name,)
        )
    ]


def _chunk_table(name: str) -> str:
    """``CREATE TABLE`` of format 7's chunks of ``name``: the run, the number of rows, then
    each column with the check of its kind."""
    kinds = CHUNKED[name]
    columns = []
    for c in chunk_columns(name):
        if c.endswith(_CODES):
            declared = f"BLOB CHECK ({_PACKED.format(quoted(c), 4)})"
        elif c.endswith(_ENDS) or kinds[c].startswith(("real", "int")):
            declared = f"BLOB CHECK ({_PACKED.format(quoted(c), 8)})"
        else:
            length = _EACH if kinds[c] == "json" else _DISTINCT
            declared = f"TEXT CHECK ({_ARRAY.format(quoted(c), length)})"
        columns.append(f"{quoted(c)} {declared}")
    count = '"rows" INTEGER CHECK (typeof("rows") = \'integer\' AND "rows" > 0)'
    return _create(name, ["run INTEGER", count, *columns])


def _table(name: str) -> str:
    """``CREATE TABLE`` of rows: the row's run (in ``runs``, its number), then each column
    with its check."""
    columns = [
        f"{quoted(column)} {kind} CHECK ({check.format(quoted(column))})"
        for column, (kind, check, _) in COLUMNS[name].items()
    ]
    run = "run INTEGER PRIMARY KEY" if name == "runs" else "run INTEGER"
    return _create(name, [run, *columns])


def _create(name: str, columns: list[str]) -> str:
    return f"CREATE TABLE IF NOT EXISTS {name} (\n    " + ",\n    ".join(columns) + "\n);"


def schema(version: int) -> str:
    """The tables of format ``version`` (6 or 7), made in one transaction: a file gets the
    whole format or none of it, and a new journal's write-ahead log holds each page of it once
    (not once per statement: ~100 kB of a small run's log)."""
    return "\n".join(
        [
            "BEGIN;",
            *(
                _chunk_table(name) if version > 6 and name in CHUNKED else _table(name)
                for name in COLUMNS
            ),
            "CREATE INDEX IF NOT EXISTS deliveries_run ON deliveries(run);",
            "CREATE INDEX IF NOT EXISTS effects_run ON effects(run);",
            "CREATE INDEX IF NOT EXISTS events_run ON events(run);",
            f"PRAGMA user_version = {version};",
            "COMMIT;",
        ]
    )


SCHEMA = schema(SCHEMA_VERSION)


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
