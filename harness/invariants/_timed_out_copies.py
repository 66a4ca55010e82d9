"""Made again for the sender's retry of a delivery that timed out while the target worked on it.

A target that does its work before it answers, slower than its sender waits (Stripe's, Slack's,
Shopify's ack timeouts), is still working when the sender gives up on the delivery and sends it
again: the retry does the work a second time, the first attempt finishing too. That is not the
API failing (nothing refused, nothing answered 5xx), nor copies racing at one instant: each
retry was the sender's answer to the target's silence. ``no_duplicate_effects`` says so where
the journal shows a write made while a delivery of its event was in flight and timed out, and
the same request made again after a later delivery of the event was sent: answer first and do
the work after, and skip an event id already handled.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import NO_ANSWER_WITHIN, Delivery, Effect
from ..history import delivery_column
from ._facts import Facts, is_write, route_of
from ._open_calls import identical, of_them
from ._unshared_dedup import MAX_LOOKED_AT


@dataclass(frozen=True, slots=True)
class TimedOut:
    """``made`` while ``timed_out`` was in flight (it got no answer in time); ``again``, the
    same request, after ``retry`` was sent."""

    timed_out: Delivery
    made: Effect
    retry: Delivery
    again: Effect

    def text(self) -> str:
        """``dlv_000001 timed out while its POST /orders eff_1 was made; dlv_000001.r1 made it
        again as eff_10``."""
        return (
            f"{self.timed_out.id} timed out while its {route_of(self.made)} {self.made.id} was "
            f"made; {self.retry.id} made it again as {self.again.id}"
        )


def made_for_retries(facts: Facts, event_ids: Sequence[str]) -> dict[str, TimedOut]:
    """Of ``event_ids`` (events written more than once; the first MAX_LOOKED_AT looked at),
    those written again after the sender sent again a delivery that timed out while their
    first write was made."""
    found: dict[str, TimedOut] = {}
    errors = delivery_column(facts.history.deliveries, "error")
    if not any(e and e.startswith(NO_ANSWER_WITHIN) for e in errors):
        return found  # the common case: no delivery timed out
    looked_at = event_ids[:MAX_LOOKED_AT]
    effects = facts.effects_of(looked_at)
    deliveries = facts.deliveries_of(looked_at)
    for eid in looked_at:
        sent = sorted(deliveries[eid], key=lambda d: d.sent_at)
        timed_out = [d for d in sent if d.status is None and _timed_out(d)]
        for d in timed_out:
            case = _first_case(d, sent, [e for e in effects[eid] if is_write(e)])
            if case is not None:
                found[eid] = case
                break
    return found


def _timed_out(d: Delivery) -> bool:
    return bool(d.error and d.error.startswith(NO_ANSWER_WITHIN))


def _gave_up(d: Delivery) -> float:
    """When the sender stopped waiting for ``d``, which timed out: its error says how long it
    waited (``no answer within 0.5 s``, as drive/_deliver writes it); its send where not."""
    try:
        return d.sent_at + float((d.error or "")[len(NO_ANSWER_WITHIN) :].split()[0])
    except (ValueError, IndexError):
        return d.sent_at


def _first_case(
    timed_out: Delivery, sent: Sequence[Delivery], writes: Sequence[Effect]
) -> TimedOut | None:
    """The first write made while ``timed_out`` was in flight (before any later delivery of
    its event was sent) and made again after one was, sent once the sender had stopped waiting
    for it: a copy sent while it still waited was no answer to its silence."""
    gave_up = _gave_up(timed_out)
    if any(timed_out.sent_at < d.sent_at < gave_up for d in sent):
        return None  # a copy in flight beside it: copies racing, not a retry
    later = [d for d in sent if d.sent_at > timed_out.sent_at]
    if not later:
        return None
    retry = later[0]
    for made in writes:
        if not (timed_out.sent_at <= made.at < retry.sent_at):
            continue
        request = identical(made)
        again = next((w for w in writes if w.at >= retry.sent_at and identical(w) == request), None)
        if again is not None:
            return TimedOut(timed_out, made, retry, again)
    return None


def retries_text(found: Sequence[TimedOut], repeated: int) -> str:
    """``; all of them made again for the sender's retry …``; "" for none."""
    if not found:
        return ""
    them = of_them(len(found), repeated, MAX_LOOKED_AT)
    return (
        f"; {them} made again for the sender's retry of a "
        f"delivery that timed out while the target was still working on it (e.g. "
        f"{found[0].text()}): the target does its work before it answers, slower than the "
        "sender waits, and each retry does it again — answer 2xx first and do the work after "
        "(a queue), and skip an event id already handled, kept for as long as the sender retries"
    )
