"""Late behind a hung call: deliveries that waited their turn while the target waited on a
downstream's held call for an earlier one.

A receiver that calls a downstream inline has as many deliveries in hand as it has workers
(gunicorn's sync workers, a Flask dev server, a Node-RED flow's http request node): when the
downstream takes the call and answers nothing — a ``timeout`` fault's hold, a ``slow`` one's
latency — and the client gives it no timeout, every worker sits in such a call, and the
deliveries sent meanwhile wait in the listen queue. They make no call of their own while they
wait, so nothing names them as waiting on the fault (``_slow_acks.waits``); they were sent while
earlier ones were unanswered, which a compressed run's pace does too — but ``--time-scale 1``
cures nothing here: the hold is real seconds. A late delivery is **behind** a held call when it
was sent while a delivery of another event, sent no later, was waiting on a call the fault held
(from the call's arrival for the fault's hold, or until that delivery was answered if sooner),
that wait lasted until the late one was due (its budget after it was sent; for a refusal, until
its sender stopped waiting), and the target made no call at all from then until that wait or
its own ended: it was taken up (the held calls themselves do not count: a worker taking one up
is how it got stuck, so a delivery sent a moment before the call reached the downstream is
behind it too). One sent a moment before the hold let go, and late after it, was late for
something else.
A target that went on calling meanwhile (a thread per request, each in a call of its own) was
not stuck behind the hold, and its late answers are not explained by it.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Delivery
from ._facts import Facts
from ._lag import flight_end
from ._open_calls import held_for
from ._slow_acks import Waited, holds, what


@dataclass(frozen=True, slots=True)
class Behind:
    """A late delivery sent while ``ahead`` waited on ``waited``'s held call."""

    ahead: Delivery
    waited: Waited

    def witness(self) -> str:
        """``; sent while dlv_000003 waited on api's timeout fault holding its call POST
        /payouts eff_3``."""
        f, call = self.waited.fault, self.waited.calls[0]
        return (
            f"; sent while {self.ahead.id} waited on {f.downstream}'s {f.mode} fault holding "
            f"its call {call.method.upper()} {call.path} {call.id}"
        )


def behind(
    facts: Facts, over: Sequence[Delivery], waited: Mapping[str, Waited], budget: float
) -> dict[str, Behind]:
    """Delivery id -> the held call it queued behind, for the deliveries of ``over`` no fault
    answered a call of (not in ``waited``) that were sent while another event's delivery
    waited on a held call, with no call made meanwhile."""
    spans: list[tuple[float, float, Delivery, Waited]] = []
    for d in over:
        w = waited.get(d.id)
        if w is None or not holds(w.fault):
            continue
        end = w.calls[0].at + held_for(w.fault)
        if d.answered_at is not None:
            end = min(end, d.answered_at)
        spans.append((d.sent_at, end, d, w))
    if not spans:
        return {}
    spans.sort(key=_start)
    # The held calls themselves are no work going on: a worker taking one up is how it got
    # stuck (a delivery sent just before the hold began is behind it too).
    held = {w.calls[0].id for _, _, _, w in spans}
    calls = [e.at for e in facts.effects_in_order if e.id not in held]
    # The late deliveries by time, swept once: the spans begun by each are pushed on a heap by
    # their start, the latest on top, and those ended by then dropped from the top for good (a
    # later delivery is later still). The top is then the nearest span ahead of it still open:
    # one long hold under thousands of short ones costs no rescan of the short ones (it did:
    # quadratic, 2.2 CPU-s at 8,000 deliveries a millisecond apart under a 30 s hold).
    late = sorted((d for d in over if d.id not in waited), key=_sent)
    open_spans: list[tuple[float, int]] = []  # (-start, -index in spans): the latest on top
    nxt = 0
    found: dict[str, Behind] = {}
    for d in late:
        while nxt < len(spans) and spans[nxt][0] <= d.sent_at:
            heapq.heappush(open_spans, (-spans[nxt][0], -nxt))
            nxt += 1
        ahead = _ahead(spans, open_spans, d)
        # The hold must have lasted until it was due (its budget; a refusal's, its sender's
        # wait): one sent just before the hold let go and late after it was late for
        # something else.
        due = d.sent_at + budget if budget > 0 else flight_end(d, 0.0)
        if ahead is None or ahead[1] < due:
            continue
        end, w = ahead[1], ahead[3]
        until = min(end, flight_end(d, budget))
        if bisect.bisect_left(calls, d.sent_at) == bisect.bisect_right(calls, until):
            found[d.id] = Behind(ahead[2], w)
    # In the order given, as the first one found is the one a summary names.
    return {d.id: found[d.id] for d in over if d.id in found}


def _ahead(
    spans: Sequence[tuple[float, float, Delivery, Waited]],
    open_spans: list[tuple[float, int]],
    d: Delivery,
) -> tuple[float, float, Delivery, Waited] | None:
    """The latest begun of the open spans (``open_spans``, a heap) of another event than
    ``d``'s, or None; those of its own event, a few copies at most, put back."""
    mine: list[tuple[float, int]] = []
    found = None
    while open_spans:
        top = open_spans[0]
        span = spans[-top[1]]
        if span[1] <= d.sent_at:
            heapq.heappop(open_spans)  # ended: no later delivery finds it open
            continue
        if span[2].event_id != d.event_id:
            found = span
            break
        mine.append(heapq.heappop(open_spans))
    for kept in mine:
        heapq.heappush(open_spans, kept)
    return found


def behind_text(found: Mapping[str, Behind]) -> str:
    """``26 of them were sent while earlier deliveries waited on api's held calls …``; "" for
    none."""
    if not found:
        return ""
    first = next(iter(found.values())).waited.fault
    n = len(found)
    return (
        f"{n:,} of them {'was' if n == 1 else 'were'} sent while earlier deliveries waited on "
        f"{first.downstream}'s {what(first)}, and waited their turn behind them: a hold is "
        "real seconds, so --time-scale 1 would wait as long — give the call a timeout and "
        "acknowledge before it (a queue), so that a hung API holds neither the answer nor the "
        "deliveries after it"
    )


def _start(span: tuple[float, float, Delivery, Waited]) -> float:
    return span[0]


def _sent(d: Delivery) -> float:
    return d.sent_at
