"""A journal checked against its format before its rows are read: the tables and columns the
format has and, in a journal of format 5, each run's rows with the format's types (a number
where a time is, JSON where a payload is). A journal another program changed, or whose bytes
were damaged, is then one clear InputError naming the table, row and column, never a crash
while judging.

From format 6 on the tables carry these checks themselves (``_schema.COLUMNS``, and format
7's chunks ``_schema.CHUNKED``): SQLite refuses a row of another type when it is written, so its
rows need no scan; what is checked is that its tables are the format's, checks included (what
a chunk's text holds is checked as it is read, ``_chunks``). A format 5 run is scanned in SQL,
one scan per table: about a quarter of the time its load takes.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

from ..core._errors import DAMAGED_HINT, InputError
from ._schema import COLUMNS, quoted, schema


def check_tables(db: sqlite3.Connection, path: Path, version: int) -> None:
    """InputError unless every table of format ``version`` is there with the format's columns
    and, from format 6 on, defined as the format defines it."""
    for table, (expected, definition) in _tables(max(version, 6)).items():
        found = tuple(r[1] for r in db.execute(f'PRAGMA table_info("{table}")'))
        if found != expected:
            has = f"has columns {', '.join(found)}" if found else "is missing"
            raise InputError(
                f"not a harness journal of this format: its table {table!r} {has}; the "
                f"format's has {', '.join(expected)}",
                where=str(path),
                hint=DAMAGED_HINT,
            )
        if version >= 6 and _definition(db, table) != definition:
            raise InputError(
                f"not a harness journal of format {version}: its table {table!r} is not "
                "defined as the format's (the checks of what its columns hold)",
                where=str(path),
                hint=DAMAGED_HINT,
            )


def check_rows(db: sqlite3.Connection, path: Path, run: int) -> None:
    """InputError naming the first row of run ``run`` whose value has not the format's type:
    for a journal of format 5, whose tables do not check their rows themselves."""
    for table, columns in COLUMNS.items():
        cases = " ".join(
            f"WHEN NOT ({check.format(quoted(c))}) THEN '{c}'"
            for c, (_, check, _) in columns.items()
        )
        found = db.execute(
            f"SELECT rowid, bad FROM (SELECT rowid, CASE {cases} END AS bad FROM {table} "
            "WHERE run = ?) WHERE bad IS NOT NULL LIMIT 1",
            (run,),
        ).fetchone()
        if found is not None:
            rowid, column = found
            value = db.execute(
                f"SELECT {quoted(column)} FROM {table} WHERE rowid = ?", (rowid,)
            ).fetchone()[0]
            raise InputError(
                f"damaged journal: row {rowid} of table {table}: {column} is "
                f"{'null' if value is None else repr(value)[:60]}, "
                f"where {columns[column][2]} is expected",
                where=str(path),
                hint=DAMAGED_HINT,
            )


def _definition(db: sqlite3.Connection, table: str) -> str | None:
    found = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    return None if found is None else str(found[0])


@cache
def _tables(version: int) -> dict[str, tuple[tuple[str, ...], str | None]]:
    """Every table of format ``version`` (6 or 7; format 5 has format 6's columns): its
    columns and its definition, as ``schema`` creates them."""
    db = sqlite3.connect(":memory:")
    try:
        db.executescript(schema(version))
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            t: (tuple(r[1] for r in db.execute(f'PRAGMA table_info("{t}")')), _definition(db, t))
            for t in tables
        }
    finally:
        db.close()
