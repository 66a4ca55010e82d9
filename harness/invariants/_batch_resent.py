"""Made again when the sender resent a batch whole for its refused events.

A batching sender (HubSpot) delivers several events in one request, each recorded as a delivery
of its own with the request's times, and redelivers the request whole when it is answered 5xx.
A receiver that works every event of a batch and answers 5xx when some of their calls were
refused (a rate limit's 429s) has already written the others: each redelivery writes them
again, and the refused ones meet the same refusal again (tests/gallery/batch_gather.py, its
calls in one ``asyncio.gather``, under a rate-limited feed: 22 of 60 events written up to four
times, and the failure named no cause). ``no_duplicate_effects`` says so where the journal shows
an event's write made during a request of several events that was answered 5xx after calls of
other events of it were refused, and the same write made again after the request was sent
again.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import Delivery, Effect
from ..history import delivery_numbers, effect_column
from ._facts import Facts, is_write, plural, route_of
from ._open_calls import identical, of_them
from ._unshared_dedup import MAX_LOOKED_AT

_Request = tuple[float, float]  # a request's sent and answered times, shared by its deliveries


@dataclass(frozen=True, slots=True)
class Resent:
    """``made`` in ``failed``'s request (``carried`` events, ``refused``: their calls refused
    meanwhile, by status), ``again`` after ``retry``, the request sent again."""

    failed: Delivery
    made: Effect
    retry: Delivery
    again: Effect
    carried: int
    refused: Counter[int]

    def text(self) -> str:
        """``dlv_000001's request of 11 events, answered 500 after 7 calls of other events of
        it were refused (7 answered 429), made POST /activities eff_1; dlv_000001.r1 made it
        again as eff_25``."""
        statuses = ", ".join(f"{n:,} answered {s}" for s, n in self.refused.most_common())
        calls = plural(sum(self.refused.values()), "call")
        return (
            f"{self.failed.id}'s request of {self.carried:,} events, answered "
            f"{self.failed.status} after {calls} of other events of it were refused "
            f"({statuses}), made {route_of(self.made)} {self.made.id}; {self.retry.id} made it "
            f"again as {self.again.id}"
        )


def resent_batches(facts: Facts, event_ids: Sequence[str]) -> dict[str, Resent]:
    """Of ``event_ids`` (events written more than once; the first MAX_LOOKED_AT looked at),
    those written again after their batch, answered 5xx for other events' refused calls, was
    sent again."""
    found: dict[str, Resent] = {}
    carried = _failed_requests(facts.history.deliveries)
    if not carried:
        return found  # the common case: no request of several events answered 5xx
    looked_at = event_ids[:MAX_LOOKED_AT]
    deliveries = facts.deliveries_of(looked_at)
    # Only events a failed request of several carried have their writes read.
    batched = [
        eid
        for eid in looked_at
        if any(len(carried.get(_request_of(d), ())) > 1 for d in deliveries[eid])
    ]
    if not batched:
        return found
    refused = _refused_calls(facts.history.effects)
    times = [w.at for w in refused]
    effects = facts.effects_of(batched)
    for eid in batched:
        writes = [w for w in effects[eid] if is_write(w)]
        sent = sorted(deliveries[eid], key=lambda d: d.sent_at)
        for d in sent:
            others = carried.get(_request_of(d), set()) - {eid}
            if not others or d.answered_at is None:
                continue
            meanwhile = refused[bisect_left(times, d.sent_at) : bisect_right(times, d.answered_at)]
            statuses = Counter(w.status for w in meanwhile if not others.isdisjoint(w.event_ids))
            case = _again(d, sent, writes) if statuses else None
            if case is not None:
                made, retry, again = case
                found[eid] = Resent(d, made, retry, again, len(others) + 1, statuses)
                break
    return found


def _request_of(d: Delivery) -> _Request:
    return d.sent_at, -1.0 if d.answered_at is None else d.answered_at


def _refused_calls(effects: Sequence[Effect]) -> list[Effect]:
    """The calls a downstream refused (not committed, answered 4xx/5xx), in time order: read
    off the columns, an Effect made for those only."""
    committed, status = effect_column(effects, "committed"), effect_column(effects, "status")
    return [
        effects[n]
        for n, (done, answer) in enumerate(zip(committed, status, strict=True))
        if not done and answer >= 400
    ]


def _failed_requests(deliveries: Sequence[Delivery]) -> dict[_Request, set[str]]:
    """The requests of several events answered 5xx: their times -> their events. Only the 5xx
    rows are read one by one (numpy finds them: a million deliveries, few answered 5xx)."""
    import numpy as np

    rows = np.flatnonzero(np.nan_to_num(delivery_numbers(deliveries, "status")) >= 500).tolist()
    if len(rows) < 2:
        return {}
    carried: dict[_Request, set[str]] = {}
    for n in rows:
        d = deliveries[n]  # made for a 5xx row only
        if d.answered_at is not None:
            carried.setdefault((d.sent_at, d.answered_at), set()).add(d.event_id)
    return {request: found for request, found in carried.items() if len(found) > 1}


def _again(
    failed: Delivery, sent: Sequence[Delivery], writes: Sequence[Effect]
) -> tuple[Effect, Delivery, Effect] | None:
    """A write made in ``failed``'s flight, the next delivery of its event sent after that
    answer, and the same request made again once it was sent; None where there is none."""
    assert failed.answered_at is not None
    retry = next((d for d in sent if d.sent_at >= failed.answered_at), None)
    if retry is None:
        return None
    for made in writes:
        if failed.sent_at <= made.at <= failed.answered_at:
            request = identical(made)
            again = next(
                (w for w in writes if w.at >= retry.sent_at and identical(w) == request), None
            )
            if again is not None:
                return made, retry, again
    return None


def resent_text(found: Sequence[Resent], repeated: int, sender: str | None) -> str:
    """``; all of them made again when the sender resent their batch whole …``; "" for
    none."""
    if not found:
        return ""
    them = of_them(len(found), repeated, MAX_LOOKED_AT)
    who = f"the sender ({sender})" if sender else "the sender"
    return (
        f"; {them} made again when their batch was sent again whole (e.g. {found[0].text()}): "
        "the automation answers a batch 5xx when calls of some of its events are refused, and "
        f"{who} redelivers every event of it, those already written too — skip an event id "
        "whose write was made when its batch comes again (marked once the write succeeds), or "
        "answer 2xx for the batch and retry the refused calls yourself"
    )
