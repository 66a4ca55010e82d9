"""Writes naming only their record whose bodies hold no value that tells one of its events from
another: no ``correlate:`` rule can name their event, so the advice to write one cannot be
followed (found with tests/gallery/loyalty_points.py — ``PUT /members/{id}`` with the points
balance — and float_balance.py — a running balance and the currency: derived, or shared by
every event of the record). Said instead, with ``leave_out`` for a check that cannot apply.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

from ..core import _paths
from ..core._model import Effect, Event

# Writes of a route read: the first few show whether any carries a telling value.
_LOOKED_AT = 50


def derived_fields(events: Iterable[Event], effects: Sequence[Effect]) -> list[str] | None:
    """The body fields of ``effects`` (writes naming only their record, a few looked at) where
    none of them holds a value that some but not all of its record's events hold (the one
    thing a rule could tell its events apart by); None where one does, or no body is JSON."""
    looked = [e for e in effects[:_LOOKED_AT] if e.key is not None]
    keys = {e.key for e in looked}
    by_record: defaultdict[str, list[set[str]]] = defaultdict(list)
    for event in events:
        if event.key in keys:
            by_record[event.key].append({_text(v) for _, v in _paths.leaves(event.payload)})
    fields: set[str] = set()
    for effect in looked:
        try:
            doc = json.loads(effect.body) if effect.body else None
        except ValueError:
            return None
        if not isinstance(doc, dict):
            return None
        theirs = by_record.get(str(effect.key), [])
        telling: set[str] = set()
        if len(theirs) > 1:
            telling = set[str]().union(*theirs) - theirs[0].intersection(*theirs[1:])
        for steps, value in _paths.leaves(doc):
            if _text(value) in telling:
                return None
            fields.add(_paths.render(steps[:1]))
    return sorted(fields) or None


def derived_text(route: str, fields: Sequence[str], name: str) -> str:
    """Why no rule is advised for ``route``, and what the project can do instead."""
    return (
        f"no value in the bodies of {route} ({', '.join(fields)}) is one that tells its "
        "record's events apart — derived (a balance, a sum) or the same for all of them — so no "
        f"correlate: rule can name their event: if {name} cannot apply to this automation, "
        "leave it out in harness.yaml with the reason (docs/project.md#leave-out); "
        "final_state_matches_baseline judges the state these writes leave"
    )


def _text(value: object) -> str:
    """A leaf compared as text, as rules compare: 1042, 1042.0 and "1042" alike."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
