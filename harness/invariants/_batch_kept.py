"""Which events of a batched request acted: what a clean run's requests show of a receiver that
acted on some of a request's events and left the others (``_held.batched_with``).

A batching sender (HubSpot) sends several events in one request, each recorded as a delivery
of its own with the request's times, in the request's order. Where, in every such request of
the clean run, only its first event acted, a receiver that reads only part of the array
(``events[0]``) fits, and is the likely cause. Where, in every one, the events that acted are
the first of each record in it — and the ones left alone newer events of a record written from
the same request — a receiver that gathered the request's events per record keeping the first
(``setdefault``) and dropped the newer fits instead: ``events[0]`` cannot write several
records of one request (tests/gallery/coalesced_changes.py with ``COALESCE=first``: one
request of 36 events wrote 10 contacts, and was said to read only ``events[0]``). Neither
fitting, the cause is not said.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Mapping

from ..core._model import Delivery, Outcome


class Kept(enum.StrEnum):
    """What the acting events of each request were."""

    FIRST = "first"  # its first event alone: events[0]
    FIRST_PER_RECORD = "first per record"  # the first event of each record in it


def kept(
    held: Collection[str],
    acted: Collection[str],
    key_of: Mapping[str, str],
    deliveries: Iterable[Delivery],
) -> Kept | None:
    """What acted in each request that held one of ``held`` (events left alone) beside one
    of ``acted`` (``key_of``: event id -> its record, for the events of their type): a rule
    that fits every such request, or None."""
    requests: dict[tuple[float, float | None], list[str]] = {}
    for d in deliveries:
        if d.outcome is Outcome.OK and d.event_id in key_of:
            order = requests.setdefault((d.sent_at, d.answered_at), [])
            if d.event_id not in order:
                order.append(d.event_id)
    first = per_record = True
    several_records = several_acted = False
    for order in requests.values():
        if not any(i in held for i in order):
            continue
        acting = [i for i in order if i in acted]
        firsts = {key_of[i]: i for i in reversed(order)}.values()
        first = first and acting == order[:1]
        per_record = per_record and set(acting) == set(firsts)
        several_records = several_records or len(firsts) > 1
        several_acted = several_acted or len(acting) > 1
    if per_record and several_acted:
        return Kept.FIRST_PER_RECORD
    if first and several_records:
        return Kept.FIRST
    return None
