"""How the target answered a run's deliveries, in four counts and, when it accepted none, the
answer it gave most: what the console, the pytest summary and the report say about every run.

``accepted`` 2xx, ``rejected`` 4xx, ``failed`` any other status (5xx; a 3xx is a failure to a
webhook sender too), ``unanswered`` no answer at all (could not connect, reset, timed out).
The most common answer's body is shown redacted, as everything else a run shows. When the
target accepted fewer than half of the genuine deliveries (none, or only a few), ``refusals``
holds the answer the refused ones got most and its likely cause (``invariants._refused``).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import Delivery
from ..history import History, delivery_column
from ..invariants._refused import Refusals, is_accepted, refusals
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
    """A run's deliveries by the answer they got. ``most_common`` only when none was accepted;
    ``refusals`` and ``refusal`` (the refused genuine deliveries' most common answer, its body)
    only when fewer than half of the genuine ones were."""

    deliveries: int
    accepted: int
    rejected: int
    failed: int
    unanswered: int
    most_common: CommonAnswer | None = None
    refusals: Refusals | None = None
    refusal: CommonAnswer | None = None

    @property
    def cause(self) -> str:
        """The likely cause of the refusals, in words; empty when most were accepted."""
        return self.refusals.cause if self.refusals is not None else ""

    def refused_text(self) -> str:
        """``only 3 of the 100 genuine deliveries were accepted; most common refusal: 401
        {"error": …} (97 of 100)``; empty unless the target accepted some but fewer than half."""
        found, common = self.refusals, self.refusal
        if found is None or common is None or found.nothing_accepted:
            return ""
        said = _said(common, found.genuine)
        return (
            f"the target accepted only {found.accepted:,} of the {found.genuine:,} "
            f"{found.deliveries}: the verdicts judge those; most common refusal: {said}"
        )

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
        return f"the target accepted no event; most common answer: {_said(common, self.deliveries)}"

    def line(self) -> str:
        """The texts as one line: counts, what was answered, the likely cause."""
        parts = [self.counts_text(), self.common_text(), self.refused_text()]
        if self.cause:
            parts.append(f"likely cause: {self.cause}")
        return "; ".join(p for p in parts if p)


def _said(common: CommonAnswer, of: int) -> str:
    """``401 {"error": …} (97 of 100 deliveries)``, or ``none — could not connect (…)``."""
    share = f"({common.count:,} of {of:,} deliveries)"
    if common.status is None:
        return f"none — {common.body} {share}"
    return f"{common.status} {common.body or '(empty body)'} {share}"


def delivery_answers(history: History, redactor: Redactor | None = None) -> DeliveryAnswers:
    """Count ``history``'s deliveries by answer; the most common answer when none was accepted,
    its body redacted by ``redactor`` (default: one made for this run and this process's
    environment, as a report of it would be)."""
    by_status: Counter[int | None] = Counter(delivery_column(history.deliveries, "status"))
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
    found = refusals(history)
    common = refusal = None
    if (total and not accepted) or found is not None:
        if redactor is None:
            redactor = Redactor.for_runs([history], os.environ)
        if total and not accepted:
            common = _most_common(history.deliveries, redactor)
        if found is not None:
            tampered = history.info.settings.get("tampered") or {}
            refused = [d for d in history.deliveries if d.id not in tampered]
            refusal = _most_common([d for d in refused if not is_accepted(d)], redactor)
    return DeliveryAnswers(
        total, accepted, rejected, failed, by_status[None], common, found, refusal
    )


def _most_common(deliveries: Sequence[Delivery], redactor: Redactor) -> CommonAnswer:
    """The status ``deliveries`` were answered most often, with the body it came with most
    often; when they got no answer at all, the most frequent reason none came."""
    by_status = Counter(d.status for d in deliveries)
    answered = [s for s in by_status if s is not None]
    status = max(answered, key=lambda s: by_status[s]) if answered else None
    if status is None:
        reasons = Counter(_reason(d.error, no_answer(d)) for d in deliveries)
        text = reasons.most_common(1)[0][0]
        return CommonAnswer(None, redactor.text(text), by_status[None])
    bodies = Counter(d.answer_body or "" for d in deliveries if d.status == status)
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
