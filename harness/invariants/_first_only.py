"""Acted on its first event alone: a clean run whose only event of a type that acted was its
first, the later ones answered 2xx without a call to any downstream — and a run after it, to
the same automation, that acted on none of that type, its first neither.

An automation that deduplicates, or looks records up, by a value every event shares — a header
the sender does not send (read as "" from every delivery), a field missing from the payload —
takes each event after the first it saw for one it has handled, and answers it 2xx having done
nothing: the clean run's first acts, and nothing after it, in that run or the next. Its clean
run's silence for the others is not design (they are of a type that acts, and of records
nothing wrote), nor events held at its end (``_held``: a batch or a flush holds its *last*
events, and one holding all but the first — a throttle's trailing edge — writes in the next
run, where its first event at least acts; that stays *held*, tests/test_clean_run_lost.py).
``_expected`` owes them what their type's first event made, and ``no_lost_events`` counts them
lost, saying why (tests/gallery/shopify_dedup.py with ``DEDUP_HEADER`` a header the harness
does not send: its clean run made 1 deal of 20, and 19 events were said "their clean twins
were among the clean run's last events of their type").
"""

from __future__ import annotations

import math
from collections.abc import Collection

from ..core._model import Event, Outcome
from ..history import History

# What a clean run acting on its first event alone shows, and what to check.
_SHARED = (
    "a dedup or lookup keyed on a value every event shares (a header the sender does not send, "
    "a field missing from the payload, an id naming the webhook rather than the delivery) "
    "takes each event after the first it saw for one it has handled — check what the "
    "automation keys it on (judged by what that first event made)"
)


def first_only(clean: History, acted: Collection[Event], idle: Collection[Event]) -> bool:
    """Whether ``acted`` (a type's clean events that wrote) is one event, and ``idle`` (its
    accepted clean events that wrote nothing) of at least two records besides its own (a
    dedup per record acts once on each), sent after it, none of which made a call (naming it,
    or naming only its record)."""
    if len(acted) != 1:
        return False
    [first] = acted
    others = {e.key for e in idle} - {first.key}
    if len(others) < 2:
        return False
    ids = {e.id for e in idle}
    for f in clean.effects:
        if ids.intersection(f.event_ids) or (not f.event_ids and f.key in others):
            return False
    sent: dict[str, float] = {}
    for d in clean.deliveries:
        if d.outcome is Outcome.OK and (d.event_id in ids or d.event_id == first.id):
            sent[d.event_id] = min(sent.get(d.event_id, math.inf), d.sent_at)
    return first.id in sent and all(sent.get(i, -math.inf) > sent[first.id] for i in ids)


def first_record_only(clean: History, written: Collection[Event], idle: Collection[Event]) -> bool:
    """Whether a type's clean events, its writes naming only their record, acted on the record
    of its first event alone: ``written`` (the events of the one record written) holds the
    first of them sent, and ``idle`` (those of the other records, accepted) at least two
    records none of which any call named, each sent after it — whether that first event or a
    later one of its record made the write, the rest of the type made nothing (an Attio
    receiver deduplicating on the body's ``webhook_id``, the webhook's, the same in every
    delivery: tests/test_mend_m_first_only.py)."""
    sent: dict[str, float] = {}
    for d in clean.deliveries:
        if d.outcome is Outcome.OK:
            sent[d.event_id] = min(sent.get(d.event_id, math.inf), d.sent_at)
    firsts = [e for e in written if e.id in sent]
    if not firsts:
        return False
    return first_only(clean, [min(firsts, key=lambda e: sent[e.id])], idle)


def first_only_text(n: int) -> str:
    """Why ``n`` events whose clean twins were answered without a call, all but the first of
    their type, are owed what it made."""
    one = n == 1
    return (
        f"{'its clean twin was' if one else f'{n:,} events: their clean twins were'} answered "
        "2xx without a call to any downstream, as was every event of their type in the clean "
        "run but its first, which acted, and every one in this run, its first too: "
        f"{_SHARED}"
    )


def first_records_text(n: int) -> str:
    """Why ``n`` records whose clean twins got no write are owed what the record of their
    type's first event got."""
    return (
        f"{'its clean twin' if n == 1 else f'{n:,} records: their clean twins'} got no write, "
        "as no record of their type did in the clean run but its first event's, every event "
        f"answered 2xx: {_SHARED}"
    )
