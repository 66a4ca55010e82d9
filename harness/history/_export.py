"""A copy of a journal with every value a report would hide replaced: one to share.

The journal itself is raw (every header, body, payload and the start of every refused answer,
as the target sent or received them). ``export`` copies it row by row through a ``Scrubber`` —
the report's redaction, passed in from above — so that the copy holds only what a report of
it would show, and ``harness check`` and ``harness report`` still read it. One value always
becomes one label, in every table, so that what joins rows (event ids, record keys, equal
bodies) still joins them. The signing secret's fingerprint is left out: nothing derived from
the secret is shared.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from ..core._errors import DAMAGED_HINT, InputError
from ..core._fingerprint import FINGERPRINT_SETTINGS
from ..core._form import is_form
from ..core._headers import LazyHeaders
from . import _chunks as chunks
from ._load import _open
from ._schema import SCHEMA

# Settings a shared copy leaves out.
_PRIVATE_SETTINGS = FINGERPRINT_SETTINGS


class Scrubber(Protocol):
    """What replaces the values a report hides (``harness.report._redact.Redactor``)."""

    def text(self, text: str) -> str: ...

    def headers(self, headers: Mapping[str, str]) -> tuple[tuple[str, str], ...]: ...

    def payload(self, run_id: str, value: Any) -> Any: ...

    def body(self, text: str, *, form: bool = False) -> str: ...

    def json_value(self, value: Any) -> Any: ...


def export(source: Path, dest: Path, scrub: Scrubber) -> int:
    """Copy the journal ``source`` to ``dest`` through ``scrub``; the number of runs copied.
    The copy is written aside and moved into place whole (replacing ``dest``)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".harness-export-", suffix=".db", dir=dest.parent)
    os.close(fd)
    try:
        with (opened := _open(source)) as src:
            out = sqlite3.connect(temp)
            try:
                out.executescript(SCHEMA)
                with out:
                    runs = _copy(src, opened.version, out, scrub)
            except chunks.DAMAGED as exc:
                raise InputError(  # what SQLite's checks cannot see (another program's chunks)
                    f"damaged journal: it cannot be copied ({type(exc).__name__}: {exc})",
                    where=str(source),
                    hint=DAMAGED_HINT,
                ) from None
            finally:
                out.close()
        os.replace(temp, dest)
    finally:
        Path(temp).unlink(missing_ok=True)
    return runs


def _copy(src: sqlite3.Connection, version: int, out: sqlite3.Connection, s: Scrubber) -> int:
    run_ids: dict[int, str] = {}
    for run, run_id, info, status, ended_at in src.execute(
        "SELECT run, run_id, info, status, ended_at FROM runs ORDER BY run"
    ):
        run_ids[run] = run_id
        out.execute(
            "INSERT INTO runs VALUES (?,?,?,?,?)",
            (run, run_id, json.dumps(_info(json.loads(info), s)), status, ended_at),
        )
    chunks.write(
        out,
        "events",
        (
            (
                run,
                seq,
                _text(s, eid),
                _text(s, key),
                _text(s, typ),
                at,
                json.dumps(s.payload(run_ids.get(run, ""), json.loads(payload))),
                _headers(s, headers),
            )
            for run, seq, eid, key, typ, at, payload, headers in chunks.rows(src, "events", version)
        ),
    )
    chunks.write(
        out,
        "deliveries",
        (
            (*row[:2], _text(s, row[2]), *row[3:9], _text(s, row[9]), _body(s, row[10]))
            for row in chunks.rows(src, "deliveries", version)
        ),
    )
    chunks.write(
        out,
        "effects",
        (
            (
                *row[:5],
                _text(s, row[5]),  # path: a query may carry a credential
                _headers(s, row[6]),
                _body(s, row[7], form=is_form(LazyHeaders(row[6]).header("Content-Type"))),
                row[8],
                _text(s, row[9]),
                _ids(s, row[10]),
                _text(s, row[11]),
                row[12],
            )
            for row in chunks.rows(src, "effects", version)
        ),
    )
    out.executemany(
        "INSERT INTO faults VALUES (?,?,?,?,?,?)",
        (
            (*row[:5], json.dumps(s.json_value(json.loads(row[5]))))
            for row in src.execute("SELECT * FROM faults ORDER BY rowid")
        ),
    )
    out.executemany(
        "INSERT INTO marks VALUES (?,?,?,?)",
        ((*row[:3], _text(s, row[3])) for row in src.execute("SELECT * FROM marks ORDER BY rowid")),
    )
    out.executemany(
        "INSERT INTO states VALUES (?,?,?,?,?,?,?)",
        (
            (
                row[0],
                row[1],
                _text(s, row[2]),
                _text(s, row[3]),
                _body(s, row[4]),
                _ids(s, row[5]),
                _text(s, row[6]),
            )
            for row in src.execute("SELECT * FROM states ORDER BY rowid")
        ),
    )
    return len(run_ids)


def _info(info: dict[str, Any], s: Scrubber) -> dict[str, Any]:
    """A run's description with its settings scrubbed; its run id kept (rows name it)."""
    settings = {k: v for k, v in info.get("settings", {}).items() if k not in _PRIVATE_SETTINGS}
    shown: dict[str, Any] = s.json_value({**info, "settings": settings})
    shown["run_id"] = info.get("run_id")
    return shown


def _text(s: Scrubber, value: str | None) -> str | None:
    return None if value is None else s.text(value)


def _body(s: Scrubber, value: str | None, *, form: bool = False) -> str | None:
    return None if value is None else s.body(value, form=form)


def _headers(s: Scrubber, text: str) -> str:
    return json.dumps(dict(s.headers(LazyHeaders(text))))


def _ids(s: Scrubber, text: str | None) -> str | None:
    return None if text is None else json.dumps([s.text(i) for i in json.loads(text)])
