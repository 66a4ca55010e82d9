"""Duplicates from a target that does deduplicate: a record of events done that not every copy
reaches.

A receiver that keeps the event ids it handled in memory, served by a prefork server
(gunicorn's or ``uvicorn --workers 2``'s workers, each with its own set) or by several
replicas, skips a copy that lands where its first was handled and handles one that lands
elsewhere again; one whose record forgets (a cache with a time to live shorter than the
sender's retries) does the same to the copies that come late. The journal shows both halves:
an event written again by a copy sent after the target had written it and acknowledged it —
no race with the first, which had long finished — and other events delivered more than once
(each copy accepted, one sent after the write) and written once (not a creation undone and
made again: a copy that deleted its first's resource and created it anew skipped nothing;
nor an event of a batch its first copy never reached, written by a later one).
``no_duplicate_effects`` says so: "deduplicate on the event id" is what the target already
does; the cure is where it keeps what it did. Where no event's copy was skipped,
``_not_deduplicated`` tells it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress, islice, repeat
from operator import is_
from typing import Any

from ..core._model import Delivery, Effect, Outcome
from ..core._providers import PROVIDERS
from ..history import delivery_column, delivery_rows
from ._bounded_dedup import Bounded, bounded
from ._expected import expectation_of
from ._facts import Facts, is_write, plural
from ._open_calls import of_them
from ._refused import is_refusal
from ._undone import Undone
from ._within import carried_twice

# The events with a duplicate that each cause of a duplicate looks at (this module's and
# _timed_out_copies', _partial_retried's, _raced_copies', _rerun's, _marked_first's): their
# deliveries and writes are read one by one.
MAX_LOOKED_AT = 1_000


@dataclass(frozen=True, slots=True)
class Unshared:
    """``late`` (ids): events written again after a copy sent once the target had written and
    acknowledged them; ``skipped``: how many events accepted more than once were written
    once."""

    late: list[str]
    skipped: int
    # Accepted events owed a write that got none at all: a target that drops events outright
    # may have dropped a copy where it seemed to skip one.
    dropped: int = 0
    # Where the copies written again and those skipped are told apart by how many events
    # came between: a record of the last events only (``_bounded_dedup``).
    bounded: Bounded | None = None


def unshared(facts: Facts, harmful: Sequence[str], skipped: Sequence[str]) -> Unshared | None:
    """Of ``harmful`` (events with a duplicate effect, at most MAX_LOOKED_AT of them looked
    at), those written again after a late copy — where ``skipped`` other events' copies were
    (``copies_skipped``, which the caller finds once); None where either half is missing."""
    if not skipped:
        return None
    late = written_after_late_copy(facts, harmful)
    if not late:
        return None
    return Unshared(late, len(skipped), _dropped(facts), bounded(facts, late, skipped))


def _dropped(facts: Facts) -> int:
    """How many accepted events owed a write (their clean twin's, or ``expect:``) got none."""
    owed, written = expectation_of(facts).per_event, facts.first_write.keys()
    return sum(1 for eid in facts.accepted if owed.get(eid) and eid not in written)


def written_after_late_copy(facts: Facts, harmful: Sequence[str]) -> list[str]:
    """Of ``harmful`` (the first MAX_LOOKED_AT looked at), those written again after a copy
    sent once the target had written the event and acknowledged it."""
    looked_at = harmful[:MAX_LOOKED_AT]
    deliveries = facts.deliveries_of(looked_at)
    return [eid for eid in looked_at if _written_after_late_copy(facts, eid, deliveries[eid])]


def copies_skipped(facts: Facts, repeated: Collection[str] = ()) -> list[str]:
    """The events accepted more than once that were written once (up to MAX_LOOKED_AT of
    them): the target skipped their later copies. A copy whose write undid and made
    again its first's (delete, then create) skipped nothing; nor did one whose item went out
    again in its first's call (``repeated``: a bulk call carrying the event twice), nor one
    a batcher may hold (``_held_after``)."""
    sent = facts.history.deliveries
    accepted = compress(
        delivery_column(sent, "event_id"),
        map(is_, delivery_column(sent, "outcome"), repeat(Outcome.OK)),
    )
    first, second = facts.first_write, facts.second_write
    once: Iterator[str]
    if len(second) * 2 > len(first):
        # Most events written twice (a target that does not deduplicate): only the copies of
        # the few written once are counted, a million deliveries sifted by C code.
        alone = first.without(second)
        copies = Counter(filter(alone.__contains__, accepted))
        once = (e for e, n in copies.items() if n > 1)
    else:  # most written once: the first MAX_LOOKED_AT counted twice are soon found
        copies = Counter(accepted)
        written, again = first.keys(), second.keys()
        once = (e for e, n in copies.items() if n > 1 and e not in again and e in written)
    if repeated:
        once = (e for e in once if e not in repeated)
    ids = list(islice(once, MAX_LOOKED_AT))
    if facts.history.baseline is None:
        twice = carried_twice(facts, ids)
        ids = [e for e in ids if e not in twice]
    if not ids:
        return []
    made, copies_of = facts.effects_of(ids), facts.deliveries_of(ids)
    held = _held_after(facts)
    return [
        eid
        for eid, e in made.items()
        if not any(isinstance(w, Undone) for w in e) and _copy_after(e, copies_of[eid], held)
    ]


def _held_after(facts: Facts) -> float:
    """The run's last write where copies answered after it may be held rather than skipped:
    a target whose calls carry several events (a batch) that accepted fewer deliveries after
    its last call than a call of its carried — a batch not yet full, written when more come
    (Node-RED's join by count under a Locust duplicate-storm: the copies in its last batch,
    never written, were counted skipped, and the join, which deduplicates nothing, was told
    "it deduplicates, but its record … does not reach every copy"). Infinity otherwise: a
    target writing an event a call would have written a copy it held."""
    if not facts.several_events_writes:
        return math.inf  # the common case: no write of several events, no Effect made here
    writes = [w for w in facts.history.effects if is_write(w)]
    batch = max(len(w.event_ids) for w in writes)
    last = max(w.at for w in writes)
    answered = delivery_rows(facts.history.deliveries, "answered_at", "outcome")
    tail = sum(1 for at, outcome in answered if outcome is Outcome.OK and (at or 0.0) > last)
    return last if tail < batch else math.inf


def _copy_after(made: Sequence[Effect], deliveries: Sequence[Delivery], held: float) -> bool:
    """Was a copy accepted that came after the one that wrote the event — sent after its
    first write, or, where that write was made in an accepted copy's flight, sent no sooner
    than that copy (a copy at the same instant, skipped for a mark set first) — and answered
    by ``held`` (``_held_after``: later, it may wait in a batch)? Only such a copy was skipped: a
    batch's event its first copy never reached (the batch stopped at another's failed write)
    is written once by a later copy, skipping nothing."""
    writes = [w.at for w in made if is_write(w)]
    if not writes:
        return False
    first = min(writes)
    ok = Outcome.OK
    accepted = [d for d in deliveries if d.outcome is ok]
    if any(d.sent_at > first and _answered(d) <= held for d in accepted):
        return True
    writer = min(
        (d for d in accepted if d.sent_at <= first <= _answered(d)),
        key=lambda d: d.sent_at,
        default=None,
    )
    return writer is not None and any(
        d is not writer and d.sent_at >= writer.sent_at and _answered(d) <= held for d in accepted
    )


def _written_after_late_copy(facts: Facts, event_id: str, deliveries: Sequence[Delivery]) -> bool:
    """Was ``event_id`` written after a copy sent once it had been written and a delivery of
    it answered 2xx — within the ack timeout, where the sender retries while the first request
    still runs (``overlap_wait``): it took a later answer for none, and had sent the event
    again already (tests/gallery/slack_triage.py)?"""
    # Read off the columns: every duplicate of a loaded run is asked, and none made an Effect.
    made = facts.first_write.value(event_id, "at")
    again = [facts.second_write.value(event_id, "at")]
    again += [w.at for w in facts.later_writes.get(event_id, ())]
    ok = Outcome.OK
    wait = overlap_wait(facts.history.info.settings)
    acked = min(
        (
            d.answered_at
            for d in deliveries
            if d.outcome is ok
            and d.answered_at
            and (wait is None or d.answered_at - d.sent_at <= wait)
        ),
        default=None,
    )
    if acked is None:
        return False
    since = max(made, acked)
    # A copy the target refused (a 4xx: a replay past its tolerance) wrote nothing.
    taken = [d for d in deliveries if not is_refusal(d)]
    late = [d.sent_at for d in taken if d.sent_at > since]
    if not late:
        return False
    # A copy sent before the acknowledgement and still in flight explains a write of its
    # flight: a racing copy, not a late one (marked_after under Locust: a copy answered
    # "duplicate" at once, sent as its racing twin still worked, was taken for the writer).
    early = [d for d in taken if d.sent_at <= since]
    return any(at > min(late) and not _in_flight(at, early) for at in again)


def overlap_wait(settings: Mapping[str, Any]) -> float | None:
    """The ack timeout of a sender that retries while the first request still runs (its late
    answers recorded); None for any other."""
    profile = PROVIDERS.get(str(settings.get("provider")))
    ack = settings.get("ack_timeout")
    if profile is None or not profile.overlap or not isinstance(ack, int | float) or ack <= 0:
        return None
    return float(ack)


def _in_flight(at: float, deliveries: Sequence[Delivery]) -> bool:
    """Was one of ``deliveries`` sent and not yet answered at ``at``?"""
    return any(d.sent_at <= at <= _answered(d) for d in deliveries)


def _answered(d: Delivery) -> float:
    return math.inf if d.answered_at is None else d.answered_at


def unshared_text(found: Unshared | None, repeated: int) -> str:
    """``; 5 of them written again by a copy sent after …``; "" for none."""
    if found is None:
        return ""
    them = of_them(len(found.late), repeated, MAX_LOOKED_AT)
    head = (
        f"; {them} written again by a copy sent after the "
        "target had written the event and acknowledged it, while it wrote "
        f"{'at least ' if found.skipped >= MAX_LOOKED_AT else ''}"
        f"{plural(found.skipped, 'other event')} once however many copies it accepted"
    )
    if found.dropped:
        return head + (
            f", but it also dropped {plural(found.dropped, 'accepted event')} outright (no "
            "write at all: no_lost_events), so a copy written once may be one dropped, not "
            "skipped: the run cannot tell whether it deduplicates — skip an event id already "
            "handled, kept in one durable store that every worker and replica shares, for as "
            "long as the sender redelivers"
        )
    if found.bounded is not None:
        return head + found.bounded.text()
    return head + (
        ": it deduplicates, but its record of the events it handled does not reach every copy — "
        "one per process or instance (an in-memory set in each worker of a prefork server, "
        "each replica its own), one that forgets (a cache whose time to live is shorter "
        "than the sender's retries) or one that holds only the last events (a filter that "
        "compares each event with the one before it); keep the event ids in one durable store "
        "that every worker and replica shares, for as long as the sender redelivers"
    )
