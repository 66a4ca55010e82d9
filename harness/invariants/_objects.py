"""Whether two events of one ledger record wrote about different objects of it.

A ledger's record is what its events are keyed by — a Stripe customer, for ``invoice.paid``
— and two of one customer's events can be about two of its invoices. An automation that keeps
each invoice by its own id (``PUT /invoices/{id}``) may apply them in either order: each
invoice's final state is independent of the other's. A refund applied before the payment of
the same charge is what the ledger's order is for, and a POST appending to a collection, or
a write naming an id both events carry, keeps the pair judged.

``relation(older, its write, newer, its write)``:

* ``APART`` — both are idempotent writes (PUT, PATCH, DELETE) to different resources, each path
  holds an id its own event carries and the other does not (anywhere in its payload), and
  neither path holds an id both carry other than their record's key, nor its own event's id
  (an entry per event is a line of the ledger, kept in order like a POST's).
* ``UNSURE`` — idempotent writes to different resources, nothing shared, but a path holds no
  id its event carries (a hashed or derived one): nothing tells whether it is one object.
* ``SAME`` — anything else: judged, as it always was.
"""

from __future__ import annotations

import enum
import json
from urllib.parse import unquote

from ..core import _paths
from ..core._model import Effect, Event
from ._facts import Facts

IDEMPOTENT = frozenset({"PUT", "PATCH", "DELETE"})


class Relation(enum.Enum):
    SAME = "same"
    APART = "apart"
    UNSURE = "unsure"


class Objects:
    """``objects.relation(older, older_write, newer, newer_write)``; each event's payload is
    read once, and only for the pairs asked about (a run's out-of-order steps are few)."""

    def __init__(self) -> None:
        self._values: dict[str, frozenset[str]] = {}
        self._texts: dict[str, str] = {}

    def relation(self, a: Event, write_a: Effect, b: Event, write_b: Effect) -> Relation:
        if not (idempotent(write_a) and idempotent(write_b)):
            return Relation.SAME
        if (write_a.downstream, resource(write_a)) == (write_b.downstream, resource(write_b)):
            return Relation.SAME
        in_a, in_b = _segments(write_a), _segments(write_b)
        if a.id in in_a or b.id in in_b:
            return Relation.SAME
        values_a, values_b = self._values_of(a), self._values_of(b)
        shared = (values_a & values_b) - {a.key}
        if not shared.isdisjoint(in_a) or not shared.isdisjoint(in_b):
            return Relation.SAME
        own_a = self._only(in_a & values_a, b)
        own_b = self._only(in_b & values_b, a)
        return Relation.APART if own_a and own_b else Relation.UNSURE

    def _only(self, ids: set[str], other: Event) -> bool:
        """Is one of ``ids`` (of one event) nowhere in ``other``'s payload, not even inside a
        longer string (a URL naming it)?"""
        text = self._text_of(other)
        return any(i not in text for i in ids)

    def _values_of(self, event: Event) -> frozenset[str]:
        found = self._values.get(event.id)
        if found is None:
            found = frozenset(_scalars(event.payload))
            self._values[event.id] = found
        return found

    def _text_of(self, event: Event) -> str:
        found = self._texts.get(event.id)
        if found is None:
            found = json.dumps(event.payload, ensure_ascii=False)
            self._texts[event.id] = found
        return found


class Against:
    """``against(older, its write, held)``: the newer event of the record whose write came
    first that the older event's write is to be judged against, and how the two relate.

    ``held`` is the record's newest event applied before it; when ``held`` is not about the
    same object, the record's other newer events applied before it are looked at (the newest
    about the same object, else the newest nothing told apart) — an out-of-order step is
    ``APART`` only when it is apart from every one of them. Built for the few out-of-order
    steps of a run: the indexes are made at the first that needs them.
    """

    def __init__(self, facts: Facts) -> None:
        self._facts = facts
        self._objects = Objects()
        self._place: dict[str, int] = {}  # event id -> its first write's place in time order
        self._records: dict[str, list[Event]] = {}

    def __call__(self, older: Event, write: Effect, held: Event) -> tuple[Event, Relation]:
        first = self._facts.first_write
        if self._objects.relation(older, write, held, first[held.id]) is Relation.SAME:
            return held, Relation.SAME
        if not self._place:
            self._index()
        before = self._place[older.id]
        found: dict[Relation, Event] = {}
        for newer in self._records[older.key]:
            if newer.seq <= older.seq or self._place[newer.id] >= before:
                continue
            how = self._objects.relation(older, write, newer, first[newer.id])
            if how not in found or newer.seq > found[how].seq:
                found[how] = newer
        for how in (Relation.SAME, Relation.UNSURE):
            if how in found:
                return found[how], how
        return held, Relation.APART

    def lone(self) -> Effect | None:
        """When each event of the run wrote an object of its own — no resource written by two
        events of a record, no event's write but apart from its record's last before it — the
        first write apart from another; None when two events could be about one object (asked
        only when no out-of-order step was judged: a pass needs an order kept)."""
        first = self._facts.first_write
        events = self._facts.events_by_id
        last: dict[str, Event] = {}
        seen: set[tuple[str, str, str]] = set()
        shown: Effect | None = None
        for eid, write in first.items():
            event = events.get(eid)
            if event is None:
                continue
            slot = (event.key, write.downstream, resource(write))
            if slot in seen:
                return None
            seen.add(slot)
            prior = last.get(event.key)
            last[event.key] = event
            if prior is None:
                continue
            if self._objects.relation(event, write, prior, first[prior.id]) is not Relation.APART:
                return None
            shown = shown or write
        return shown

    def _index(self) -> None:
        """Each event's first write's place among the run's first writes, and the events of
        each record that have one."""
        events = self._facts.events_by_id
        place, last = -1, None
        for eid, eff in self._facts.first_write.items():
            if eff is not last:
                place, last = place + 1, eff
            self._place[eid] = place
            event = events.get(eid)
            if event is not None:
                self._records.setdefault(event.key, []).append(event)


def idempotent(write: Effect) -> bool:
    return write.method.upper() in IDEMPOTENT


def resource(write: Effect) -> str:
    """The resource a write set: its path without the query."""
    return write.path.partition("?")[0]


def _segments(write: Effect) -> set[str]:
    return {unquote(s) for s in resource(write).split("/") if s}


def _scalars(payload: object) -> list[str]:
    """The payload's strings and integers, as text: the ids a path may hold."""
    found = []
    for _, value in _paths.leaves(payload):
        if isinstance(value, str) and value:
            found.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            found.append(str(value))
    return found
