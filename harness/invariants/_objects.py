"""Whether two events of one ledger record wrote about different objects of it.

A ledger's record is what its events are keyed by — a Stripe customer, for ``invoice.paid``
— and two of one customer's events can be about two of its invoices. An automation that keeps
each invoice by its own id (``PUT /invoices/{id}``) may apply them in either order: each
invoice's final state is independent of the other's. A refund applied before the payment of
the same charge is what the ledger's order is for, and a POST appending to a collection, or
a write naming an id both events carry, keeps the pair judged.

``relation(Side(older, its first write), Side(newer, its first write))``:

* ``APART`` — both are idempotent writes (PUT, PATCH, DELETE) to different resources, each path
  holds an id its own event carries and the other does not (anywhere in its payload), and
  neither path holds an id both carry other than their record's key, nor its own event's id
  (an entry per event is a line of the ledger, kept in order like a POST's).
* ``UNSURE`` — idempotent writes to different resources, nothing shared, but a path holds no
  id only its own event carries (a hashed or derived one, or one the other event names too):
  nothing tells whether the two are about one object.
* ``SAME`` — anything else: judged, as it always was.

``Against`` finds what an out-of-order step is judged against; ``lone`` says when no two
events of a record wrote one resource, so that no order was shown kept.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import unquote

from ..core._model import Effect, Event
from ..core._text_event import payload_json
from ._facts import Facts

IDEMPOTENT = frozenset({"PUT", "PATCH", "DELETE"})
# A segment written into JSON as it is, between quotes: nothing to escape.
_PLAIN = re.compile(r"[ !#-\[\]-~]*")


class Relation(enum.Enum):
    SAME = "same"
    APART = "apart"
    UNSURE = "unsure"


@dataclass(slots=True)
class Side:
    """One event and its first write, as ``relation`` reads them: the write's path segments
    (each as a JSON string would hold it), the payload's JSON text read once (a loaded event's
    own text, not decoded)."""

    event: Event
    write: Effect
    _segments: dict[str, str] | None = None
    _text: str | None = None

    @property
    def segments(self) -> dict[str, str]:
        """Segment -> its JSON string literal."""
        if self._segments is None:
            self._segments = {s: _literal(s) for s in _segments(resource(self.write))}
        return self._segments

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = payload_json(self.event)
        return self._text


def relation(a: Side, b: Side) -> Relation:
    """How two events of one record relate through their first writes (the module's doc)."""
    if not (idempotent(a.write) and idempotent(b.write)):
        return Relation.SAME
    if (a.write.downstream, resource(a.write)) == (b.write.downstream, resource(b.write)):
        return Relation.SAME
    return _by_ids(a, b)


def _by_ids(a: Side, b: Side) -> Relation:
    """``relation`` of two idempotent writes to different resources: by the ids their paths
    hold and their events carry."""
    if a.event.id in a.segments or b.event.id in b.segments:
        return Relation.SAME
    own_a, own_b = _own(a, b), _own(b, a)
    if own_a is None or own_b is None:
        return Relation.SAME
    return Relation.APART if own_a and own_b else Relation.UNSURE


def _own(mine: Side, other: Side) -> bool | None:
    """Does ``mine``'s path hold an id only its event carries? None when it holds one both
    events carry, other than their record's key: both are about that object."""
    text, other_text = mine.text, other.text
    own = False
    for s, literal in mine.segments.items():
        if not _carries(text, s, literal):
            continue
        if _carries(other_text, s, literal):
            if s != mine.event.key:
                return None
        elif not _named_in(other_text, literal[1:-1]):
            own = True
    return own


def _named_in(text: str, word: str) -> bool:
    """Does ``text`` hold ``word`` (a path segment as JSON writes it) anywhere, but as the
    start of a longer id (``in_zqabcdee1`` in ``in_zqabcdee10``: another event's)?"""
    if word not in text:
        return False
    return re.search(rf"{re.escape(word)}(?![A-Za-z0-9])", text) is not None


class Against:
    """``against(older, its write, held)``: the newer event of the record whose write came
    first that the older event's write is to be judged against, and how the two relate.

    ``held`` is the record's newest event applied before it; when ``held`` is not about the
    same object, the record's other newer events applied before it are looked at (the newest
    about the same object, else the newest nothing told apart) — an out-of-order step is
    ``APART`` only when it is apart from every one of them. Built for a run's out-of-order
    steps, on ``records`` (theirs): the index is made at the first that needs it, each
    event's payload read once.
    """

    def __init__(self, facts: Facts, records: Collection[str]) -> None:
        self._facts = facts
        self._asked = records
        self._place: dict[str, int] = {}  # event id -> its first write's place in time order
        self._records: dict[str, list[Event]] = {}
        self._sides: dict[str, Side] = {}

    def __call__(self, older: Event, write: Effect, held: Event) -> tuple[Event, Relation]:
        side = self._side(older)
        if relation(side, self._side(held)) is Relation.SAME:
            return held, Relation.SAME
        if not self._place:
            self._index()
        before = self._place[older.id]
        found: dict[Relation, Event] = {}
        for newer in self._records[older.key]:
            if newer.seq <= older.seq or self._place[newer.id] >= before:
                continue
            how = relation(side, self._side(newer))
            if how not in found or newer.seq > found[how].seq:
                found[how] = newer
        for how in (Relation.SAME, Relation.UNSURE):
            if how in found:
                return found[how], how
        return held, Relation.APART

    def _side(self, event: Event) -> Side:
        found = self._sides.get(event.id)
        if found is None:
            found = self._sides[event.id] = Side(event, self._facts.first_write[event.id])
        return found

    def _index(self) -> None:
        """Each event's first write's place among the run's first writes, and the events of
        each record asked about that have one, in that order."""
        events = self._facts.events_by_id
        asked = self._asked
        place, last = -1, None
        for eid, eff in self._facts.first_write.items():
            if eff is not last:
                place, last = place + 1, eff
            event = events.get(eid)
            if event is not None and event.key in asked:
                self._place[eid] = place
                self._records.setdefault(event.key, []).append(event)


def lone(facts: Facts) -> Effect | None:
    """When no two events of a record wrote one resource — each event's first write
    idempotent, to a path of its own not named by the event's id — the first write of a
    record written before; else None. Then no pair of the run was shown in order: a pass needs
    one (asked when no out-of-order step was judged). The paths alone: no payload is read."""
    events = facts.events_by_id
    seen: set[tuple[str, str, str]] = set()
    records: set[str] = set()  # until one is shown
    shown: Effect | None = None
    for eid, write in facts.first_write.items():
        event = events.get(eid)
        if event is None:
            continue
        path = write.path.partition("?")[0]  # resource(), inlined: once per event of the run
        slot = (event.key, write.downstream, path)
        if slot in seen or write.method.upper() not in IDEMPOTENT:
            return None
        if eid in path and eid in _segments(path):
            return None
        seen.add(slot)
        if shown is None:
            if event.key in records:
                shown = write
            records.add(event.key)
    return shown


def idempotent(write: Effect) -> bool:
    return write.method.upper() in IDEMPOTENT


def resource(write: Effect) -> str:
    """The resource a write set: its path without the query."""
    return write.path.partition("?")[0]


def _segments(path: str) -> list[str]:
    return [unquote(s) if "%" in s else s for s in path.split("/") if s]


def _literal(segment: str) -> str:
    return f'"{segment}"' if _PLAIN.fullmatch(segment) else json.dumps(segment)


def _carries(text: str, segment: str, literal: str) -> bool:
    """Does a payload's JSON ``text`` hold ``segment`` as a whole string, or a whole number?"""
    if literal in text:
        return True
    return segment.isdigit() and re.search(rf"[:\[,]\s*{segment}\s*[,\]}}]", text) is not None
