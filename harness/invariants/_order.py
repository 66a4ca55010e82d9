"""Whether the automation could tell that one event of a record came before another.

Shared by ``per_key_order`` (a stale overwrite it could have avoided) and
``final_state_matches_baseline`` (a record left on an older event's state it could not tell
from the newest's). It could tell when the payload carries the record's sequence; or the older
event had been answered before the newer one was first sent; or the older's time (at the
source's time path) is before the newer's and — for a ledger, whose every event is owed — the
older one had been answered before the newer one was applied, so it was in hand then. Two events
of one record with the same time (Stripe's ``created`` is whole seconds) that reached the target
together could be applied either way by a correct automation; where the older carries the later
time (a recording whose lines are not in time order: a Stripe export written newest first), an
automation that keeps the newest time applies them against the harness's order, rightly.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Sequence
from datetime import datetime

from ..core import _paths
from ..core._model import Delivery, Event, Model
from ..history import History, delivery_rows
from ._facts import Facts


class Knowable:
    """``knowable(older, newer, newer_applied)``: could the automation tell their order?

    ``asked``: the events it will be asked about (their arrivals are gathered in one scan of
    the deliveries, not kept for every event of the run); not scanned when the payloads carry
    a sequence, which tells every pair.
    """

    def __init__(self, facts: Facts, asked: Collection[str]) -> None:
        self._sequenced = sequenced(facts)
        self._ledger = facts.history.info.model is Model.LEDGER
        time = time_path(facts.history)
        self._time = _paths.parse(time) if time else None
        scanned = not self._sequenced and asked
        self._arrival = _arrivals(facts.history.deliveries, asked) if scanned else {}

    def __call__(self, older: Event, newer: Event, newer_applied: float) -> bool:
        if self._sequenced:
            return True
        arrival = self._arrival
        older_answered = arrival.get(older.id, (0.0, float("inf")))[1]
        newer_sent = arrival.get(newer.id, (float("inf"), 0.0))[0]
        if older_answered <= newer_sent:
            return True
        if self._time is None or (self._ledger and older_answered > newer_applied):
            return False
        then = _instant(_paths.get(older.payload, self._time, None))
        now = _instant(_paths.get(newer.payload, self._time, None))
        if isinstance(then, float) and isinstance(now, float):
            return then < now
        if isinstance(then, datetime) and isinstance(now, datetime):
            try:
                return then < now
            except TypeError:  # a zone's time and a naive one
                return False
        return False  # no time, or a number beside an ISO time: nothing to tell


def _instant(value: object) -> float | datetime | None:
    """A payload's time as one to compare: Unix seconds or milliseconds (a number, or text as
    Slack's ``"1700000000.000100"``), an ISO 8601 time; None for any other."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _arrivals(
    deliveries: Sequence[Delivery], asked: Container[str]
) -> dict[str, tuple[float, float]]:
    """Per event asked about: when its first delivery was sent, and when its first answer came."""
    found: dict[str, tuple[float, float]] = {}
    never = (float("inf"), float("inf"))
    for eid, sent_at, at in delivery_rows(deliveries, "event_id", "sent_at", "answered_at"):
        if eid not in asked:
            continue
        sent, answered = found.get(eid, never)
        if at is not None and at < answered:
            answered = at
        found[eid] = (sent_at if sent_at < sent else sent, answered)
    return found


def sequenced(facts: Facts) -> bool:
    """Do the run's payloads carry each record's sequence (the source's sequence path)? Then
    the automation could tell every pair."""
    return bool((facts.history.info.settings.get("paths") or {}).get("seq"))


def time_path(history: History) -> str | None:
    """Where the run's payloads carry their time (the source's time path), when they do."""
    time = (history.info.settings.get("paths") or {}).get("time")
    return time if isinstance(time, str) else None


def alike(facts: Facts) -> str:
    """What two events the automation could not tell apart had in common: for a note. A
    ledger's may differ in time: the older still unanswered when the newer was applied
    (``Knowable``)."""
    time = time_path(facts.history)
    if not time:
        return "no sequence or time in the payload"
    same = f"the same time at {time} (or the older's the later)"
    if facts.history.info.model is Model.LEDGER:
        return f"{same}, or the older still unanswered when the newer was written"
    return same
