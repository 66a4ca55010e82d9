"""Journals joined into one: the runs of several journal files copied into another, in the
order they started, as if one invocation had written them all (``harness demo`` drives several
instances of an automation at once, each into a journal of its own, and keeps one journal per
automation)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path

from ._journal import Journal, _open_for_writing
from ._load import _open
from ._schema import journal_format

# The tables whose rows name their run by its row number in ``runs`` (their first column).
_PER_RUN = ("events", "deliveries", "effects", "faults", "marks", "states")
MAX_PARTS = 10  # SQLite attaches at most ten databases to one connection


def merge_journals(
    into: Path, parts: Sequence[Path], *, runs: Collection[str] | None = None
) -> None:
    """Copy every run of the journals ``parts`` (at most MAX_PARTS) into the journal ``into``
    (made if need be), oldest first; a run id names one run, so none collides with another.
    ``runs``: only the runs of these ids (``harness explore`` keeps its minimal run and its
    clean run out of the search's journal)."""
    if len(parts) > MAX_PARTS:
        raise ValueError(f"{len(parts)} journals to merge; at most {MAX_PARTS} at once")
    for part in parts:  # each of this harness's format: their tables are copied as they are
        with _open(part) as opened:
            journal_format(opened, part, writing=True)
    into.parent.mkdir(parents=True, exist_ok=True)
    db = _open_for_writing(into)
    try:
        for n, part in enumerate(parts):
            db.execute(f"ATTACH DATABASE ? AS part{n}", (str(part),))
        columns = {
            table: [row[1] for row in db.execute(f"PRAGMA main.table_info({table})")][1:]
            for table in _PER_RUN
        }
        found = sorted(
            (json.loads(info)["started_at"], n, run, run_id, info, status, ended)
            for n in range(len(parts))
            for run, run_id, info, status, ended in db.execute(
                f"SELECT run, run_id, info, status, ended_at FROM part{n}.runs"
            )
            if runs is None or run_id in runs
        )
        db.execute("BEGIN")
        for _, n, run, run_id, info, status, ended in found:
            new = db.execute(
                "INSERT INTO runs(run_id, info, status, ended_at) VALUES (?, ?, ?, ?)",
                (run_id, info, status, ended),
            ).lastrowid
            for table, names in columns.items():
                listed = ", ".join(f'"{c}"' for c in names)
                db.execute(
                    f"INSERT INTO main.{table}(run, {listed}) SELECT ?, {listed} "
                    f"FROM part{n}.{table} WHERE run = ?",
                    (new, run),
                )
        db.execute("COMMIT")
        for n in range(len(parts)):
            db.execute(f"DETACH DATABASE part{n}")
    finally:
        db.close()
    Journal(into).close()  # left as a journal is: one self-contained .db file
