"""Made again before the first was answered: repeats whose first call the double still held.

A fault that delays its answer (``slow``: ``latency`` less ``jitter``; ``timeout`` and
``commit-then-fail`` with ``then: timeout``: ``hold``) keeps each call it answers open at least
that long. An event's write made again within that time, to the same request, was no retry of a
call that failed: whatever made it did not wait for the first one's answer. A job queue whose
lease (SQS's visibility timeout, BullMQ's lock — n8n's stalled jobs —, Celery's
``visibility_timeout`` under ``acks_late``, a Sidekiq or Oban reaper) ran out while its
worker's call was still open hands the job to another worker that way; so does a client
timeout shorter than the call. ``no_duplicate_effects`` says so where the journal shows it: the
cure is the lease or the timeout (or a key the API honours), not deduplicating deliveries. Not
where a delivery of the event was sent between the two writes: the second may be that
delivery's own work (a sender retrying at its ack timeout while the first still ran), which
deduplicating deliveries does cure.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import Effect, Fault
from ._facts import Facts
from ._fault_calls import FaultCalls


@dataclass(frozen=True, slots=True)
class Open:
    """``again``, a write made ``after`` s after ``first`` (the same request), which the double
    held at least ``held`` s under ``fault``."""

    first: Effect
    again: Effect
    held: float
    fault: Fault

    @property
    def after(self) -> float:
        return self.again.at - self.first.at

    def text(self) -> str:
        """``eff_5 came 1.0 s after eff_4, which the api slow fault held 2.1 s or more``."""
        return (
            f"{self.again.id} came {self.after:.1f} s after {self.first.id}, which the "
            f"{self.fault.downstream} {self.fault.mode} fault held {self.held:.1f} s or more"
        )


def held_for(fault: Fault) -> float:
    """The least time ``fault`` keeps a call it answers open (0: it answers at once)."""
    p = fault.params
    if fault.mode == "slow":
        return max(0.0, _number(p.get("latency"), 1.0) - _number(p.get("jitter"), 0.0))
    if fault.mode == "timeout" or (fault.mode == "commit-then-fail" and p.get("then") == "timeout"):
        return _number(p.get("hold"), 30.0)
    return 0.0


def _number(value: object, default: float) -> float:
    return float(value) if isinstance(value, int | float) else default


def made_while_open(facts: Facts, event_ids: Sequence[str]) -> dict[str, Open]:
    """Of ``event_ids`` (events written more than once), those with a write made while an
    earlier write of the same request was still held by a fault and no delivery of the event
    was sent in between (a redelivery's own work is no job run twice), each with the first
    such write."""
    if not facts.history.faults or not event_ids:
        return {}
    calls = FaultCalls(facts.history)
    deliveries = facts.deliveries_of(event_ids)
    found = {}
    for eid in event_ids:
        sent = sorted(d.sent_at for d in deliveries[eid])
        made = _first_open(calls, facts.writes_of(eid), sent)
        if made is not None:
            found[eid] = made
    return found


def identical(write: Effect) -> tuple[str, str, str, str]:
    """What makes two writes the same request, body and all: two lines of one invoice posted
    at once are no repeat (only an identical write is a duplicate)."""
    return (write.downstream, write.method.upper(), write.path, write.body)


def _first_open(calls: FaultCalls, writes: Sequence[Effect], sent: Sequence[float]) -> Open | None:
    """The first of one event's ``writes`` (in time order) made while an earlier write of the
    same request and body was still held, with no delivery ``sent`` (times, in order) between
    them."""
    held: list[tuple[Effect, float, Fault]] = []
    for w in writes:
        # Those answered by now dropped: a runaway's thousands of writes stay linear.
        held = [h for h in held if w.at < h[0].at + h[1]]
        request = identical(w)
        for first, hold, fault in held:
            if identical(first) != request:
                continue
            redelivered = bisect.bisect_right(sent, w.at) > bisect.bisect_right(sent, first.at)
            if not redelivered:
                return Open(first, w, hold, fault)
        for fault in calls.answering(w):
            hold = held_for(fault)
            if hold > 0:
                held.append((w, hold, fault))
    return None


def share(count: int, repeated: int) -> str:
    """``all`` where ``count`` is every one of the ``repeated``, else the count."""
    return "all" if count == repeated else f"{count:,}"


def of_them(count: int, repeated: int, looked_at: int) -> str:
    """``all of them``, ``5 of them``, or — where a cause was read over the first
    ``looked_at`` of the ``repeated`` only (a failing run repeats half a million) — ``of the
    first 1,000 of them, 21``: a count that does not pass for the run's."""
    if repeated > looked_at:
        return f"of the first {looked_at:,} of them, {count:,}"
    return f"{share(count, repeated)} of them"


def open_text(found: Sequence[Open], repeated: int) -> str:
    """``; 5 of them made again before the double had answered …``: what the repeats made
    while their first call was held open say; "" for none."""
    if not found:
        return ""
    shown = found[0]
    return (
        f"; {share(len(found), repeated)} of them made again before the double had answered "
        "the first call (e.g. "
        f"{shown.first.method.upper()} {shown.first.path} {shown.text()}): made again without "
        "waiting for the first call's answer, not a retry of one that failed — a job whose "
        "lease (visibility timeout) ran out while its call was still open, or a client timeout "
        "shorter than the call; hold or renew the lease (or the timeout) past the downstream's "
        "slowest answer, or send an Idempotency-Key made from the job or event id"
    )
