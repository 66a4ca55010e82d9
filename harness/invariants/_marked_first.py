"""Events refused while their work failed, then accepted with none done: marked handled first.

A receiver that records an event id as handled before its work (``seen.add(event_id)``, then
the API calls) and answers 5xx when a call fails, so that the sender retries, takes the retry
for a duplicate and answers 200: the event's work is never done (tests/gallery/seen_first.py
under downstream-outage, ambiguous-commit). The journal shows it, of a target that works before
it answers: a delivery of the event refused (5xx or no answer), then a later one accepted (2xx)
in whose flight the event made no call at all. ``no_lost_events`` says so; it said only that the
target "answered these events without it".
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from ..core._model import Delivery, Effect
from ._deferred import refused_for_now
from ._facts import Facts
from ._open_calls import of_them
from ._unshared_dedup import MAX_LOOKED_AT


def marked_first(facts: Facts, lost: Collection[str]) -> list[str]:
    """Of ``lost`` (the first MAX_LOOKED_AT looked at), those refused first and accepted later
    by a delivery that made no call of theirs (the caller knows the target works before it
    answers: a queue's accepted delivery makes none in its flight either)."""
    looked_at = list(lost)[:MAX_LOOKED_AT]
    deliveries, effects = facts.deliveries_of(looked_at), facts.effects_of(looked_at)
    return [eid for eid in looked_at if _skipped_retry(deliveries[eid], effects[eid])]


def _skipped_retry(deliveries: Sequence[Delivery], effects: Sequence[Effect]) -> bool:
    sent = sorted(deliveries, key=lambda d: d.sent_at)
    refused = next((d for d in sent if refused_for_now(d.status)), None)
    if refused is None:
        return False
    taken = next(
        (
            d
            for d in sent
            if d.sent_at > refused.sent_at and d.status is not None and 200 <= d.status < 300
        ),
        None,
    )
    if taken is None:
        return False
    end = taken.answered_at if taken.answered_at is not None else taken.sent_at
    return not any(taken.sent_at <= e.at <= end for e in effects)


def marked_first_text(found: Sequence[str], lost: int) -> str:
    """``; all of them were refused …``; "" for none."""
    if not found:
        return ""
    them = of_them(len(found), lost, MAX_LOOKED_AT)
    return (
        f"; {them} were refused first (5xx or no answer) and then "
        "accepted (2xx) by a redelivery that made no call at all: the target marked each event "
        "handled before its work was done, and took the redelivery for a duplicate — mark an "
        "event handled only once its work is done (or in one transaction with it)"
    )
