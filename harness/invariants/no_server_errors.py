"""no_server_errors: the target answers its sender without server errors (loud otherwise).

A delivery answered 5xx, or whose connection failed before an answer, is a server error: the
sender sees the automation break and has to retry (or gives up). The share of such deliveries
must stay at most ``max_share``. A 429 (with Retry-After) is back-pressure, not an error, and a
timeout is slow, not loud (``ack_within`` judges it); neither counts.

Nor does a 5xx the automation answered on purpose to a sender that retries: answering 503
while its downstream is down, so that the sender redelivers later, is a common pattern and a
correct one with such a sender (Stripe, Shopify, Slack). A 5xx answer is *passed on* when the
run's sender retries (``_sender``: the run sent its retries, or its provider publishes some), a
fault window answered one of the delivery's own calls while it was in flight
(``_fault_calls.DeliveryWindows``; a batch's deliveries are one request, its answer explained by
a call of any of its events), and its event was accepted by a delivery sent after that answer
— the sender's retry of it, or a later copy of the event — or by the sender's retry sent once it
stopped waiting (Slack retries at its ack timeout while the first request still runs). A copy
sent while the 5xx was still in flight (a concurrent duplicate answered 200 as the first got
503) is no acceptance after it: the sender had not yet heard the 5xx. Those passed on are not
counted; the summary says how many, by a retry or a later copy, and ``recovers_after_outage``
judges whether their events got their effects. A 5xx to a sender that does not retry (GitHub)
or of unknown habits (no provider, a generic one), one whose event was never accepted after it,
or one without a window behind it still counts: the event is lost to the sender, or the
automation broke.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Delivery, Effect, FailureClass, Fault, Outcome, Status, Verdict
from ..core._scenario import FAULT_MODES
from ._facts import (
    MAX_WITNESSES,
    Facts,
    Witness,
    id_list,
    is_write,
    plural,
    route_of,
    timestamp,
    verdict,
)
from ._fault_calls import DeliveryWindows, FaultCalls
from ._idempotent import IDEMPOTENCY_KEY
from ._lag import flight_end, in_flight
from ._refusal_context import PlainList, plain_list, plain_list_cause
from ._refused_call import refused_before
from ._restarts import erred_while_restarting
from ._sender import Redelivery, sender_of
from ._shed import shed_cause, shed_load

NAME = "no_server_errors"
CLASS = FailureClass.LOUD
DEFAULT_MAX_SHARE = 0.0


def is_server_error(d: Delivery) -> bool:
    """5xx, or no answer because the connection failed (refused, reset) — not a timeout."""
    if d.status is not None:
        return d.status >= 500
    return d.outcome is Outcome.FAILED


def no_server_errors(facts: Facts, max_share: float = DEFAULT_MAX_SHARE) -> Verdict:
    """Fail when more than ``max_share`` of deliveries got a server error."""
    deliveries = facts.history.deliveries
    if not deliveries:
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, "no delivery was made; nothing to judge")
    errors = [d for d in deliveries if is_server_error(d)]
    read = _Read(facts, errors)
    passed = _passed_on(facts, errors, read)
    note_passed = _passed_note(facts, errors, passed)
    if passed:
        errors = [d for d in errors if d.id not in passed]
    share = len(errors) / len(deliveries)
    allowed = f"at most {_percent(max_share)} allowed"
    throttled = sum(1 for d in deliveries if d.status == 429)
    note = f"; {plural(throttled, 'delivery', 'deliveries')} throttled (429, not an error)"
    note = (note if throttled else "") + note_passed
    if share <= max_share:
        found = (
            f"{plural(len(errors), 'server error')} in {_of(deliveries)} ({_percent(share)}, "
            f"{allowed})"
            if errors
            else f"no server error {'counted ' if passed else ''}in {_of(deliveries)}"
        )
        return verdict(NAME, Status.PASS, CLASS, found + note)
    kinds = Counter(_kind(d) for d in errors)
    by_kind = ", ".join(f"{n:,} {k}" for k, n in kinds.most_common())
    copies = _copies_of_accepted(facts, errors, read)
    summary = (
        f"{len(errors):,} of {_of(deliveries)} ({_percent(share)}) got a server error: "
        f"{by_kind}; {allowed}{note}{erred_while_restarting(facts.history, errors)}"
        f"{_copies_note(facts, copies, errors)}"
        f"{_unretried_note(facts, errors, read)}{_listed_note(facts, errors, read)}"
        f"{_shed_note(facts, errors)}{_refused_note(facts, errors, copies)}"
        f"{_written_note(facts, errors, copies)}"
    )
    return verdict(NAME, Status.FAIL, CLASS, summary, _witnesses(facts, errors, copies))


class _Read:
    """What both explanations of the server errors read (passed on to a retrying sender; a
    copy of an event already taken), built once over all of them when first asked: their
    events' accepted deliveries, and the fault windows that met their own calls (None: the run
    had no fault window). Over more deliveries than one asks of, each answers the same."""

    def __init__(self, facts: Facts, errors: Sequence[Delivery]) -> None:
        self._facts, self._errors = facts, errors

    @functools.cached_property
    def accepted(self) -> dict[str, list[Delivery]]:
        return _accepted_of(self._facts, {d.event_id for d in self._errors})

    @functools.cached_property
    def windows(self) -> DeliveryWindows | None:
        history = self._facts.history
        if not any(f.mode in FAULT_MODES for f in history.faults):
            return None
        return DeliveryWindows(history, self._errors, self._facts.effects_in_order)


@dataclass(frozen=True, slots=True)
class _Taken:
    """How a server error's event was already taken: ``first``, a delivery of it accepted
    (2xx) — or, with ``call``, one that got no answer (timed out: the sender gave it up, the
    automation may have gone on) while ``call``, a write of the event, was committed."""

    first: Delivery
    call: Effect | None = None


def _copies_of_accepted(facts: Facts, errors: Sequence[Delivery], read: _Read) -> dict[str, _Taken]:
    """Delivery id -> how its event was taken before its answer: a delivery of it accepted
    (2xx), or a write of it committed after an earlier delivery of it that got no answer was
    sent (``_taken_unanswered``). The error answered a copy of an event the target had already
    taken, or was taking at that moment (a concurrent twin) — an automation whose duplicate
    check answers with an error. Not one whose own calls a fault window answered: that window
    is the error's likelier cause (the witness names it), not the copy."""
    if not errors:
        return {}
    accepted, windows = read.accepted, read.windows
    copies = {}
    unanswered: list[Delivery] = []
    for d in errors:
        if d.id in facts.tampered or (windows is not None and windows.met(d) is not None):
            continue
        heard = d.answered_at if d.answered_at is not None else d.sent_at
        found = accepted.get(d.event_id)
        if found and found[0].sent_at <= heard:
            copies[d.id] = _Taken(found[0])
        elif d.status is not None:
            unanswered.append(d)
    copies.update(_taken_unanswered(facts, unanswered))
    return copies


def _taken_unanswered(facts: Facts, errors: Sequence[Delivery]) -> dict[str, _Taken]:
    """Of ``errors`` (answered 5xx, their events accepted by no delivery before), those whose
    event an earlier delivery brought that got no answer (timed out) and whose write was
    made before the error's own delivery was sent: the sender gave the first up and retried,
    while the automation went on with it and took the event (tests/gallery/unique_insert: the
    retry hits the unique key of the first's insert, 500). The event's only write, and made
    before the error's delivery was sent: a second write, or one made while the error's
    delivery was in flight, may be that delivery's own work and the 5xx a crash after it, not
    a copy refused — one run does not tell, so no copy is claimed."""
    if not errors:
        return {}
    earlier = {
        eid: unanswered
        for eid, found in facts.deliveries_of({d.event_id for d in errors}).items()
        if (unanswered := [d for d in found if _gave_up(d)])
    }
    if not earlier:
        return {}
    writes = {
        eid: [e for e in found if is_write(e)]
        for eid, found in facts.effects_of(earlier.keys()).items()
    }
    taken = {}
    for d in errors:
        calls = writes.get(d.event_id, [])
        if len(calls) != 1 or d.answered_at is None or calls[0].at >= d.sent_at:
            continue
        call = calls[0]
        first = min(
            (u for u in earlier.get(d.event_id, ()) if u.sent_at < call.at),
            key=_sent,
            default=None,
        )
        if first is not None:
            taken[d.id] = _Taken(first, call)
    return taken


def _gave_up(d: Delivery) -> bool:
    """A delivery that got no answer in time: the sender gave it up."""
    return d.status is None and d.outcome is Outcome.INDETERMINATE


def _accepted_of(facts: Facts, wanted: set[str]) -> dict[str, list[Delivery]]:
    """Event id -> its genuine deliveries answered 2xx, in send order, for the ``wanted``."""
    tampered = facts.tampered
    accepted: dict[str, list[Delivery]] = {}
    for d in facts.history.deliveries:
        if d.outcome is Outcome.OK and d.event_id in wanted and d.id not in tampered:
            accepted.setdefault(d.event_id, []).append(d)
    for found in accepted.values():
        found.sort(key=_sent)
    return accepted


def _copies_note(facts: Facts, copies: Mapping[str, _Taken], errors: Sequence[Delivery]) -> str:
    if not copies:
        return ""
    unanswered = [t for t in copies.values() if t.call is not None]
    share = "all of them" if len(copies) == len(errors) else f"{len(copies):,} of them"
    sender = sender_of(facts.history.info.settings)
    after = (
        f"{sender.name} redelivers what is answered 5xx, and counts each as a failed delivery"
        if sender.retries
        else "the sender counts each as a failed delivery (one that retries redelivers it)"
    )
    how = "another delivery of it got accepted (2xx) before, or while it ran"
    if len(unanswered) == len(copies):
        how = _unanswered_how(unanswered)
    elif unanswered:
        how += f", or ({len(unanswered):,} of them) {_unanswered_how(unanswered)}"
    return (
        f"; {share} answered a copy of an event {how}: the automation answers a duplicate with "
        "an error (a duplicate check that raises — a unique key on the event id, say) — answer "
        f"a copy of an event it has already taken 2xx, as it answered the first: {after}"
        + (
            "; and acknowledge within the sender's timeout (the work after the answer, from a "
            "queue), so that it does not redeliver what is still being worked"
            if unanswered
            else ""
        )
    )


def _unanswered_how(taken: Sequence[_Taken]) -> str:
    """``the automation had taken: an earlier delivery of it got no answer (the sender gave it
    up and retried) while its write (POST /orders) was committed, before this one's answer``."""
    routes = sorted({route_of(t.call) for t in taken if t.call is not None})
    return (
        "the automation had taken: an earlier delivery of it got no answer (the sender gave it "
        f"up and retried) while its write ({', '.join(routes)}) was committed, before this "
        "one's answer"
    )


def _passed_on(facts: Facts, errors: Sequence[Delivery], read: _Read) -> dict[str, Delivery]:
    """Delivery id -> the delivery that accepted its event after it, for each 5xx answer
    passed on to a sender that retries: a fault window answered the delivery's own calls, and
    a delivery of its event sent after that answer was accepted (``_accepted_after``)."""
    if not errors or not sender_of(facts.history.info.settings).retries:
        return {}
    if not any(f.mode in FAULT_MODES for f in facts.history.faults):
        return {}  # no window to pass on: the calls are not read (DeliveryWindows)
    tampered = facts.tampered
    answered = [d for d in errors if d.status is not None and d.id not in tampered]
    if not answered:
        return {}
    accepted, windows = read.accepted, read.windows
    assert windows is not None  # a fault window, above
    passed = {}
    for d in answered:
        later = _accepted_after(d, accepted.get(d.event_id, ()))
        if later is not None and windows.met(d) is not None:
            passed[d.id] = later
    return passed


def _accepted_after(d: Delivery, accepted: Sequence[Delivery]) -> Delivery | None:
    """The first of its event's ``accepted`` deliveries (in send order) sent after ``d``'s
    answer, or the sender's retry of ``d`` sent after it: a sender retries once it stopped
    waiting for ``d`` — on its answer, or (Slack) at its ack timeout while ``d`` still ran. A
    copy sent while ``d`` was in flight came before the sender heard the 5xx, and says nothing
    of what it does with it."""
    heard = d.answered_at if d.answered_at is not None else d.sent_at
    return next(
        (
            a
            for a in accepted
            if a.sent_at > heard or (a.sent_at > d.sent_at and _is_retry_of(a, d))
        ),
        None,
    )


def _is_retry_of(later: Delivery, d: Delivery) -> bool:
    """Whether ``later`` is the sender's retry of ``d``'s planned delivery (``dlv_000007.r2``
    of ``dlv_000007``), not another copy of its event."""
    return later.id.split(".r")[0] == d.id.split(".r")[0]


def _passed_note(facts: Facts, errors: Sequence[Delivery], passed: Mapping[str, Delivery]) -> str:
    if not passed:
        return ""
    shown = [d for d in errors if d.id in passed]
    statuses = Counter(d.status for d in shown)
    answers = ", ".join(f"{n:,} {status}" for status, n in statuses.most_common())
    retried = sum(1 for d in shown if _is_retry_of(passed[d.id], d))
    by = [
        f"{retried:,} by the sender's retry" if retried else "",
        f"{len(shown) - retried:,} by a later copy of the event" if retried < len(shown) else "",
    ]
    sender = sender_of(facts.history.info.settings).name
    return (
        f"; not counted: {plural(len(shown), 'answer')} ({answers}) given while a downstream "
        f"fault window answered the automation's own calls, to a sender that retries "
        f"({sender}), each event accepted by a delivery sent after that answer "
        f"({', '.join(b for b in by if b)}; a copy sent while it was in flight does not count) "
        "— the outage passed back, not a crash (recovers_after_outage judges those events)"
    )


def _unretried_note(facts: Facts, errors: Sequence[Delivery], read: _Read) -> str:
    """Where the sender does not retry (GitHub): how many of the 5xx answers were given while a
    fault window answered the delivery's own calls — the outage passed back to a sender that
    will never bring the event again."""
    sender = sender_of(facts.history.info.settings)
    if sender.redelivery is not Redelivery.NEVER or not errors or read.windows is None:
        return ""
    windows = read.windows
    met = sum(1 for d in errors if d.status is not None and windows.met(d) is not None)
    if not met:
        return ""
    whom = "all of them" if met == len(errors) else f"{met:,} of them"
    return (
        f"; {whom} answered while a downstream fault window answered the automation's own "
        f"calls (the downstream's failure passed back): {sender.name} does not redeliver "
        "what the target refuses, so whatever of an event's work the fault stopped is lost "
        "unless someone redelivers it by hand (recovers_after_outage judges them) — "
        "acknowledge the delivery (2xx) and retry the call from a queue"
    )


def _refused_of(
    facts: Facts, errors: Sequence[Delivery], copies: Mapping[str, _Taken]
) -> dict[str, Effect]:
    """Delivery id -> the call of its own a downstream refused (4xx) last in its flight, for
    the 5xx answers that followed one (``_refused_call``), copies of a taken event left out."""
    answered = [d for d in errors if d.answered_at is not None and d.id not in copies]
    if not answered:
        return {}
    effects, faults = facts.effects_of({d.event_id for d in answered}), FaultCalls(facts.history)
    return {
        d.id: call
        for d in answered
        if (call := refused_before(d, effects[d.event_id], faults)) is not None
    }


def _refused_note(facts: Facts, errors: Sequence[Delivery], copies: Mapping[str, _Taken]) -> str:
    """``; all of them answered 500 after payments refused their call 400 …``: 5xx answers
    that followed a downstream's refusal of the delivery's own call (``_refused_call``) — the
    refusal passed back, neither a crash nor work done (tests/gallery/split_payout.py, the
    second transfer under a used Idempotency-Key refused 400, was said "the work is done")."""
    refused = _refused_of(facts, errors, copies)
    if not refused:
        return ""
    by = Counter((c.downstream, c.status) for c in refused.values())
    (downstream, status), _ = by.most_common(1)[0]
    d = next(d for d in sorted(errors, key=_sent) if d.id in refused)
    whom = "all of them" if len(refused) == len(errors) else f"{len(refused):,} of them"
    return (
        f"; {whom} answered {d.status} after {downstream} refused their call {status} (e.g. "
        f"{d.id}: {_call(refused[d.id])}, then its {d.status}): the refusal passed back as a "
        "server error, not a crash — the refusal's body says why (a reused Idempotency-Key, a "
        "field the API rejects), and a redelivery meets it again: fix the request, and answer "
        "what no retry can mend 2xx (logged) or 4xx rather than 5xx"
    )


def _written_note(facts: Facts, errors: Sequence[Delivery], copies: Mapping[str, _Taken]) -> str:
    """``; 62 of them were answered after their own write was made …``: a 5xx given for work
    done, the API having answered it as done (tests/gallery/sqlite_orders: the CRM order made,
    then the database locked) — the answer says it failed, and a sender that redelivers a 5xx
    has it done again. Copies of an event taken before (``copies``) are said apart, and so
    are answers that followed a refusal of their own call (``_refused_note``): the work was
    not done."""
    refused = _refused_of(facts, errors, copies)
    answered = [
        d
        for d in errors
        if d.answered_at is not None and d.id not in copies and d.id not in refused
    ]
    ids = {d.event_id for d in answered}
    effects, deliveries = facts.effects_of(ids), facts.deliveries_of(ids)
    written = []
    for d in answered:
        until = flight_end(d, 0.0)  # its answer
        # Answered as done (2xx/3xx): a write the API applied but answered 5xx (an ambiguous
        # commit) told the automation it failed — a 5xx passed back is no lie there.
        made = [
            e
            for e in effects[d.event_id]
            if is_write(e) and 0 < e.status < 400 and d.sent_at <= e.at <= until
        ]
        # Its own only where no other delivery of the event was in flight then.
        others = [o for o in deliveries.get(d.event_id, ()) if o.id != d.id]
        if made and not any(in_flight(o, made[0].at) for o in others):
            written.append((d, made[0]))
    if not written:
        return ""
    d, first = written[0]
    sender = sender_of(facts.history.info.settings)
    again = (
        f"{sender.name} redelivers a 5xx, and each redelivery does it again unless the "
        "automation skips an event it has done"
        if sender.retries
        else "a sender that redelivers a 5xx has it done again"
    )
    if all(w.header(IDEMPOTENCY_KEY) for _, w in written):
        # A redelivery's call under the same key is the first's answer replayed (split_payout).
        redelivery = (
            f"{sender.name} redelivers a 5xx, and each redelivery"
            if sender.retries
            else "a redelivery"
        )
        again = (
            f"{redelivery} makes the call again under its Idempotency-Key: replayed by an API "
            "that honours the key, not done twice, but each answer tells the sender it failed"
        )
    whom = "all of them" if len(written) == len(errors) else f"{len(written):,} of them"
    return (
        f"; {whom} answered after their own write was made (e.g. {d.id}: {_call(first)} "
        f"before its {d.status}): the work is done, the answer says it failed — {again}; "
        "answer 2xx once the work is done, or undo it before answering 5xx"
    )


def _listed_note(facts: Facts, errors: Sequence[Delivery], read: _Read) -> str:
    """Where the automation failed after reading a list the double answered whole, as a JSON
    array (``_refusal_context.plain_list``): that cause, and ``page_size`` to make it page. Of
    the errors no fault window met, where one did (those the window explains: its calls were
    refused, not read)."""
    if plain_list(facts.history, ()) is None:  # no list read whole: nothing to say
        return ""
    windows = read.windows
    outside = errors if windows is None else [d for d in errors if windows.met(d) is None]
    found, status = _listed(facts, outside)
    if found is None and windows is not None:
        # On a loaded machine flights overlap and a read naming nothing is no delivery's by
        # name: those in whose flight a window refused one may be the window's (steady-tests:
        # 60 of the 69 reads the outage refused were counted outside it, and no cause said).
        outside = [d for d in outside if not windows.maybe(d)]
        found, status = _listed(facts, outside)
    if found is None:
        return ""
    of = (
        ""
        if len(outside) == len(errors)
        else f" of the {len(outside):,} answered while no fault window met their calls"
    )
    return f"; likely cause{of}: {plain_list_cause(status, found)[0]}"


def _listed(facts: Facts, outside: Sequence[Delivery]) -> tuple[PlainList | None, int]:
    """``plain_list`` of the commonest 5xx status of ``outside``, and that status."""
    answered = Counter(d.status for d in outside if d.status is not None)
    if not answered:
        return None, 0
    status = answered.most_common(1)[0][0]
    return plain_list(facts.history, [d for d in outside if d.status == status]), status


def _shed_note(facts: Facts, errors: Sequence[Delivery]) -> str:
    """Where most of the errors were 503 answers given at once while the target worked off
    what it had accepted (``_shed``): that cause — load shed when full, not a crash."""
    found = shed_load(facts.history, errors)
    if found is None:
        return ""
    return f"; likely cause: {shed_cause(facts.history.info.settings, found)[0]}"


def _of(deliveries: Sequence[Delivery]) -> str:
    return plural(len(deliveries), "delivery", "deliveries")


def _percent(share: float) -> str:
    pct = share * 100
    return f"{pct:.0f}%" if pct >= 1 or pct == 0 else f"{pct:.2g}%"


def _kind(d: Delivery) -> str:
    if d.status is not None:
        return f"answered {d.status}"
    return f"failed ({d.error})" if d.error else "failed without an answer"


def _witnesses(
    facts: Facts, errors: Sequence[Delivery], copies: Mapping[str, _Taken]
) -> list[Witness]:
    """The first server errors in time, each with its event and the fault window it fell in."""
    events = facts.events_by_id
    faults = facts.history.faults
    shown = sorted(errors, key=_sent)[:MAX_WITNESSES]
    effects = facts.effects_of({d.event_id for d in shown})
    out = []
    for d in shown:
        event = events.get(d.event_id)
        about = f"event {d.event_id}"
        if event is not None:
            about += f" (record {event.key}, seq {event.seq})"
        line = (
            f"delivery {d.id} of {about}, attempt {d.attempt}, sent at {timestamp(d.sent_at)}, "
            f"{_kind(d)}"
        )
        line += _during(d, faults)
        taken = copies.get(d.id)
        if taken is not None and taken.call is None:
            line += f"; its event was accepted by {taken.first.id} ({taken.first.status})"
        elif taken is not None and taken.call is not None:
            call = taken.call
            line += (
                f"; its event was taken: {taken.first.id} got no answer "
                f"({taken.first.error or 'timed out'}) and {_call(call)} for it at "
                f"{timestamp(call.at)}"
            )
        # The downstream calls made while the delivery waited: usually why it failed.
        until = d.answered_at if d.answered_at is not None else float("inf")
        told = taken.call if taken is not None else None  # named above, not again
        calls = [e for e in effects[d.event_id] if d.sent_at <= e.at <= until and e is not told]
        if calls:
            line += "; meanwhile " + id_list([_call(e) for e in calls])
        out.append(Witness(line, (d.event_id,), (d.id,), tuple(e.id for e in calls)))
    return out


def _call(e: Effect) -> str:
    answer = "connection reset" if e.status == 0 else f"answered {e.status}"
    return f"{e.method.upper()} {e.path} {e.id} was {answer}"


def _sent(d: Delivery) -> float:
    return d.sent_at


def _during(d: Delivery, faults: Sequence[Fault]) -> str:
    open_then = [f for f in faults if f.start <= d.sent_at < f.end]
    if not open_then:
        return ""
    names = ", ".join(f"{f.downstream} {f.mode}" for f in open_then)
    return f", while a fault window was open ({names})"
