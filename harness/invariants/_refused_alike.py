"""Refusals during a fault window that the outage did not cause: the automation refused the
event's clean twin alike, where no fault was open.

A delivery in flight while a downstream's fault window was open and answered with an error is
taken as the outage's (``recovers_after_outage``; ``_deferred`` leaves it alone) — a circuit
breaker refuses without calling the downstream at all. But an automation that fails on some
events of its own (a title it cannot encode in a header: tests/gallery/issue_exports.py)
refuses them in a window as it does outside one: the outage is not their cause, and blaming it
sends the author to retries and queues for an error no retry mends. Such a refusal is told by
two facts together: no call of the delivery's own was answered by a fault (``DeliveryWindows``),
and its event's clean twin — the clean run's event of the same seq and type, sent with no fault
open — was refused too, never accepted there, with the same answer. Those are the automation's
own: ``_deferred`` judges them as any refusal outside a window. Not an event that wrote
anything: ``_deferred`` takes a write for its work done, so one that did part of it (a contact
written, the payout not: a circuit breaker the outage opened calls nothing) would be judged
nowhere; ``recovers_after_outage`` judges it by its expected effects. Nor one answered 408,
which ``_deferred`` does not judge either.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..core._model import Delivery, Outcome
from ..history import delivery_rows, event_rows
from ._facts import Facts
from ._fault_calls import DeliveryWindows


def refused_alike(facts: Facts, refused: Iterable[Delivery]) -> set[str]:
    """The ids of the deliveries of ``refused`` (answered, not 2xx, in flight while a window
    was open) that the outage did not cause (module docstring)."""
    baseline = facts.history.baseline
    if baseline is None:
        return set()
    wrote = facts.first_write
    candidates = [d for d in refused if _deferrable(d.status) and d.event_id not in wrote]
    if not candidates:
        return set()
    twin_answers = _twin_answers(facts, {d.event_id for d in candidates})
    alike = [d for d in candidates if d.status in twin_answers.get(d.event_id, ())]
    if not alike:
        return set()
    met = DeliveryWindows(facts.history, alike, facts.effects_in_order)
    return {d.id for d in alike if met.met(d) is None}


def _twin_answers(facts: Facts, wanted: set[str]) -> dict[str, set[int]]:
    """Event id (of ``wanted``) -> the answers its clean twin got, for each whose twin the
    clean run never accepted (every delivery of it answered with an error)."""
    baseline = facts.history.baseline
    assert baseline is not None
    events = facts.events_by_id
    mine = {(e.seq, e.type): e.id for i in wanted if (e := events.get(i)) is not None}
    twins = {
        eid: mine[(seq, kind)]
        for seq, kind, eid in event_rows(baseline.events, "seq", "type", "id")
        if (seq, kind) in mine
    }
    answers: dict[str, set[int]] = {}
    accepted: set[str] = set()
    for eid, status, outcome in delivery_rows(baseline.deliveries, "event_id", "status", "outcome"):
        if (own := twins.get(eid)) is None:
            continue
        if outcome is Outcome.OK:
            accepted.add(own)
        elif status is not None:
            answers.setdefault(own, set()).add(status)
    return {eid: found for eid, found in answers.items() if eid not in accepted}


def _deferrable(status: int | None) -> bool:
    """An answer ``_deferred`` judges as a refusal (429 or a 5xx: ``refused_for_now`` less no
    answer, which no twin's answer can match): a 408 left to it would be judged nowhere."""
    return status is not None and (status == 429 or status >= 500)
