"""Effects that carry an event's id rounded through a double, which no attribution can name.

An automation that reads its payload with a parser that makes every number a double
(JavaScript's ``JSON.parse``, a ``float()``) writes an id above 2**53 rounded:
4429879505397988091 goes out as 4429879505397988000. No tracer token and no ``correlate:``
rule on that field matches a value no event holds, so where effects name no event and carry
such a number, that is the cause said, not a rule to write (found with
tests/gallery/node/shopify_orders_seen_set.js, whose order ids are the events' ids).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..core import _paths
from ..core._model import Effect, Event
from ..drive._drift import ROUNDED, arrived, is_big

# Effects read for a rounded id: the first few of a route show it, or none will.
_LOOKED_AT = 50


@dataclass(frozen=True, slots=True)
class Rounded:
    """``effect`` carries ``got``, the id of ``event_id`` rounded through a double."""

    effect: Effect
    event_id: str
    got: int | float


def rounded_id(events: Iterable[Event], effects: Sequence[Effect]) -> Rounded | None:
    """The first of ``effects`` (a few looked at) that carries an event's id above 2**53 as
    the same double but not the same number; None where none does."""
    big = {float(int(e.id)): e.id for e in events if e.id.isdigit() and is_big(int(e.id))}
    if not big:
        return None
    for effect in effects[:_LOOKED_AT]:
        try:
            doc = json.loads(effect.body) if effect.body else None
        except ValueError:
            continue
        if not isinstance(doc, dict | list):
            continue
        for _, leaf in _paths.leaves(doc):
            if isinstance(leaf, bool) or not isinstance(leaf, int | float):
                continue
            event_id = big.get(float(leaf))
            if event_id is not None and arrived(leaf, int(event_id)) == ROUNDED:
                return Rounded(effect, event_id, leaf)
    return None


def rounded_text(route: str, found: Rounded) -> str:
    """Why ``route``'s effects name no event, where they carry rounded ids."""
    return (
        f"{route} carries this run's event ids rounded through a double (e.g. {found.effect.id}: "
        f"{found.got} for event {found.event_id}): the automation reads ids above 2**53 as "
        "floating-point numbers (JavaScript's JSON.parse, a float()), and neither the run's "
        "tokens nor a correlate: rule on that field can match a value no event holds — keep such "
        "ids as text from the payload on (big-number-ids judges it: big_numbers_intact)"
    )
