"""Why a register's record went back to an older state, where the journal shows it.

A stale overwrite has a few causes an author can act on, each told apart by the deliveries and
the calls around the first one of each record:

- **an ambiguous acknowledgement**: the older event's write had already landed — the API
  committed it and answered 5xx (a timeout, a 502 after the write) — and the sender's
  redelivery made it again after the newer event's. A newest-wins check that marks a record
  only when its write is confirmed does not count the write it could not confirm
  (tests/gallery/stale_guard.py under ambiguous-commit);
- **a retry**: the older event's first delivery was refused (5xx, no answer) and the sender
  delivered it again after the newer one was written — the order any retry gives — the stale
  write made once that redelivery was sent (one made in the first delivery's own flight, a
  504 after it, is no retry's);
- **the sender's order**: the older event was first delivered after the newer was accepted;
- **a copy**: the older event was accepted before the newer's write, and the sender's copy of
  it, sent after that write, was written again (tests/gallery/arrival_wins.py,
  resurrected_subscription.py, newsletter_sync.py under duplicate-storm: a register's only — a
  ledger's first write of the older would come first);
- **together**: a delivery of each was in flight at once, and the target wrote them in the
  order it took them (tests/gallery/issue_tickets.py under simultaneous-same-record).

A record's state is kept by comparing each event's time with the time of the state the record
holds (newest wins) — counting every write that may have landed — not by the order events come.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from ..core._model import Delivery, Effect, Event
from ._facts import Facts
from ._raced_copies import overlap


class Stale(Protocol):
    """A record's first stale overwrite: ``effect`` of the older ``event`` after
    ``newer_effect`` of ``newer_event``."""

    @property
    def effect(self) -> Effect: ...
    @property
    def event(self) -> Event: ...
    @property
    def newer_effect(self) -> Effect: ...
    @property
    def newer_event(self) -> Event: ...


@dataclass(slots=True)
class Causes:
    """How many of a walk's first violations each cause explains, and a write that had landed
    (an example for the note)."""

    landed: int = 0
    retried: int = 0
    arrived: int = 0
    copied: int = 0
    together: int = 0
    newer_first: int = 0  # of a ledger's ``together``, those whose newer event was sent first
    newer_answered: int = 0  # the others of them whose newer was answered first
    concurrent: int = 0  # a ledger's: in flight at once, neither accepted before the write
    example: Effect | None = None


def causes_of(firsts: Sequence[Stale], facts: Facts, *, register: bool) -> Causes:
    """The cause of each of ``firsts``, the first that holds: a write that had landed (a
    register's only: a ledger judges each event's first write), a retry, the sender's order,
    or both events in hand together — for a register a delivery of each in flight at once, for
    a ledger both accepted before the newer's write (``newer_first`` counts those of them
    whose newer event's first delivery was sent before the older's, ``newer_answered`` the
    others whose newer was answered first)."""
    sent = facts.deliveries_of({e.id for v in firsts for e in (v.event, v.newer_event)})
    calls = facts.effects_of({v.event.id for v in firsts}) if register else {}
    out = Causes()
    for v in firsts:
        older, newer = sent[v.event.id], sent[v.newer_event.id]
        landed = _landed_unconfirmed(calls[v.event.id], v.effect) if register else None
        at = v.newer_effect.at
        if landed is not None:
            out.landed += 1
            out.example = out.example or landed
        elif refused_first(older, at, v.effect.at):
            out.retried += 1
        elif older and accepted_by(newer, _first_sent(older)):
            # The newer was accepted before the older was first sent: the sender's order, not
            # the target's — one worker taking them as they came writes them so.
            out.arrived += 1
        elif register and _copied(older, at, v.effect.at):
            out.copied += 1
        elif register:
            out.together += _together(older, newer, at)
        elif accepted_by(older, at) and accepted_by(newer, at):
            out.together += 1
            # Both in hand before the newer's write: where the newer was sent first, one
            # worker taking them as they came writes them so too; else the target reordered.
            if newer and older and _first_sent(newer) < _first_sent(older):
                out.newer_first += 1
            elif newer and older and _answered_first(newer, older):
                out.newer_answered += 1
        elif _together(older, newer, at):
            # Worked before answering: two requests at once, neither done before the write.
            out.concurrent += 1
    return out


def _first_sent(deliveries: Sequence[Delivery]) -> float:
    return min(d.sent_at for d in deliveries)


def _answered_first(newer: Sequence[Delivery], older: Sequence[Delivery]) -> bool:
    """Whether the newer event's first delivery, sent after the older's, was answered before
    it: a target that answers as it takes a request (an ack at once) took the newer first.
    Under load a delivery sent first may reach the target last (Locust's users each opening
    their connection: the first sent answered 0.3-0.7 s later, after the newer's)."""
    first_newer, first_older = min(newer, key=_sent), min(older, key=_sent)
    a, b = first_newer.answered_at, first_older.answered_at
    return a is not None and b is not None and a < b


def stale_causes_note(firsts: Sequence[Stale], facts: Facts) -> str:
    """``; on 3 of these records …`` for each cause found among ``firsts``, or ""."""
    found = causes_of(firsts, facts, register=True)
    ambiguous, retried, arrived, copied, together = (
        found.landed,
        found.retried,
        found.arrived,
        found.copied,
        found.together,
    )
    example = found.example
    note = ""
    if ambiguous and example is not None:
        note += (
            f"; on {ambiguous:,} of these records the older event's write had already landed — "
            f"the API committed it and answered {example.status} ({example.method.upper()} "
            f"{example.path.partition('?')[0]} {example.id}) — and the sender's redelivery made "
            "it again after the newer one's: an ambiguous acknowledgement. A newest-wins check "
            "that marks a record only once its write is confirmed does not count it: record the "
            "event's time before the write (or read the record's from the API) and skip an event "
            "older than the record's"
        )
    if retried:
        note += (
            f"; on {retried:,} of these records the target refused the older event's first "
            "delivery (5xx or no answer) and the sender delivered it again after the newer one "
            "was written — the order any retry gives: compare each event's time with the time "
            "of the state the record holds and skip an older one (newest wins)"
        )
    if arrived:
        note += (
            f"; on {arrived:,} of these records the sender delivered the older event after the "
            "newer was accepted, and the target wrote them as they came: compare each event's "
            "time with the time of the state the record holds and skip an older one (newest "
            "wins)"
        )
    if copied:
        note += (
            f"; on {copied:,} of these records the older event had been accepted before the "
            "newer one was written, and the sender's copy of it, delivered after, was written "
            "again: skip an event id already done, and compare each event's time with the time "
            "of the state the record holds (newest wins)"
        )
    if together:
        note += (
            f"; on {together:,} of these records both events reached the target together (each "
            "sent before the other was answered) and it wrote them in the order it took them, "
            "not theirs: compare each event's time with the time of the state the record holds "
            "and skip an older one (newest wins), the check and the write under one lock per "
            "record"
        )
    return note


def _together(older: Sequence[Delivery], newer: Sequence[Delivery], newer_at: float) -> bool:
    """Whether a delivery of each event was in flight at once, both sent before the newer
    event's write."""
    return any(
        a.sent_at < newer_at and b.sent_at < newer_at and overlap(a, b)
        for a in older
        for b in newer
    )


def _copied(older: Sequence[Delivery], newer_at: float, stale_at: float) -> bool:
    """Whether the older event was accepted by the newer's write and delivered again after it,
    by its stale write: the stale write a copy's."""
    return accepted_by(older, newer_at) and any(newer_at <= d.sent_at <= stale_at for d in older)


def _landed_unconfirmed(calls: Sequence[Effect], stale: Effect) -> Effect | None:
    """The older event's earlier call of the stale write's route that the API committed and
    answered 5xx (or did not answer), before ``stale``; else None."""
    for call in calls:
        if call.at >= stale.at:
            return None
        if (
            call.committed
            and (call.status >= 500 or call.status == 0)
            and (call.method, call.path) == (stale.method, stale.path)
        ):
            return call
    return None


def refused_first(deliveries: Sequence[Delivery], newer_at: float, stale_at: float) -> bool:
    """Whether the event's first delivery got no 2xx and it was delivered again by its stale
    write (``stale_at``), that first one sent before the newer event's write: a write made in
    the first one's own flight is no retry's."""
    if len(deliveries) < 2:
        return False
    first, again, *_ = sorted(deliveries, key=_sent)
    return (
        first.sent_at < newer_at
        and not (first.status and 200 <= first.status < 300)
        and again.sent_at <= stale_at
    )


def accepted_by(deliveries: Sequence[Delivery], at: float) -> bool:
    """Whether one of the event's ``deliveries`` was accepted (2xx) by ``at``."""
    return any(
        d.status and 200 <= d.status < 300 and d.answered_at is not None and d.answered_at <= at
        for d in deliveries
    )


def _sent(d: Delivery) -> float:
    return d.sent_at
