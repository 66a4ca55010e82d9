"""Made again for the sender's retry of a delivery that timed out while the target worked on it.

A target that does its work before it answers, slower than its sender waits (Stripe's, Slack's,
Shopify's ack timeouts), is still working when the sender gives up on the delivery and sends it
again: the retry does the work a second time, the first attempt finishing too. That is not the
API failing (nothing refused, nothing answered 5xx), nor copies racing at one instant: each
retry was the sender's answer to the target's silence. ``no_duplicate_effects`` says so where
the journal shows a write made while a delivery of its event was in flight and timed out, and
the same request made again after a later delivery of the event was sent: answer first and do
the work after, and skip an event id already handled.

A sender that retries while the first request still runs (Slack: ``Provider.overlap``) leaves
the first delivery in flight, and its late answer is recorded (a 200 at 1.01 s, its ack timeout
0.5 s): such a delivery went past the sender's wait as surely as one cut off, and the copy sent
then is its retry, not a copy sent after the target had acknowledged the event. Each copy of an
event is checked, not the first alone: the claim holds only where every delivery after the
first was sent once the delivery before it had gone past the sender's wait unanswered — a
duplicate the sender sent of its own, or a retry of an error answer, is another cause.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from ..core._model import NO_ANSWER_WITHIN, Delivery, Effect
from ..core._providers import PROVIDERS
from ..history import delivery_column, delivery_rows
from ._facts import Facts, is_write, route_of
from ._open_calls import identical, of_them
from ._timing import seconds
from ._unshared_dedup import MAX_LOOKED_AT, overlap_wait


@dataclass(frozen=True, slots=True)
class TimedOut:
    """``made`` while ``timed_out`` was in flight (it got no answer in time); ``again``, the
    same request, after ``retry`` was sent. ``waited``: how long the sender waited for
    ``timed_out``; ``late``: it was answered after that, while its retry ran (a sender that
    retries while the first request still runs)."""

    timed_out: Delivery
    made: Effect
    retry: Delivery
    again: Effect
    waited: float
    late: bool = False

    def text(self) -> str:
        """``dlv_000001 timed out while its POST /orders eff_1 was made; dlv_000001.r1 made it
        again as eff_10``, or, answered late: ``dlv_000001, sent at 0 s, was answered 200 only
        at 1.01 s, past the 0.5 s ack timeout; its retry dlv_000001.r1, sent at 0.502 s while
        it still ran, made its POST /api/v2/tickets eff_1 again as eff_10 at 0.505 s``."""
        d = self.timed_out
        if self.late and d.answered_at is not None:
            return (
                f"{d.id}, sent at {seconds(d.sent_at)}, was answered {d.status} only at "
                f"{seconds(d.answered_at)}, past the {seconds(self.waited)} ack timeout; its "
                f"retry {self.retry.id}, sent at {seconds(self.retry.sent_at)} while it still "
                f"ran, made its {route_of(self.made)} {self.made.id} again as {self.again.id} "
                f"at {seconds(self.again.at)}"
            )
        return (
            f"{d.id} timed out while its {route_of(self.made)} {self.made.id} was "
            f"made; {self.retry.id} made it again as {self.again.id}"
        )


def made_for_retries(facts: Facts, event_ids: Sequence[str]) -> dict[str, TimedOut]:
    """Of ``event_ids`` (events written more than once; the first MAX_LOOKED_AT looked at),
    those written again after the sender sent again a delivery that timed out (or, where it
    retries while the first still runs, was answered late) while their first write was made,
    every copy of them such a retry."""
    found: dict[str, TimedOut] = {}
    ack = overlap_wait(facts.history.info.settings)
    if not _any_past_wait(facts, ack):
        return found  # the common case: no delivery went past the sender's wait
    looked_at = event_ids[:MAX_LOOKED_AT]
    effects = facts.effects_of(looked_at)
    deliveries = facts.deliveries_of(looked_at)
    for eid in looked_at:
        sent = sorted(deliveries[eid], key=lambda d: d.sent_at)
        if not _all_retries(sent, ack):
            continue
        for d in sent:
            wait = _wait(d, ack)
            if wait is None:
                continue
            case = _first_case(d, wait, sent, [e for e in effects[eid] if is_write(e)])
            if case is not None:
                found[eid] = case
                break
    return found


def _any_past_wait(facts: Facts, ack: float | None) -> bool:
    """Did any delivery time out, or — ``ack`` given — get its answer after ``ack``?"""
    deliveries = facts.history.deliveries
    errors = delivery_column(deliveries, "error")
    if any(e and e.startswith(NO_ANSWER_WITHIN) for e in errors):
        return True
    if ack is None:
        return False
    times = delivery_rows(deliveries, "sent_at", "answered_at")
    return any(answered is not None and answered - sent > ack for sent, answered in times)


def _wait(d: Delivery, ack: float | None) -> float | None:
    """How long the sender waited for ``d`` before it gave it up: the wait its error names
    (timed out), or ``ack`` where it was answered after that; None where it was answered in
    time (or failed otherwise)."""
    if d.error and d.error.startswith(NO_ANSWER_WITHIN):
        try:
            return float(d.error[len(NO_ANSWER_WITHIN) :].split()[0])
        except (ValueError, IndexError):
            return 0.0
    if ack is not None and d.answered_at is not None and d.answered_at - d.sent_at > ack:
        return ack
    return None


def _all_retries(sent: Sequence[Delivery], ack: float | None) -> bool:
    """Was every delivery of ``sent`` (one event's, in send order) after the first sent once
    the one before it had gone past the sender's wait, unanswered by then?"""
    for before, d in pairwise(sent):
        wait = _wait(before, ack)
        if wait is None or d.sent_at < before.sent_at + wait:
            return False
    return len(sent) > 1


def _first_case(
    timed_out: Delivery, wait: float, sent: Sequence[Delivery], writes: Sequence[Effect]
) -> TimedOut | None:
    """The first write made while ``timed_out`` was in flight (before any later delivery of
    its event was sent) and made again after one was, sent once the sender had stopped waiting
    for it (``wait`` after its send): a copy sent while it still waited was no answer to its
    silence."""
    gave_up = timed_out.sent_at + wait
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
            late = timed_out.status is not None
            return TimedOut(timed_out, made, retry, again, wait, late)
    return None


def retries_text(
    found: Sequence[TimedOut], repeated: int, settings: Mapping[str, Any] | None = None
) -> str:
    """``; all of them made again for the sender's retry …``; "" for none. ``settings``: the
    run's, naming the sender whose late-answered deliveries it retried (``TimedOut.late``)."""
    if not found:
        return ""
    them = of_them(len(found), repeated, MAX_LOOKED_AT)
    late = next((f for f in found if f.late), None)
    if late is not None:
        return f"; {them} " + _late_text(late, settings or {})
    return (
        f"; {them} made again for the sender's retry of a "
        f"delivery that timed out while the target was still working on it (e.g. "
        f"{found[0].text()}): the target does its work before it answers, slower than the "
        "sender waits, and each retry does it again — answer 2xx first and do the work after "
        "(a queue), and skip an event id already handled, kept for as long as the sender retries"
    )


def _late_text(example: TimedOut, settings: Mapping[str, Any]) -> str:
    """Made again for the retries of a sender that retries while the first request still runs
    (Slack), the deliveries answered late: what it did, and the cure in its terms."""
    profile = PROVIDERS.get(str(settings.get("provider")))
    who = profile.short_title if profile is not None else "the sender"
    headers = list(profile.retry_headers(2, "http_timeout")) if profile is not None else []
    marked = (
        f" (its retries carry {' and '.join(headers)}: a retry of an event in hand is answered "
        "2xx and not worked again)"
        if headers
        else ""
    )
    return (
        f"made again for {who}'s retry of a delivery answered after its ack timeout, sent "
        f"while the first request still ran (e.g. {example.text()}): the target does its work "
        f"before it answers, slower than {who} waits, and {who} sends the event again without "
        "waiting for that answer — each copy does the work again. Acknowledge first (2xx at "
        "once, the work after: a queue), and skip an event id already handled, kept for as "
        f"long as {who} retries{marked}"
    )
