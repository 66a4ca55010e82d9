"""Updates a clean run skipped that share their time with an older one it wrote.

A register's automation that keeps each record's newest time and writes an update only when it
is newer (``created > last``) skips the later of two changes with the same time — Stripe's
``created`` is whole seconds — in order or not, and the record stays on the older change. Its
clean run does so too: the newest event of such a record made nothing there, and a run whose
events come in the same order makes nothing for it either, so what the clean run teaches (the
event owes nothing) passes the loss. An automation that skips an update by its content on
purpose (nothing it writes changed) looks the same. ``no_lost_events`` does not pass a record's
latest event so skipped: not judged, saying why (``_expected`` keeps them as ``tied``).

Unless the clean run skipped an event of the same type strictly newer than every earlier write
of its record: a newest-wins check writes that one, so time is not what the automation skips
by (a GitHub receiver filing ``opened`` issues skips every ``edited`` one, tied or not).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from ..core import _paths
from ..core._model import Event, Model
from ..history import History
from ._order import _instant, time_path


class Ties:
    """Of a clean run's events (``clean``) that made a write there (their ids in ``written``),
    the lowest seq of each record's time at the source's time path: indexed once, when first
    asked, for every type ``_expected`` asks about (a scan of the run for each was a third of
    no_lost_events' time on a register of 20 types)."""

    def __init__(self, clean: History, written: Collection[str]) -> None:
        self._clean, self._written = clean, written
        path = time_path(clean)
        self._steps = (
            _paths.parse(path) if path is not None and clean.info.model is Model.REGISTER else None
        )
        self._first: dict[tuple[str, Any], int] | None = None  # (record, time) -> lowest seq
        # Record -> (seq, time) of its events written, in seq order.
        self._written_at: dict[str, list[tuple[int, Any]]] = {}

    def of(self, skipped: Sequence[Event]) -> dict[str, int]:
        """Of ``skipped`` (clean events accepted that made nothing), in a register, those with
        the same time at the source's time path as an older event of their record that made a
        write there: clean event id -> that older event's seq."""
        steps = self._steps
        if steps is None:
            return {}
        first = self._first
        if first is None:
            first = self._first = {}
            for e in sorted(self._clean.events, key=lambda e: e.seq):
                if e.id in self._written:
                    at = _paths.get(e.payload, steps, None)
                    if isinstance(at, int | float | str):
                        key = (e.key, at)
                        first[key] = min(first.get(key, e.seq), e.seq)
                        self._written_at.setdefault(e.key, []).append((e.seq, at))
        if any(self._newer_skipped(e, steps) for e in skipped):
            return {}
        out = {}
        for e in skipped:
            at = _paths.get(e.payload, steps, None)
            older = first.get((e.key, at)) if isinstance(at, int | float | str) else None
            if older is not None and older < e.seq:
                out[e.id] = older
        return out

    def _newer_skipped(self, e: Event, steps: Any) -> bool:
        """Was ``e`` (skipped) strictly newer than every earlier write of its record, one at
        least? A ``created > last`` check would have written it."""
        now = _instant(_paths.get(e.payload, steps, None))
        earlier = [_instant(at) for seq, at in self._written_at.get(e.key, ()) if seq < e.seq]
        return bool(earlier) and all(_before(then, now) for then in earlier)


def _before(then: float | datetime | None, now: float | datetime | None) -> bool:
    if isinstance(then, float) and isinstance(now, float):
        return then < now
    if isinstance(then, datetime) and isinstance(now, datetime):
        try:
            return then < now
        except TypeError:  # a zone's time beside a naive one: nothing to tell
            return False
    return False
