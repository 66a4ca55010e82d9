"""Updates a clean run skipped that share their time with an older one it wrote.

A register's automation that keeps each record's newest time and writes an update only when it
is newer (``created > last``) skips the later of two changes with the same time — Stripe's
``created`` is whole seconds — in order or not, and the record stays on the older change. Its
clean run does so too: the newest event of such a record made nothing there, and a run whose
events come in the same order makes nothing for it either, so what the clean run teaches (the
event owes nothing) passes the loss. An automation that skips an update by its content on
purpose (nothing it writes changed) looks the same. ``no_lost_events`` does not pass a record's
latest event so skipped: not judged, saying why (``_expected`` keeps them as ``tied``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from ..core import _paths
from ..core._model import Event, Model
from ..history import History
from ._order import time_path


def tied_twins(
    clean: History, written: Collection[str], skipped: Iterable[Event]
) -> dict[str, int]:
    """Of ``skipped`` (clean events accepted that made nothing), in a register, those with the
    same time at the source's time path as an older event of their record that made a write
    there (its id in ``written``): clean event id -> that older event's seq."""
    path = time_path(clean)
    if clean.info.model is not Model.REGISTER or path is None:
        return {}
    steps = _paths.parse(path)
    first: dict[tuple[str, Any], int] = {}  # (record, time) -> the lowest seq written
    for e in clean.events:
        if e.id in written:
            at = _paths.get(e.payload, steps, None)
            if isinstance(at, int | float | str):
                key = (e.key, at)
                first[key] = min(first.get(key, e.seq), e.seq)
    out = {}
    for e in skipped:
        at = _paths.get(e.payload, steps, None)
        older = first.get((e.key, at)) if isinstance(at, int | float | str) else None
        if older is not None and older < e.seq:
            out[e.id] = older
    return out
