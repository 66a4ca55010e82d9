"""Writes naming only their record whose bodies hold no value that tells one of its events from
another: no ``correlate:`` rule can name their event, so the advice to write one cannot be
followed (found with tests/gallery/loyalty_points.py — ``PUT /members/{id}`` with the points
balance — and float_balance.py — a running balance and the currency: derived, or shared by
every event of the record). Said instead, with ``leave_out`` for a check that may not apply
(order), and for the checks of events' effects what judges the writes per record: no_lost_events
against a clean run.
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
            by_record[event.key].append({leaf_text(v) for _, v in _paths.leaves(event.payload)})
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
            if leaf_text(value) in telling:
                return None
            fields.add(_paths.render(steps[:1]))
    return sorted(fields) or None


def derived_text(route: str, fields: Sequence[str], advice: str) -> str:
    """Why no rule is advised for ``route``, and ``advice``: what the project can do instead
    (``leave_out_advice``, ``per_record_advice``)."""
    return (
        f"no value in the bodies of {route} ({', '.join(fields)}) is one that tells its "
        "record's events apart — derived (a balance, a sum) or the same for all of them — so no "
        f"correlate: rule can name their event: {advice}"
    )


def leave_out_advice(name: str) -> str:
    """For a check that may not apply to such writes (an order of events)."""
    return (
        f"if {name} cannot apply to this automation, leave it out in harness.yaml with the "
        f"reason (docs/project.md#leave-out); {_STATE}"
    )


def per_record_advice(name: str, clean_run: bool) -> str:
    """For a check of events' effects (loss, recovery, retries): what judges these writes per
    record — no_lost_events against a clean run — where ``name`` cannot judge them event by
    event. Said with how to get one where the run had ``clean_run`` none (--no-baseline, a
    load test: float_balance was told to add a rule no value could match)."""
    if name == "no_lost_events":
        judged = "this verdict compares each record's writes with what its events owe, per record"
    else:
        judged = (
            "no_lost_events compares each record's writes with what its events owe, per record "
            f"(the calls refused and never made again among them), where {name} judges event by "
            "event"
        )
    if not clean_run:
        judged = (
            "with a clean run (`harness run` drives one unless --no-baseline) or the expected "
            f"effects declared (`expect:`, docs/invariants.md), {judged}"
        )
    return f"{judged}; {_STATE}"


_STATE = "final_state_matches_baseline judges the state these writes leave"


def leaf_text(value: object) -> str:
    """A leaf compared as text, as rules compare: 1042, 1042.0 and "1042" alike."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
