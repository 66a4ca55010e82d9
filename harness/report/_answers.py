"""How the target answered a run's deliveries, in four counts and, when it accepted none, the
answer it gave most: what the console, the pytest summary and the report say about every run.

``accepted`` 2xx, ``rejected`` 4xx, ``failed`` any other status (5xx; a 3xx is a failure to a
webhook sender too), ``unanswered`` no answer at all (could not connect, reset, timed out).
The most common answer's body is shown redacted, as everything else a run shows.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass

from ..history import History
from ..invariants.target_available import no_answer
from ._redact import Redactor

SHOWN_BODY = 80  # characters of an answer's body in a line of text


@dataclass(frozen=True, slots=True)
class CommonAnswer:
    """The answer the target gave most often: its status (None: no answer came), the start of
    the body it came with most often (redacted; for no answer, why), and how many got it."""

    status: int | None
    body: str
    count: int


@dataclass(frozen=True, slots=True)
class DeliveryAnswers:
    """A run's deliveries by the answer they got. ``most_common`` only when none was accepted."""

    deliveries: int
    accepted: int
    rejected: int
    failed: int
    unanswered: int
    most_common: CommonAnswer | None = None

    def counts_text(self) -> str:
        """``60 deliveries: 0 accepted (2xx), 0 rejected (4xx), 60 failed (5xx), 0 unanswered
        (no connection, reset, timeout)``."""
        n = self.deliveries
        return (
            f"{n:,} deliver{'y' if n == 1 else 'ies'}: {self.accepted:,} accepted (2xx), "
            f"{self.rejected:,} rejected (4xx), {self.failed:,} failed (5xx), "
            f"{self.unanswered:,} unanswered (no connection, reset, timeout)"
        )

    def common_text(self) -> str:
        """``the target accepted no event; most common answer: 500 {"error": …} (60 of 60)``;
        empty when an event was accepted or nothing was delivered."""
        common = self.most_common
        if common is None:
            return ""
        share = f"({common.count:,} of {self.deliveries:,} deliveries)"
        if common.status is None:
            said = f"none — {common.body} {share}"
        else:
            said = f"{common.status} {common.body or '(empty body)'} {share}"
        return f"the target accepted no event; most common answer: {said}"

    def line(self) -> str:
        """Both texts as one line."""
        common = self.common_text()
        return self.counts_text() + (f"; {common}" if common else "")


def delivery_answers(history: History, redactor: Redactor | None = None) -> DeliveryAnswers:
    """Count ``history``'s deliveries by answer; the most common answer when none was accepted,
    its body redacted by ``redactor`` (default: one made for this run and this process's
    environment, as a report of it would be)."""
    by_status: Counter[int | None] = Counter(d.status for d in history.deliveries)
    accepted = rejected = failed = 0
    for status, n in by_status.items():
        if status is None:
            continue
        if 200 <= status < 300:
            accepted += n
        elif 400 <= status < 500:
            rejected += n
        else:
            failed += n
    total = len(history.deliveries)
    common = None
    if total and not accepted:
        if redactor is None:
            redactor = Redactor.for_runs([history], os.environ)
        common = _most_common(history, by_status, redactor)
    return DeliveryAnswers(total, accepted, rejected, failed, by_status[None], common)


def _most_common(
    history: History, by_status: Counter[int | None], redactor: Redactor
) -> CommonAnswer:
    """The status the target answered most often, with the body it came with most often; when
    it answered nothing at all, the most frequent reason no answer came."""
    answered = [s for s in by_status if s is not None]
    status = max(answered, key=lambda s: by_status[s]) if answered else None
    if status is None:
        reasons = Counter(_reason(d.error, no_answer(d)) for d in history.deliveries)
        text = reasons.most_common(1)[0][0]
        return CommonAnswer(None, redactor.text(text), by_status[None])
    bodies = Counter(d.answer_body or "" for d in history.deliveries if d.status == status)
    body = bodies.most_common(1)[0][0]
    return CommonAnswer(status, shown_body(redactor.body(body)), by_status[status])


def _reason(error: str | None, kind: object) -> str:
    label = str(kind) if kind is not None else "no answer"
    return f"{label} ({error})" if error else label


_SPACE = re.compile(r"\s+")


def shown_body(text: str, limit: int = SHOWN_BODY) -> str:
    """An answer's body on one line, cut at ``limit`` characters."""
    flat = _SPACE.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
