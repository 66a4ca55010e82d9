"""Effects that name an id a double made up for a creation: the creation's record's.

An automation that creates an account and then subscribes it writes ``POST /subscriptions
{"account": "ds_7", "plan": "pro"}``: nothing of the event in it, only the id the API answered
the account's creation with. No tracer value, and no ``correlate:`` rule either (the id is in no
event), can tie it to what caused it — and "add a correlate: rule for them" was the advice. The
double marks each creation with the id it made up (``ISSUED_MARK``); an effect that names no
event of the run nor a record, and names such an id (a token ``ds_7`` in its path or body) of a
creation whose record is known, is taken as naming that record: the account is the record's,
whichever of the record's events found or created it. Where the record had a single event in
the run the effect is then that event's (``_single_event``), else it is compared per record.

An id is looked up on the effect's own downstream first (each double numbers its own ids), then
on the others where exactly one made it up; an effect naming ids of several records is left as
it was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..core._model import Effect, Event
from ..core._text_effect import naming
from ..double._resources import GENERATED_PREFIX
from ..history import History
from ._undone import issued_ids, rewritten

_PREFIX = GENERATED_PREFIX
MADE_UP = re.compile(rf"(?<![\w-]){re.escape(GENERATED_PREFIX)}\d+(?!\d)")


def chain(history: History) -> History:
    """``history`` with each effect naming only an id made up for a creation taken as naming
    the creation's record (its clean run the same); ``history`` itself where there is none."""
    return rewritten(history, _taken)


def _taken(history: History) -> dict[str, Effect]:
    """Effect id -> the same naming the record whose creation's id it names."""
    issued = issued_ids(history.marks)
    if not issued:
        return {}
    events = {e.id: e for e in history.events}
    records = {e.key for e in history.events}
    # The effects naming no event of the run nor a record, and the made-up ids they name.
    named: list[tuple[Effect, list[str]]] = []
    for effect in history.effects:
        # By C code first: most effects hold no made-up id, or name their event.
        if (_PREFIX in effect.body or _PREFIX in effect.path) and effect.key not in records:
            ids = effect.event_ids
            if not ids or not any(i in events for i in ids):
                tokens = MADE_UP.findall(effect.path + " " + effect.body)
                if tokens:
                    named.append((effect, tokens))
    if not named:
        return {}
    wanted = {t for _, tokens in named for t in tokens}
    # made-up id -> downstream -> the creation it was made up for (those named only)
    owners: dict[str, dict[str, Effect]] = {}
    for effect in history.effects:
        made_up = issued.get(effect.id)
        if made_up is not None and made_up in wanted:
            owners.setdefault(made_up, {})[effect.downstream] = effect
    out: dict[str, Effect] = {}
    for effect, tokens in named:
        found = {
            record_of(creation, events)
            for t in tokens
            # An id made up after the effect is another run's it kept (_foreign_ids).
            if (creation := _owner(owners.get(t), effect.downstream)) is not None
            and creation.at <= effect.at
        }
        found.discard(None)
        if len(found) == 1:
            out[effect.id] = naming(effect, effect.event_ids, found.pop())
    return out


def record_of(creation: Effect, events: Mapping[str, Event]) -> str | None:
    """The record ``creation`` names, or None (none, or events of several)."""
    if creation.key is not None:
        return creation.key
    keys = {events[i].key for i in creation.event_ids if i in events}
    return keys.pop() if len(keys) == 1 else None


def _owner(made: Mapping[str, Effect] | None, downstream: str) -> Effect | None:
    """The creation an id names on ``downstream`` (its own double's first, else the one other
    double that made it up), or None."""
    if made is None:
        return None
    if downstream in made:
        return made[downstream]
    return next(iter(made.values())) if len(made) == 1 else None
