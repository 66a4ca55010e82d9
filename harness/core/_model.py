"""The vocabulary of DESIGN.md as frozen dataclasses: Event, Delivery, Effect, Fault, Verdict.

Times inside a run are seconds since the run started (``t0``), measured on the
monotonic clock; the wall-clock start is kept in the History's metadata.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ._headers import LazyHeaders

JSON = Any


class Model(enum.StrEnum):
    """What the events mean, and so what "correct" means (DESIGN.md, "Judging")."""

    LEDGER = "ledger"
    REGISTER = "register"


class Outcome(enum.StrEnum):
    """How one delivery attempt ended. A timeout is indeterminate: it may have taken effect."""

    OK = "ok"  # 2xx
    REJECTED = "rejected"  # 4xx
    FAILED = "failed"  # 5xx, other statuses, connection refused/reset before an answer
    INDETERMINATE = "indeterminate"  # timed out: may or may not have been processed


class Status(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class FailureClass(enum.StrEnum):
    """The way a failure shows in production."""

    SILENT = "silent"  # loss, duplicate, corruption with no error
    LOUD = "loud"  # errors, 5xx, rejected events
    SLOW = "slow"  # latency, backlog


@dataclass(frozen=True, slots=True)
class Event:
    """One logical business event. ``seq`` is its position in the source stream."""

    id: str
    key: str
    seq: int
    type: str
    occurred_at: float
    payload: JSON
    headers: Mapping[str, str] = field(default_factory=dict)


# How a Delivery's ``error`` begins for each way an attempt ends without an answer: written by
# whoever delivers (the Deliverer, the Locust adapter), read by ``target_available``.
CONNECT_FAILED = "connection failed"  # nothing was sent: refused, no route, bad address
CONNECTION_BROKE = "connection broke before an answer"  # reset or closed: may have been read
NO_ANSWER_WITHIN = "no answer within"  # timed out: may have been processed
ANSWER_BODY_BYTES = 200
"""How much of a non-2xx answer's body a Delivery keeps: enough to tell an error page, a
stack trace's first line or a JSON error from one another, not a copy of each answer."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One HTTP attempt of one event at the target. Several deliveries of one event = duplicates.

    ``status`` None: no answer came (``error`` says why). ``answer_body``: the start of the
    answer's body (at most ANSWER_BODY_BYTES, as UTF-8 text) when the status is not 2xx —
    what the target said when it refused; None for a 2xx and for no answer.
    """

    id: str
    event_id: str
    attempt: int
    scheduled_at: float
    sent_at: float
    answered_at: float | None
    status: int | None
    outcome: Outcome
    error: str | None = None
    answer_body: str | None = None

    @property
    def latency(self) -> float | None:
        """Seconds from send to answer; None when no answer came."""
        return None if self.answered_at is None else self.answered_at - self.sent_at


@dataclass(frozen=True, slots=True)
class Effect:
    """One request the target made to a downstream, as recorded by the double.

    ``status`` is the answer it was given (0: none, the connection was reset). ``committed``
    says whether the write took effect at the downstream: False for a call refused by an
    error answer or a fault, True for an answer below 400, and True for a fault that applies
    the write and then fails the answer (commit-then-fail, the ambiguous ack). A stateful
    double's replay of an earlier answer for the same Idempotency-Key is not committed either:
    it did not change the store.
    """

    id: str
    downstream: str
    at: float
    method: str
    path: str
    headers: Mapping[str, str]
    body: str
    status: int
    event_ids: tuple[str, ...] = ()
    key: str | None = None
    committed: bool = True

    def header(self, name: str) -> str | None:
        """The value of the first header named ``name`` in any case, or None."""
        headers = self.headers
        # A loaded run's are read from their text; a dict's type is told apart first: an
        # isinstance of a Mapping subclass costs a Python call, and a run may write a million
        # times.
        if type(headers) is not dict and isinstance(headers, LazyHeaders):
            return headers.header(name)
        lname = name.lower()
        for k, v in headers.items():
            if k.lower() == lname:
                return v
        return None


OBSERVER = "observer"
"""The ``source`` of the StateRecords an observer read."""
STATE_MARK = "state"
"""The Mark of a final state taken (detail: where from, how many records)."""
STATE_UNAVAILABLE_MARK = "state-unavailable"
"""The Mark of a final state that could not be read (detail: why, and how to fix it)."""
SETTLED_MARK = "settled"
"""The Mark of the end of settling (detail: JSON ``{"ended": "quiet" | "pending" | "deadline",
"waited": s, "pending": n, "idle": s}``)."""
PACED_MARK = "paced"
"""The Mark of how a clean run was paced once all its events were sent (detail: JSON
``{"events": n, "waits": n, "capped": n, "waited": s, "after_answer": bool, "ignored_types":
[...]}``: ``capped``, the waits that reached the event deadline;
engine/_pace)."""
STOPPED_MARK = "stopped"
"""The Mark of a run that stopped sending before its schedule ended (detail: why: the target
answered nothing and called nothing for a while, ``engine/_gone``)."""
UNAVAILABLE = "unavailable"
"""The status of a run stopped that way (beside ``complete``, ``aborted`` and ``running``):
judged, not incomplete, for the exit code — target_available fails on it."""
SAMPLE_MARK = "sample"
"""The Mark of one measurement of the target during a run (detail: JSON ``{"rss_bytes": n,
"source": "pid" | "metrics"}``, engine/_sampler)."""
LOOP_LAG_MARK = "loop-lag"
"""The Mark of the harness's own event loop running late (detail: JSON ``{"lag": s}``, the
worst lateness in the quarter second the mark ends, and for an in-process app's run ``"busy":
s, "span": s``, how long the loop's thread ran or waited for a CPU in the span up to the mark;
engine/_lag): what ``ack_within`` cannot blame on the target (invariants/_lag)."""
LOOP_LAG_BUCKET = 0.25
"""Seconds one ``loop-lag`` mark covers, up to its time."""
FORWARDED_MARK = "forwarded"
"""The Mark of a call a pass-through double forwarded (detail: JSON ``{"effect": id, "status":
the real API's status, "body": its first 200 bytes, secrets redacted}``, and ``"error"`` when it
could not be reached)."""
ISSUED_MARK = "issued"
"""The Mark of a creation a double answered with an id it made up (detail: JSON ``{"effect":
id, "id": the id}``): what lets a later call naming that id (``DELETE /invoices/ds_3``, a
subscription's body carrying the customer's id) be read against the creation it answers
(invariants/_undone)."""
FAULT_MARK = "fault"
"""The Mark of a call a fault window answered — refused, reset, held, failed after committing or
delayed (detail: JSON ``{"effect": id, "fault": n}``, n the fault's position among the run's
faults); what ``recovers_after_outage`` reads to know the outage met the automation."""
KEY_REPLAY_MARK = "key-replay"
"""The Mark of a write a stateful double answered with the first answer given to its
Idempotency-Key, changing nothing (detail: JSON ``{"effect": id}``): a repeat only the key
excused, which ``no_duplicate_effects`` names where no ``idempotency_key:`` says the API
honours the key."""
FAULT_MARKS = "fault_marks"
"""The run setting that says its doubles kept a FAULT_MARK for each call a fault answered
(journals written before did not: their calls are judged by their answers alone)."""
LEFT_OUT = "left_out"
"""The run setting holding the invariants its project left out (``leave_out:``), each mapped to
the project's reason: not judged, neither passed nor failed (docs/project.md#leave-out)."""
MODEL_ASSUMED = "model_assumed"
"""The run setting that says its model (ledger, register) is its built-in hazard's assumption:
the project's events declared none and no library payload knew them."""
LATE_EFFECT_MARK = "late-effect"
"""The Mark of an effect that arrived after its run's final state was taken (detail: the
effect's id); such an effect is kept in the journal but never judged."""


@dataclass(frozen=True, slots=True)
class StateRecord:
    """One record of a downstream's final state, as the run found it at its end.

    ``source`` is the stateful double's name, or ``observer``; ``collection`` the collection
    path the record is in (the observer's URL path); ``id`` its id there (for the observer, the
    value at its ``key`` path); ``body`` the record. ``event_ids`` and ``key`` attribute it to
    events and a record by tracer values, as an Effect is.
    """

    source: str
    collection: str
    id: str
    body: JSON
    event_ids: tuple[str, ...] = ()
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Fault:
    """A window in which a downstream (or the delivery side) misbehaves."""

    downstream: str
    mode: str
    start: float
    end: float
    params: Mapping[str, JSON] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What shows a verdict: ids of events, deliveries and effects, and a sentence for each."""

    lines: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    delivery_ids: tuple[str, ...] = ()
    effect_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of one invariant over one History."""

    invariant: str
    status: Status
    failure_class: FailureClass
    summary: str
    evidence: Evidence = Evidence()

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS
