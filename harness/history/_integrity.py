"""A journal checked against its format before its rows are read: the tables and columns the
format has, and for each run, rows whose values have the format's types (a number where a time
is, JSON where a payload is). A journal another program changed, or whose bytes were damaged,
is then one clear InputError naming the table, row and column, never a crash while judging.

Checked in SQL, one scan per table: 0.36 s for 200,000 events, deliveries and effects each,
about a fifth of what loading them takes.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

from ..core._errors import InputError
from ..core._model import Outcome
from ._schema import SCHEMA

_NUMBER = "typeof({0}) IN ('integer', 'real')"
_INTEGER = "typeof({0}) = 'integer'"
_TEXT = "typeof({0}) = 'text'"
_JSON = "typeof({0}) = 'text' AND json_valid({0})"
_OBJECT = "typeof({0}) = 'text' AND json_valid({0}) AND json_type({0}) = 'object'"
_LIST = "typeof({0}) = 'text' AND json_valid({0}) AND json_type({0}) = 'array'"
_OUTCOME = "{0} IN (" + ", ".join(f"'{o.value}'" for o in Outcome) + ")"


def _or_null(check: str) -> str:
    return "({0} IS NULL OR " + check + ")"


# What each column of a run's rows must hold; the message names the check's wording.
_ROWS: dict[str, dict[str, tuple[str, str]]] = {
    "runs": {
        "run_id": (_TEXT, "text"),
        "info": (_OBJECT, "a JSON object"),
        "status": (_TEXT, "text"),
        "ended_at": (_or_null(_NUMBER), "a number or null"),
    },
    "events": {
        "seq": (_INTEGER, "an integer"),
        "id": (_TEXT, "text"),
        "key": (_TEXT, "text"),
        "type": (_TEXT, "text"),
        "occurred_at": (_NUMBER, "a number"),
        "payload": (_JSON, "JSON"),
        "headers": (_OBJECT, "a JSON object"),
    },
    "deliveries": {
        "id": (_TEXT, "text"),
        "event_id": (_TEXT, "text"),
        "attempt": (_INTEGER, "an integer"),
        "scheduled_at": (_NUMBER, "a number"),
        "sent_at": (_NUMBER, "a number"),
        "answered_at": (_or_null(_NUMBER), "a number or null"),
        "status": (_or_null(_INTEGER), "an integer or null"),
        "outcome": (_OUTCOME, "one of " + ", ".join(o.value for o in Outcome)),
        "error": (_or_null(_TEXT), "text or null"),
        "answer_body": (_or_null(_TEXT), "text or null"),
    },
    "effects": {
        "id": (_TEXT, "text"),
        "downstream": (_TEXT, "text"),
        "at": (_NUMBER, "a number"),
        "method": (_TEXT, "text"),
        "path": (_TEXT, "text"),
        "headers": (_OBJECT, "a JSON object"),
        "body": (_or_null(_TEXT), "text or null"),
        "status": (_or_null(_INTEGER), "an integer or null"),
        "event_id": (_or_null(_TEXT), "text or null"),
        "event_ids": (_or_null(_LIST), "a JSON list or null"),
        "key": (_or_null(_TEXT), "text or null"),
        "committed": (_or_null(_INTEGER), "an integer or null"),
    },
    "faults": {
        "downstream": (_TEXT, "text"),
        "mode": (_TEXT, "text"),
        "start": (_NUMBER, "a number"),
        "end": (_NUMBER, "a number"),
        "params": (_OBJECT, "a JSON object"),
    },
    "marks": {
        "at": (_NUMBER, "a number"),
        "name": (_TEXT, "text"),
        "detail": (_or_null(_TEXT), "text or null"),
    },
    "states": {
        "source": (_TEXT, "text"),
        "collection": (_TEXT, "text"),
        "id": (_TEXT, "text"),
        "body": (_JSON, "JSON"),
        "event_ids": (_LIST, "a JSON list"),
        "key": (_or_null(_TEXT), "text or null"),
    },
}
_HINT = "judge a journal only as a `harness run` wrote it; run the scenario again for a new one"


def check_tables(db: sqlite3.Connection, path: Path) -> None:
    """InputError unless every table of the format is there with the format's columns."""
    for table, expected in _columns().items():
        found = tuple(r[1] for r in db.execute(f'PRAGMA table_info("{table}")'))
        if found != expected:
            has = f"has columns {', '.join(found)}" if found else "is missing"
            raise InputError(
                f"not a harness journal of this format: its table {table!r} {has}; the "
                f"format's has {', '.join(expected)}",
                where=str(path),
                hint=_HINT,
            )


def check_rows(db: sqlite3.Connection, path: Path, run: int) -> None:
    """InputError naming the first row of run ``run`` whose value has not the format's type."""
    for table, columns in _ROWS.items():
        cases = " ".join(
            f"WHEN NOT ({check.format(_quoted(c))}) THEN '{c}'" for c, (check, _) in columns.items()
        )
        found = db.execute(
            f"SELECT rowid, bad FROM (SELECT rowid, CASE {cases} END AS bad FROM {table} "
            "WHERE run = ?) WHERE bad IS NOT NULL LIMIT 1",
            (run,),
        ).fetchone()
        if found is not None:
            rowid, column = found
            value = db.execute(
                f"SELECT {_quoted(column)} FROM {table} WHERE rowid = ?", (rowid,)
            ).fetchone()[0]
            raise InputError(
                f"damaged journal: row {rowid} of table {table}: {column} is "
                f"{'null' if value is None else repr(value)[:60]}, "
                f"where {columns[column][1]} is expected",
                where=str(path),
                hint=_HINT,
            )


def _quoted(column: str) -> str:
    return f'"{column}"'


@cache
def _columns() -> dict[str, tuple[str, ...]]:
    """The columns of every table of the format, as SCHEMA creates them."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(SCHEMA)
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: tuple(r[1] for r in db.execute(f'PRAGMA table_info("{t}")')) for t in tables}
    finally:
        db.close()
