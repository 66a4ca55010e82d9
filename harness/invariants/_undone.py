"""Creations an event undid: a saga's compensation.

An automation that writes to two APIs without a transaction across them (an invoice at billing,
then a reservation at inventory) undoes the first write when the second fails: ``DELETE
/invoices/{id}``, with the id billing answered. The invoice it created then exists no more, and
counting it would be wrong both ways: an event whose invoice was undone and that answered 200
anyway did not do its work (``no_lost_events`` called it done), and an event that answered 500
after undoing it, whose retry invoiced it again, did not invoice twice (``no_duplicate_effects``
called the second invoice a duplicate).

A double marks each creation with the id it made up (``ISSUED_MARK``); a committed ``DELETE`` of
that id in the collection it was created in, made after it, undoes it where it is the creating
event's own: it names no other event, and no other event of the creation's record was being
delivered (or, with none in flight, had been sent) when it was made — a later event of the
record deleting it (an order cancelled) is that event's work, not an undoing. Both the creation
and its deletion are then judged as no write (``Undone``, which says why where a verdict lists
an event's requests that did not count), and the deletion names the creating event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from operator import attrgetter

from ..core._model import ISSUED_MARK, Effect, Event
from ..history import History, Mark, delivery_rows


@dataclass(frozen=True, slots=True)
class Undone(Effect):
    """A creation undone by its event's own ``DELETE``, or that ``DELETE``: no write of the
    event (``committed`` False); ``by``, the other of the two (``DELETE /invoices/ds_3 eff_9``).
    """

    by: str = ""

    def why(self) -> str:
        """``undone by DELETE /invoices/ds_3 eff_9``, or ``undid POST /invoices eff_4``."""
        return f"undid {self.by}" if self.method.upper() == "DELETE" else f"undone by {self.by}"


def _undone(effect: Effect, by: Effect, event_ids: tuple[str, ...]) -> Undone:
    return Undone(
        effect.id, effect.downstream, effect.at, effect.method, effect.path, effect.headers,
        effect.body, effect.status, event_ids, effect.key, False,
        f"{by.method.upper()} {by.path} {by.id}",
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Window:
    """When one delivery of an event was in flight."""

    event: str
    sent: float
    answered: float | None


def undo(history: History) -> History:
    """``history`` with each creation its own event undid, and that ``DELETE``, as ``Undone``
    (its clean run the same); ``history`` itself where there is none."""
    return rewritten(history, _pairs)


def rewritten(history: History, found: Callable[[History], Mapping[str, Effect]]) -> History:
    """``history`` with each effect of ``found(history)`` (effect id -> its stand-in) in its
    place, and its clean run the same; ``history`` itself where nothing changed."""
    baseline = history.baseline
    judged_baseline = None if baseline is None else rewritten(baseline, found)
    taken = found(history)
    if not taken and judged_baseline is baseline:
        return history
    effects = [taken.get(e.id, e) for e in history.effects] if taken else history.effects
    return replace(history, effects=effects, baseline=judged_baseline)


def _pairs(history: History) -> dict[str, Undone]:
    """Effect id -> the same as ``Undone``, for each creation its event undid and its DELETE."""
    issued = issued_ids(history.marks)
    if not issued:
        return {}
    deletes = [e for e in history.effects if e.committed and e.method.upper() == "DELETE"]
    if not deletes:
        return {}
    events = {e.id: e for e in history.events}
    deleted = {bare_path(e.path).rpartition("/")[2] for e in deletes}
    # (downstream, path of the item) -> the creation that made it, and its event
    made: dict[tuple[str, str], tuple[Effect, Event]] = {}
    for creation in history.effects:
        item = issued.get(creation.id)
        if item is None or item not in deleted or not creation.committed:
            continue
        owner = _own_event(creation, events)
        if owner is not None:
            made[(creation.downstream, f"{bare_path(creation.path)}/{item}")] = (creation, owner)
    if not made:
        return {}
    windows = _windows(history, events)
    out: dict[str, Undone] = {}
    for effect in sorted(deletes, key=attrgetter("at")):
        found = made.pop((effect.downstream, bare_path(effect.path)), None)
        if found is None:
            continue
        creation, owner = found
        if creation.at > effect.at:
            continue
        named = {i for i in effect.event_ids if i in events}
        if named - {owner.id} or not _alone(owner, effect.at, windows):
            continue
        out[creation.id] = _undone(creation, effect, creation.event_ids)
        out[effect.id] = _undone(effect, creation, (owner.id,))
    return out


def bare_path(path: str) -> str:
    """``path`` without its query string nor a trailing ``/``: how a creation's collection
    (``/customers?expand=tax``) and a DELETE of the item it made (``/customers/ds_1``) meet."""
    return path.partition("?")[0].rstrip("/")


def issued_ids(marks: Iterable[Mark]) -> dict[str, str]:
    """Effect id -> the id its double made up for it (its ISSUED_MARKs)."""
    found: dict[str, str] = {}
    for m in marks:
        if m.name != ISSUED_MARK:
            continue
        # As the double writes it; anything else (a hand-written journal) through json.
        written = _ISSUED.fullmatch(m.detail)
        if written is not None:
            found[written[1]] = written[2]
            continue
        try:
            detail = json.loads(m.detail)
        except ValueError:
            continue
        if isinstance(detail, dict):
            effect, item = detail.get("effect"), detail.get("id")
            if isinstance(effect, str) and isinstance(item, str):
                found[effect] = item
    return found


_ISSUED = re.compile(r'\{"effect": "([\w.:-]+)", "id": "([\w.:-]+)"\}')


def _own_event(creation: Effect, events: Mapping[str, Event]) -> Event | None:
    """The one event of the run ``creation`` names, or None (several, or none)."""
    ids = creation.event_ids
    if len(ids) == 1:  # the common case, without a set
        return events.get(ids[0])
    named = {i for i in ids if i in events}
    return events[named.pop()] if len(named) == 1 else None


def _windows(history: History, events: Mapping[str, Event]) -> dict[str | None, list[_Window]]:
    """Record key -> when each delivery of its events was in flight."""
    out: dict[str | None, list[_Window]] = {}
    for eid, sent, answered in delivery_rows(
        history.deliveries, "event_id", "sent_at", "answered_at"
    ):
        event = events.get(eid)
        if event is not None:
            out.setdefault(event.key, []).append(_Window(eid, sent, answered))
    return out


def _alone(owner: Event, at: float, windows: Mapping[str | None, list[_Window]]) -> bool:
    """Was ``owner`` the only event of its record being delivered at ``at`` — or, none being
    delivered then (work done after the answer), the only one sent by then?"""
    mine = windows.get(owner.key, [])
    flying = {w.event for w in mine if w.sent <= at and (w.answered is None or at <= w.answered)}
    if flying:
        return flying == {owner.id}
    return {w.event for w in mine if w.sent <= at} <= {owner.id}
