"""Deliveries left unanswered during a fault window that the window did not refuse: held before
they made any call.

A delivery in flight while a downstream's fault window was open and never answered is taken as
the outage's (``recovers_after_outage``): a slow or hanging call holds the delivery that made
it, and the ones queued behind it for a connection. But a fault that answers each call at once
(a 503, a 429, a reset) holds nobody: a delivery that timed out (a connection refused or broken
is the target's process gone, not held) and made no call in its flight — none naming its
event, none naming its record, none naming nothing made while it was the one request in
flight, nor any other naming nothing (which may be its) — was never refused by the window. It
waited on something of the target's own: a handler stuck on a shared resource (a lock, a pool)
that an earlier error never released (tests/gallery/repo_lock.py: a lock taken by hand, leaked
by the first 503), or, with no error before, that its own earlier work holds (a thread pool
whose tasks wait on tasks of the same pool). ``no_lost_events`` and ``ack_within`` judge it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from ..core._model import Delivery, Fault
from ._facts import Facts, id_list, plural
from ._lag import flight_end
from ._own_calls import OwnCalls
from ._slow_acks import after_error, holds, passed_back_text, timed_out


def stuck(facts: Facts, unanswered: Iterable[tuple[Delivery, Sequence[Fault]]]) -> set[str]:
    """The ids of the deliveries of ``unanswered`` (each with the windows open in its flight)
    that timed out (held by the target: not a connection refused or broken), made no call in
    their flight, and met only windows whose fault answers at once (module docstring)."""
    held = [(d, open_then) for d, open_then in unanswered if timed_out(d)]
    if not held:
        return set()
    calls = OwnCalls(facts.effects_in_order, facts.history.deliveries)
    events = facts.events_by_id
    found = set()
    for d, open_then in held:
        if any(holds(w) for w in open_then):
            continue
        span = calls.span(d.sent_at, flight_end(d, 0.0))
        event = events.get(d.event_id)
        keys = {event.key} if event is not None else set()
        if calls.crowded(span) or any(own for _, own in calls.owned(span, {d.event_id}, keys)):
            continue
        found.add(d.id)
    return found


def stuck_note(facts: Facts, events: Mapping[str, Delivery], during: str) -> str:
    """``; 15 events whose deliveries got no answer during the fault window not judged (…;
    the first dlv_000008): …`` (``during``: which windows); "" for none."""
    if not events:
        return ""
    n, one = len(events), len(events) == 1
    ids = sorted(events, key=lambda e: facts.events_by_id[e].seq)
    first = min(events.values(), key=lambda d: d.sent_at)
    them = "it" if one else "them"
    deliveries = facts.history.deliveries
    fault = passed_back_text(deliveries, first, facts.history)
    held = (
        f"that its error path never released{fault} (a lock taken by hand), or one its own "
        "earlier work holds (a pool whose tasks wait on its own tasks) — the run cannot tell "
        "which —"
        if fault
        else "that an earlier error never released"
        if after_error(deliveries, first)
        else "that its own earlier work holds (no error came before)"
    )
    return (
        f"; {plural(n, 'event')} whose {'delivery' if one else 'deliveries'} got no answer "
        f"during {during} not judged ({id_list(ids)}; the first {first.id}): "
        f"{'it made no call' if one else 'none of them made a call'}, and the fault answered "
        "each call at once — not refused by the window but held before any call, as a handler "
        f"stuck on a shared resource (a lock, a pool) {held} holds every later delivery "
        f"(no_lost_events and ack_within judge {them})"
    )
