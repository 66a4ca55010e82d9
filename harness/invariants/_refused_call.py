"""A 5xx answered right after a downstream refused the delivery's own call (4xx): the
automation passed its downstream's refusal back as a server error.

A handler that calls an API and answers 500 when the API refuses the request (its
``raise_for_status()`` uncaught, or a failure answered 500 so that the sender retries) is
neither crashing nor failing after work done: its last call in the delivery's flight, one of
its own event's, was refused 400 (a reused Idempotency-Key, a body the API rejects), and the
5xx tells the sender so. A redelivery meets the same refusal, since the request is the same
(tests/gallery/split_payout.py: both transfers under the event's id as their key, the second
refused 400 on every delivery, each answered 500). Not a 429 (throttling, ``backs_off``'s), nor
a call a fault window refused (a 4xx fault is the window's, the window is told).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Delivery, Effect
from ..history import History, effect_column
from ._facts import is_write, route_of
from ._fault_calls import FaultCalls


def refused_before(d: Delivery, calls: Iterable[Effect], faults: FaultCalls) -> Effect | None:
    """The last of ``calls`` (its event's, in time order) made in ``d``'s flight that was
    refused 4xx (not 429) by the downstream's route rather than a fault window, where ``d``
    was answered 5xx and no write of the event took effect after it in the flight (a twin
    delivery in flight together may make calls of the event too: a replay of a key's first
    answer took no effect); None otherwise."""
    if d.status is None or d.status < 500 or d.answered_at is None:
        return None
    refused = None
    for e in calls:
        if not d.sent_at <= e.at <= d.answered_at:
            continue
        if 400 <= e.status < 500 and e.status != 429 and not e.committed:
            refused = e
        elif refused is not None and is_write(e):
            refused = None  # the work went on after it
    if refused is None or any(True for _ in faults.answering(refused)):
        return None
    return refused


@dataclass(frozen=True, slots=True)
class RefusedCall:
    """The refusal most 5xx answers followed: ``downstream``'s ``route`` answered ``status``,
    before ``count`` of them; ``first``, the first such call."""

    downstream: str
    route: str
    status: int
    count: int
    first: Effect


def refused_calls(
    history: History, deliveries: Sequence[Delivery], calls: Mapping[str, Sequence[Effect]]
) -> RefusedCall | None:
    """The refusal (``refused_before``) that came last in the flight of at least half of
    ``deliveries`` (answered 5xx; ``calls``: each event's effects in time order), the
    commonest; None where fewer followed one."""
    faults = FaultCalls(history)
    found: Counter[tuple[str, str, int]] = Counter()
    first: dict[tuple[str, str, int], Effect] = {}
    for d in deliveries:
        call = refused_before(d, calls.get(d.event_id, ()), faults)
        if call is None:
            continue
        kind = (call.downstream, route_of(call), call.status)
        found[kind] += 1
        if kind not in first or call.at < first[kind].at:
            first[kind] = call
    if not found:
        return None
    kind, count = found.most_common(1)[0]
    if count * 2 < len(deliveries):
        return None
    return RefusedCall(*kind, count, first[kind])


def calls_by_event(history: History, deliveries: Sequence[Delivery]) -> dict[str, list[Effect]]:
    """The effects naming each event of ``deliveries``, in time order: one scan."""
    wanted: dict[str, list[Effect]] = {d.event_id: [] for d in deliveries}
    effects = history.effects
    # By the column, in time order: only the calls naming them made (a loaded run's rows).
    for n, ids in enumerate(effect_column(effects, "event_ids")):
        named = [eid for eid in ids if eid in wanted]
        if named:
            e = effects[n]
            for eid in named:
                wanted[eid].append(e)
    for found in wanted.values():
        found.sort(key=_at)
    return wanted


def refused_call_cause(status: int, found: RefusedCall) -> tuple[str, str]:
    """The likely cause of 5xx answers that followed a downstream's refusal, in words and in a
    few."""
    call = found.first
    return (
        f"the automation answered {status} after {found.downstream} refused its call "
        f"{found.status} ({found.route}, before {found.count:,} of these answers; the first "
        f"{call.id}): it passes the refusal of its request back as a server error, not a crash "
        "— the refusal's body says why (a reused Idempotency-Key, a field the API rejects), and "
        "a redelivery meets it again: fix the request",
        f"{status} after {found.downstream} refused its call {found.status}",
    )


def _at(e: Effect) -> float:
    return e.at
