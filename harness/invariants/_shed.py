"""Load shed: 503 answers a target gave at once while it was still working off what it had
accepted — a bounded queue or pool refusing more when full, on purpose, not a crash.

tests/gallery/worker_pool.py with ``WHEN_FULL=refuse`` answers 503 (with ``Retry-After``) to
each checkout its full queue cannot hold; under a burst it refused 268 of 300, each in about
10 ms, while its workers made the accepted ones' calls for most of a second after. The refusal
box called that "the automation crashed (5xx)" and ``no_server_errors`` named no cause. The
journal shows the three things that tell shedding from a crash: the answer is 503; it came
about as quick as the target's acceptances, with no call of the refused events in their flight
(it refused without working); and the target made calls for events it had accepted after its
first refusal (it was busy, not broken). The History keeps no answer headers, so the
``Retry-After`` itself is not seen; the cause says what is. A 5xx is still a 5xx to the sender
— ``no_server_errors`` counts it — and whether the event comes back is the sender's to decide
(``_sender``): the cause says whether it retries, and whether this run sent its retries.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core._model import Delivery, Outcome
from ..history import History
from ._facts import plural
from ._sender import Redelivery, sender_of

SHED_STATUS = 503
# A refusal this many times as slow as the median acceptance, or quicker, did no work: both
# are a request read and answered, and a loaded machine jitters either (measured 11 ms and
# 15 ms on worker_pool's burst).
_QUICK = 2.0


@dataclass(frozen=True, slots=True)
class Shed:
    """``refused``: the 503 answers; ``p50`` their median latency and ``accepted_p50`` that of
    the acceptances (seconds); ``working``: the accepted events with a call made after the
    first 503."""

    refused: int
    p50: float
    accepted_p50: float
    working: int


def shed_load(history: History, deliveries: Sequence[Delivery]) -> Shed | None:
    """Whether most of ``deliveries`` (refused ones) were load shed: answered 503 no slower
    than the run's acceptances, without a call of their own events in their flight, while the
    target still made calls for events it had accepted. None otherwise."""
    shed = [d for d in deliveries if d.status == SHED_STATUS and d.answered_at is not None]
    if len(shed) * 2 <= len(deliveries):
        return None  # before the run's deliveries are read: most failed runs end here
    accepted = [
        d for d in history.deliveries if d.outcome is Outcome.OK and d.answered_at is not None
    ]
    if not accepted:
        return None
    p50 = statistics.median(_latency(d) for d in shed)
    accepted_p50 = statistics.median(_latency(d) for d in accepted)
    if p50 > _QUICK * accepted_p50:
        return None  # it worked on them before refusing: a failure, not a full queue
    flights: dict[str, list[Delivery]] = {}
    for d in shed:
        flights.setdefault(d.event_id, []).append(d)
    taken = {d.event_id for d in accepted}
    first = min(_answered(d) for d in shed)
    working: set[str] = set()
    worked_on = 0
    for e in history.effects:
        for eid in e.event_ids:
            if eid in taken and e.at >= first:
                working.add(eid)
            if any(d.sent_at <= e.at <= _answered(d) for d in flights.get(eid, ())):
                worked_on += 1
    if not working or worked_on * 2 > len(shed):
        return None
    return Shed(len(shed), p50, accepted_p50, len(working))


def shed_cause(settings: Mapping[str, Any], found: Shed) -> tuple[str, str]:
    """The cause of load shed in words, and in a few."""
    return (
        f"the automation answered {SHED_STATUS} at once ({plural(found.refused, 'answer')}, "
        f"median {_ms(found.p50)} beside its acceptances' {_ms(found.accepted_p50)}, without a "
        "call for the refused events) while it was still working off "
        f"events it had accepted (calls for {plural(found.working, 'accepted event')} after "
        "its first refusal): it sheds load when full — a bounded queue or pool refusing more, "
        f"deliberate backpressure, not a crash — and leaves each refused event to its sender: "
        f"{_sender_text(settings, found.refused)}",
        f"{SHED_STATUS} when full (load shed)",
    )


def _sender_text(settings: Mapping[str, Any], refused: int) -> str:
    """Whether the sender brings the refused events back, and whether this run saw it."""
    sender = sender_of(settings)
    events = "these events" if refused != 1 else "this event"
    if sender.redelivery is Redelivery.NEVER:
        return (
            f"{sender.name} does not redeliver what the target refuses, so {events} are lost "
            "to it unless redelivered by hand — keep what the pool cannot take yet (a durable "
            "queue) and answer 2xx"
        )
    if not sender.retries:
        return (
            f"{sender.name} redelivers them only if it retries (docs/providers.md), and this run "
            f"sent no retry: {events} are lost unless redelivered"
        )
    if not sender.sent:
        return (
            f"{sender.name} redelivers what is answered 5xx (up to {sender.schedule} retries, "
            f"docs/providers.md), but this run sent none of them (a load test never does): "
            f"{events} are lost unless redelivered — to see them taken, run a scenario of your "
            f"own with the provider's retries (provider: {{name: {sender.provider}, retries: "
            f"{sender.schedule}}}) with `harness run`"
        )
    sent = plural(sender.sent, "retry", "retries")
    return f"{sender.name} redelivers what is answered 5xx; this run sent {sent} of it"


def _latency(d: Delivery) -> float:
    return _answered(d) - d.sent_at


def _answered(d: Delivery) -> float:
    return math.inf if d.answered_at is None else d.answered_at


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"
