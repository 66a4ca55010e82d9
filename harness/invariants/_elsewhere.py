"""Writes an event's own requests made on another record's item: the id a look-up found was
another record's.

A checkout sync finds the customer's account by email, creates it where there is none, and
subscribes it: ``POST /subscriptions {"account": "ds_1"}``. With the look-up's parameter
misspelt (``?mail=``, which an API ignores, listing every account) it takes the first account
listed: every checkout after the first subscribes the *first* customer's account, and no other
account is ever made. Each subscription names only an id the double made up for the first
customer's creation, so it is taken as that record's (``_chained``); the other checkouts made
no creation of their own, nor did their clean twins — which read as events held at the end of
the clean run (``_held``), or as lost where the order changed who came first.

What the journal shows is neither: while only the event's deliveries were in flight, the
automation wrote naming an item another record's creation got, a creation (or a write) the
event lacks. That is the mark of a look-up that found the wrong item — or of an item every
record shares on purpose (one workspace all customers join), which the run cannot tell apart.
``no_lost_events`` says so, inconclusive, never a loss nor a pass.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Delivery, Effect, Event, Outcome
from ._chained import MADE_UP, record_of
from ._expected import Expectation
from ._facts import Facts, is_write
from ._own_calls import Alone
from ._requests import Request
from ._shortfalls import Short
from ._undone import issued_ids


@dataclass(frozen=True, slots=True)
class OtherRecordsWrite:
    """An event's write ``effect``, made while only its deliveries were in flight, naming
    ``item``, an id made up for record ``owner``'s creation."""

    effect: Effect
    item: str
    owner: str

    def text(self) -> str:
        """``POST /subscriptions eff_5 named ds_1, the item made for record cus_1``."""
        return (
            f"{self.effect.method.upper()} {self.effect.path.partition('?')[0]} {self.effect.id} "
            f"named {self.item}, the item made for record {self.owner}"
        )


@dataclass(frozen=True, slots=True)
class _Creation:
    request: Request
    record: str | None


def written_elsewhere(
    facts: Facts, exp: Expectation, shorts: Mapping[str, Sequence[Short]]
) -> dict[str, OtherRecordsWrite]:
    """Those events of ``shorts`` (event id -> what it lacks) whose accepted deliveries, while
    no other event's request was in flight, saw a write naming an item a double made up for
    another record's creation, where the event lacks that creation or that write: event id ->
    the first such write."""
    wanted = {
        eid: {s.request for s in short if s.request is not None}
        for eid, short in shorts.items()
        if any(s.request is not None for s in short)
    }
    issued = issued_ids(facts.recorded.marks) if wanted else {}
    if not issued:
        return {}
    creations = _creations(facts, exp, issued)
    events = facts.events_by_id
    # As recorded (before a record's single event is taken as the author of what names it): a
    # write naming an event by its own values is that event's, not the one in flight (a late
    # write of another event's work, a batch-mate's).
    effects = sorted(facts.recorded.effects, key=_at)
    ats = [e.at for e in effects]
    flights: Alone | None = None
    out: dict[str, OtherRecordsWrite] = {}
    for eid, deliveries in facts.deliveries_of(list(wanted)).items():
        event = events[eid]
        for w in _in_flights(effects, ats, deliveries):
            if not is_write(w) or w.event_ids or w.key == event.key:
                continue
            found = _elsewhere(w, event, wanted[eid], creations, exp)
            if found is None:
                continue
            flights = flights or Alone(facts.history.deliveries)
            if flights.in_flight(w.at) <= _own_in_flight(deliveries, w.at):
                out[eid] = found
                break
    return out


def _at(effect: Effect) -> float:
    return effect.at


def _in_flights(
    effects: Sequence[Effect], ats: Sequence[float], deliveries: Sequence[Delivery]
) -> list[Effect]:
    """The effects made while one of ``deliveries`` (accepted) was in flight, in time order."""
    seen: dict[int, Effect] = {}
    for d in deliveries:
        if d.outcome is Outcome.OK and d.answered_at is not None:
            lo = bisect.bisect_left(ats, d.sent_at)
            for n in range(lo, bisect.bisect_right(ats, d.answered_at)):
                seen[n] = effects[n]
    return [seen[n] for n in sorted(seen)]


def _own_in_flight(deliveries: Sequence[Delivery], at: float) -> int:
    """How many distinct requests of ``deliveries`` were in flight at ``at`` (``Alone``'s
    count: sent by then, not answered before)."""
    return len(
        {
            (d.sent_at, d.answered_at)
            for d in deliveries
            if d.sent_at <= at and (d.answered_at is None or d.answered_at >= at)
        }
    )


def _elsewhere(
    w: Effect,
    event: Event,
    lacks: Collection[Request],
    creations: Mapping[str, _Creation],
    exp: Expectation,
) -> OtherRecordsWrite | None:
    """``w`` as a write naming an item made for another record's creation, where ``event``
    lacks that creation or ``w``'s request; else None."""
    for item in MADE_UP.findall(w.path + " " + w.body):
        made = creations.get(item)
        if made is None or made.record is None or made.record == event.key:
            continue
        if made.request in lacks or exp.routes.of(w) in lacks:
            return OtherRecordsWrite(w, item, made.record)
    return None


def _creations(facts: Facts, exp: Expectation, issued: Mapping[str, str]) -> dict[str, _Creation]:
    """Made-up id -> the creation it was made for: its request and its record (None where it
    names none, or several). Ids two doubles made up alike are left out."""
    events = facts.events_by_id
    out: dict[str, _Creation] = {}
    twice: set[str] = set()
    for e in facts.recorded.effects:
        item = issued.get(e.id)
        if item is None:
            continue
        if item in out:
            twice.add(item)
        out[item] = _Creation(exp.routes.of(e), record_of(e, events))
    for item in twice:
        del out[item]
    return out


def elsewhere_text(found: Mapping[str, OtherRecordsWrite], subject: str) -> str:
    """Why the events of ``found`` (``subject``: ``they``, ``2 of them``) are not called lost,
    and what to check."""
    first = next(iter(found.values()))
    one = subject == "it"
    return (
        f"{subject} wrote, while no other event's request was in flight, naming an item made "
        f"for another record in place of what {'it lacks' if one else 'they lack'} "
        f"({first.text()}): a look-up that found another record's item (a query parameter "
        "the API ignores and so lists everything, the first of a list taken), or an item "
        "every record shares on purpose — which the run cannot tell apart. Check the look-up "
        "the automation makes before that write (docs/invariants.md, no_lost_events, "
        "*Written on another record's item*)"
    )
