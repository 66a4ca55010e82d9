"""Made again by a redelivery after a partial write: an attempt's first write taken, a later
one refused, the failure passed back to the sender, and its redelivery making the first again.

A handler that makes two writes per event (a customer, then its order) and answers 5xx when
the second fails, so that the sender redelivers, leaves the first standing: nothing undoes it,
and the redelivery, finding nothing, makes it again. Deduplicating deliveries by event id does
not help (the event was never done); each step finding what an earlier attempt made, or an
Idempotency-Key per event and step, does. ``no_duplicate_effects`` says so where the journal
shows the first write applied and answered 2xx, a later write of the same event refused (429,
a 5xx, or no answer), then a delivery of the event answered 5xx, and the first request made
again once a delivery of the event was sent after that answer (its redelivery).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..core._model import Delivery, Effect
from ..history import delivery_numbers
from ._deferred import refused_for_now
from ._facts import Facts, is_write, route_of
from ._idempotent import Repeats
from ._open_calls import identical, of_them
from ._taken_repeats import Keyed, key_advice, keyed_of
from ._unshared_dedup import MAX_LOOKED_AT


@dataclass(frozen=True, slots=True)
class Partial:
    """``made`` stood, ``refused`` (a later write of the same attempt) did not, ``passed_back``
    answered the failure to the sender, and ``again`` made ``made``'s request once more."""

    made: Effect
    refused: Effect
    passed_back: Delivery
    again: Effect
    keyed: Keyed = Keyed.NONE  # what the Idempotency-Keys of ``made`` and ``again`` say

    def text(self) -> str:
        """``POST /customers eff_9 made, POST /orders eff_10 refused 503, dlv_000005 answered
        500, made again as eff_27``."""
        refused = f"refused {self.refused.status}" if self.refused.status else "not answered"
        return (
            f"{route_of(self.made)} {self.made.id} made, {route_of(self.refused)} "
            f"{self.refused.id} {refused}, {self.passed_back.id} answered "
            f"{self.passed_back.status}, made again as {self.again.id}"
        )


def partial_then_retried(facts: Facts, event_ids: Sequence[str]) -> dict[str, Partial]:
    """Of ``event_ids`` (events written more than once; the first MAX_LOOKED_AT looked at),
    those whose repeat came after a partial write passed back to the sender, each with its
    first such case."""
    found: dict[str, Partial] = {}
    if not (delivery_numbers(facts.history.deliveries, "status") >= 500).any():
        return found  # the common case: no failure passed back to the sender
    looked_at = event_ids[:MAX_LOOKED_AT]
    repeats = Repeats(facts.history.info.settings)
    effects = facts.effects_of(looked_at)
    deliveries = facts.deliveries_of(looked_at)
    for eid in looked_at:
        failed = [
            (d.answered_at, d)
            for d in deliveries[eid]
            if d.status and d.status >= 500 and d.answered_at is not None
        ]
        if failed:
            sent = [d.sent_at for d in deliveries[eid]]
            partial = _first_partial(effects[eid], failed, sent)
            if partial is not None:
                keyed = keyed_of(partial.made, partial.again, repeats)
                found[eid] = replace(partial, keyed=keyed)
    return found


def _first_partial(
    effects: Sequence[Effect], failed: Sequence[tuple[float, Delivery]], sent: Sequence[float]
) -> Partial | None:
    """The first write of ``effects`` (one event's, in time order) that stood, was followed by
    another write refused before one of ``failed`` (deliveries by answer time) answered 5xx,
    and was made again once a delivery of the event was ``sent`` after that answer — the
    redelivery; a copy sent before the answer was no answer to it."""
    for i, made in enumerate(effects):
        if not (is_write(made) and 200 <= made.status < 300):
            continue
        request = identical(made)
        for refused in effects[i + 1 :]:
            if refused.committed or not refused_for_now(refused.status):
                continue
            if identical(refused) == request:
                continue
            answered = next(((at, d) for at, d in failed if at >= refused.at), None)
            if answered is None:
                break
            at, passed_back = answered
            redelivered = min((t for t in sent if t > at), default=None)
            again = (
                None
                if redelivered is None
                else next(
                    (e for e in effects if e.at >= redelivered and identical(e) == request), None
                )
            )
            if again is not None:
                return Partial(made, refused, passed_back, again)
            break
    return None


def partial_text(found: Sequence[Partial], repeated: int) -> str:
    """``; all of them made again by the sender's redelivery after a partial write …``; ""
    for none."""
    if not found:
        return ""
    them = of_them(len(found), repeated, MAX_LOOKED_AT)
    return (
        f"; {them} made again by the sender's redelivery after a "
        f"partial write (e.g. {found[0].text()}): an attempt made its first write, a later "
        "write of the same attempt was refused and the target answered 5xx so that the sender "
        "would redeliver, and the redelivery made the first write again — nothing undid it nor "
        "found it again; have each step find what an earlier attempt of the event made"
        + (
            " (or send an Idempotency-Key made from the event id and the step, which the API "
            "honours), or undo the first write before answering 5xx"
            if all(p.keyed is Keyed.NONE for p in found)
            else ", or undo the first write before answering 5xx; "
            + key_advice([(p.keyed, p.made.downstream) for p in found])
        )
    )
