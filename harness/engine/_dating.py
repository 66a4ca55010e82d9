"""The instant a run's synthetic events are dated from (``SyntheticSource.dated_from``).

A provider stamps an event with the time it happens. A run's synthetic events are dated from
the run's start on the wall clock, or just after the last event dated before it — by an
earlier run of this process, or of an earlier invocation its journal holds — whichever is
later; room is left before them for the run's clean run (``clean_start``), prepared after the
run and driven before it. So an automation that keeps the newest time it handled (a
checkpoint, an "updated_at newer than stored" guard, a cursor) meets each run's events as
newer than the last run's, as it meets production's: dated from 2026-01-01 in every run, a
checkpoint kept from the clean run skipped every event of the run after it as stale.

A source with an ``epoch`` (a year's month) keeps its calendar's dates; one given its
``dated_from`` (a test's fixed payloads) keeps it; a recording keeps the times it was
recorded with. The run's settings keep the instants (``DATED_FROM``, ``DATED_TO``): the
journal holds them, and the next invocation dates its runs after them — read from its own
journal and the newest ones beside it (``harness-runs/``: a journal an invocation). The runs
of one invocation are prepared before the first is driven, so their dates run ahead of the
wall clock by their spans: an invocation started soon after would otherwise date its events
before the last one's.
"""

from __future__ import annotations

import math
import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..core._scenario import Scenario, SyntheticSource

DATED_FROM = "dated_from"  # the run's settings: second 0 of its events, ISO 8601 in UTC
DATED_TO = "dated_to"  # ... and the last instant its events may be dated

_GAP = timedelta(seconds=1)  # between one run's last event and the next's first

# The latest instant a run of this process was dated to, and the journals already read.
_LAST: list[datetime] = []
_READ: set[Path] = set()
_NEIGHBOURS = 5  # the newest journals beside a run's own that are read
_LAST_RUNS = 20  # the runs of each that are read, its last


def dated(
    scenario: Scenario, journal: Path | None, start: datetime | None = None
) -> tuple[Scenario, dict[str, Any]]:
    """``scenario``, its synthetic source dated from ``start`` (default: the source's own
    ``dated_from``, else the next run's start, ``_next``), and the settings that say so;
    ``scenario`` as it is, and no settings, for a recording or a calendar's month."""
    source = scenario.source
    if not isinstance(source, SyntheticSource) or source.epoch is not None:
        return scenario, {}
    span = _span(source)
    first = start or source.dated_from or _next(span, journal, scenario.baseline)
    _passed(first + span)
    settings = {DATED_FROM: first.isoformat(), DATED_TO: (first + span).isoformat()}
    return replace(scenario, source=replace(source, dated_from=first)), settings


def clean_start(scenario: Scenario) -> datetime | None:
    """Second 0 of the clean run of ``scenario`` (its events dated by ``dated``): its span and
    a second before the run's own, in the room ``_next`` left for it."""
    source = scenario.source
    if not isinstance(source, SyntheticSource) or source.dated_from is None:
        return None
    return source.dated_from - _span(source) - _GAP


def _span(source: SyntheticSource) -> timedelta:
    """The seconds the source's events span, whole: to its last event's time."""
    last = max(source.times) if source.times else source.over
    return timedelta(seconds=math.ceil(max(last, 0.0)))


def _next(span: timedelta, journal: Path | None, clean: bool) -> datetime:
    """The start of a run of ``span``: after the last instant dated before (``_LAST``, the
    journal's) or now, whichever is later, and (``clean``: it may have a clean run) its clean
    run's span and a second after that."""
    earliest = datetime.now(UTC).replace(microsecond=0)
    if journal is not None and journal not in _READ:
        _READ.add(journal)
        for path in _journals(journal):
            _passed(_journal_last(path))
    if _LAST and _LAST[0] + _GAP > earliest:
        earliest = _LAST[0] + _GAP
    return earliest + span + _GAP if clean else earliest


def _passed(instant: datetime | None) -> None:
    """Keep ``instant`` as the latest dated, where it is later than the one kept."""
    if instant is not None and (not _LAST or instant > _LAST[0]):
        _LAST[:] = [instant]


def _journals(journal: Path) -> list[Path]:
    """``journal`` and the newest journals beside it (by their time of change)."""
    try:
        beside = [p for p in journal.parent.glob("*.db") if p != journal and p.is_file()]
        beside.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        beside = []
    return [journal, *beside[:_NEIGHBOURS]]


def _journal_last(path: Path) -> datetime | None:
    """The latest ``DATED_TO`` of the runs in the journal at ``path``; None where it has none
    or is not a journal yet (the run's own checks say what is wrong with one)."""
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            # Its last runs: dated after those before them (an explore's journal holds
            # thousands, each info a large object).
            row = db.execute(
                "SELECT max(json_extract(info, '$.settings.' || ?)) FROM "
                "(SELECT info FROM runs ORDER BY run DESC LIMIT ?)",
                (DATED_TO, _LAST_RUNS),
            ).fetchone()
    except sqlite3.Error:
        return None
    try:
        return datetime.fromisoformat(row[0]) if row and row[0] else None
    except (TypeError, ValueError):
        return None
