"""Held at the end: a clean run's last events of a type that acted on all its others, left
without effect.

An automation that holds events until more come — Node-RED's ``join`` by count with no
timeout, a batcher that writes every tenth event, a flush that waits for the next event —
leaves its last events unwritten when the deliveries stop, in the clean run as in any other.
Where the clean run left alone only its last events of a type and acted on every other one,
its silence for them says where they stood, not what they are (a payload skipped on purpose):
``_expected`` does not learn it as "owed nothing" but owes them what their type's events made
(``Expectation.held``). Whether they would ever be written no run can show: where the judged
run held them last too, no event of their type acted after them; where events of their type
acted after them and they still made nothing, a batch would have taken them, but a payload the
automation skips by its content is skipped wherever it comes, and the clean run, holding them
last, could not show which of the two they are. ``no_lost_events`` says so, inconclusive, and
``recovers_after_outage`` leaves them out.

"After" is by the deliveries: an event follows another where its first accepted delivery was
sent once the other's first accepted delivery had been answered — the target had the other
first. Deliveries in flight together follow neither.

A batching sender (HubSpot) sends several events in one request, each recorded as a delivery
of its own with the request's times: events the clean run left alone that came in one request
with an event of their type that acted (``batched_with``) were in the automation's hands with
it. Held until more come, skipped by their content, or dropped by a receiver that reads only
part of the request's array (``events[0]``): the clean run cannot show which either, but the
last is the likely one, and a hazard that sends them in other requests tells.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping

from ..core._model import Delivery, Outcome


def _first_accepted(
    deliveries: Iterable[Delivery], wanted: Collection[str], tampered: Collection[str]
) -> dict[str, Delivery]:
    """Event id -> its first genuine delivery answered 2xx, for the events of ``wanted``."""
    first: dict[str, Delivery] = {}
    for d in deliveries:
        if d.outcome is not Outcome.OK or d.event_id not in wanted or d.id in tampered:
            continue
        held = first.get(d.event_id)
        if held is None or d.sent_at < held.sent_at:
            first[d.event_id] = d
    return first


def batched_with(
    ids: Collection[str],
    acted: Collection[str],
    type_of: Mapping[str, str],
    deliveries: Iterable[Delivery],
) -> set[str]:
    """Those of ``ids`` (accepted events) whose first accepted delivery went in one request
    with the first accepted delivery of an event of their type that ``acted``: sent and
    answered at the same instants, as a batch's deliveries are recorded."""
    if not ids:
        return set()
    types = {type_of[i] for i in ids}
    acting = {i for i in acted if type_of.get(i) in types}
    first = _first_accepted(deliveries, {*ids, *acting}, ())
    requests = {
        (type_of[i], d.sent_at, d.answered_at) for i in acting if (d := first.get(i)) is not None
    }
    return {
        i
        for i in ids
        if (d := first.get(i)) is not None and (type_of[i], d.sent_at, d.answered_at) in requests
    }


def followed(
    ids: Collection[str],
    acted: Collection[str],
    type_of: Mapping[str, str],
    deliveries: Iterable[Delivery],
    tampered: Collection[str] = (),
) -> set[str]:
    """Those of ``ids`` (accepted events) an event of their type that ``acted`` followed: its
    first accepted delivery sent after theirs was answered."""
    if not ids:
        return set()
    types = {type_of[i] for i in ids}
    acting = {i for i in acted if type_of.get(i) in types}
    first = _first_accepted(deliveries, {*ids, *acting}, tampered)
    latest: dict[str, float] = {}  # type -> the last first send of an event of it that acted
    for i in acting:
        d = first.get(i)
        if d is not None:
            t = type_of[i]
            latest[t] = max(latest.get(t, -math.inf), d.sent_at)
    out = set()
    for i in ids:
        d = first.get(i)
        answered = d.answered_at if d is not None and d.answered_at is not None else None
        if answered is not None and latest.get(type_of[i], -math.inf) > answered:
            out.add(i)
    return out
