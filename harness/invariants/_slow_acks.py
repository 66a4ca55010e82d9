"""Why deliveries were answered late, where the journal shows it: what ``ack_within`` advises.

Two causes are told apart, because they call for opposite advice:

- **a downstream's fault, waited on**: the delivery was in flight while a fault window answered
  a call of its (one naming its event, or only its record, or nothing; a batch's request
  counts for all its events) — a ``slow`` or ``timeout`` fault's call (``commit-then-fail``'s
  with ``then: timeout``) holds the answer by itself; after a fault that answers at once (a
  429 of ``throttle``, a 503) the automation called that downstream again before answering:
  it waited out ``Retry-After`` or retried. A call's latency, a hold and ``Retry-After`` are
  real seconds at any time scale, so a rerun at ``--time-scale 1`` waits as long: the advice
  is to answer first and work after.
- **a backlog** that a compressed run's pace can have built: the slow deliveries were sent
  while earlier ones (of other events) were still unanswered. Compression sends faster than
  the scenario says, so ``--time-scale 1`` judges the acks at the scenario's pace — unless a
  delivery sent with no other in flight was over the budget too: the target is slow on one
  delivery alone, and the pace is not the cause.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import itemgetter

from ..core._model import NO_ANSWER_WITHIN, Delivery, Effect, Fault
from ..core._scenario import FAULT_MODES
from ..history import History, delivery_rows
from ._facts import Facts, id_list, plural, timestamp
from ._fault_calls import DeliveryWindows, FaultCalls
from ._lag import flight_end
from ._own_calls import UNNAMED, OwnCalls
from ._timing import seconds

# Faults whose call itself holds the caller: one such call in a flight is enough.
_HOLDING = frozenset({"slow", "timeout"})
_THROTTLING = frozenset({"throttle", "rate-limit"})
_SHOWN = 3  # calls named in a witness


@dataclass(frozen=True, slots=True)
class Waited:
    """A delivery's calls that ``fault`` answered while the delivery was in flight; ``whose``:
    how they are the delivery's (they name its event, only its record, or nothing)."""

    fault: Fault
    calls: tuple[Effect, ...]
    whose: str

    def witness(self) -> str:
        """``; meanwhile api's slow fault answered its call POST /payouts eff_3``."""
        f, n = self.fault, len(self.calls)
        calls = id_list([f"{e.method.upper()} {e.path} {e.id}" for e in self.calls[:_SHOWN]])
        more = f" and {n - _SHOWN:,} more" if n > _SHOWN else ""
        if self.whose == UNNAMED:
            what = f"{plural(n, 'call')} naming no event"
        else:
            what = f"{self.whose} {plural(n, 'call')}"
        return f"; meanwhile {f.downstream}'s {f.mode} fault answered {what}: {calls}{more}"


def waits(facts: Facts, over: Sequence[Delivery], budget: float) -> dict[str, Waited]:
    """Delivery id -> the fault it waited on, for the deliveries of ``over`` that did."""
    history = facts.history
    if not history.faults or not over:
        return {}
    answered_by = FaultCalls(history)
    calls = OwnCalls(facts.effects_in_order, history.deliveries)
    events = facts.events_by_id
    # A batch's deliveries share one request (sent and answered together): its calls for any
    # of their events held them all.
    batch: defaultdict[tuple[float, float | None], set[str]] = defaultdict(set)
    for d in over:
        batch[(d.sent_at, d.answered_at)].add(d.event_id)
    found: dict[str, Waited] = {}
    for d in over:
        ids = batch[(d.sent_at, d.answered_at)]
        keys = {e.key for i in ids if (e := events.get(i)) is not None}
        span = calls.span(d.sent_at, flight_end(d, budget))
        for whose, own in calls.owned(span, ids, keys):
            if (held := _held_by(own, answered_by)) is not None:
                held_calls = tuple(c for c in own if held in answered_by.answering(c))
                found[d.id] = Waited(held, held_calls, whose)
                break
    return found


def _held_by(calls: Sequence[Effect], answered_by: FaultCalls) -> Fault | None:
    """The first fault whose answer to one of ``calls`` held the delivery they were made for."""
    for i, e in enumerate(calls):
        for f in answered_by.answering(e):
            if _held(f, e, calls[i + 1 :]):
                return f
    return None


def _held(fault: Fault, call: Effect, later: Sequence[Effect]) -> bool:
    """Did ``fault``'s answer to ``call`` hold the delivery: a call that is slow itself, or one
    answered at once and followed by another call to that downstream before the answer."""
    if holds(fault):
        return True
    return any(e.downstream == call.downstream for e in later)


def waits_text(found: dict[str, Waited], compressed: bool) -> str:
    """``20 of them waited on api's slow calls (2.2 s a call; the slow fault, 0.10 s-1.10 s):
    the automation called api before answering …``; "" when none did."""
    if not found:
        return ""
    faults = Counter(id(w.fault) for w in found.values())
    by_id = {id(w.fault): w.fault for w in found.values()}
    parts = [
        f"{n:,} of them waited on {by_id[k].downstream}'s {what(by_id[k])}"
        for k, n in faults.most_common()
    ]
    first = by_id[faults.most_common(1)[0][0]]
    names = sorted({f.downstream for f in by_id.values()})
    same = ", and a call's wait is real seconds: --time-scale 1 would wait as long"
    same = same if compressed else ""
    return (
        f"{', '.join(parts)}: the automation called {' and '.join(names)} before answering{same}"
        f" — {_fix(first)}"
    )


def what(f: Fault) -> str:
    """``slow calls (2.2 s ± 0.1 s a call; the slow fault, 0.10 s-1.10 s)``."""
    p, window = f.params, f"the {f.mode} fault, {timestamp(f.start)}-{timestamp(f.end)}"
    if f.mode == "slow":
        jitter = float(p.get("jitter", 0) or 0)
        spread = f" ± {seconds(jitter)}" if jitter else ""
        return f"slow calls ({seconds(float(p.get('latency', 1)))}{spread} a call; {window})"
    if holds(f):
        return f"held calls (no answer for {seconds(float(p.get('hold', 30)))}; {window})"
    if f.mode == "throttle":
        return f"429 answers (Retry-After {seconds(float(p.get('retry_after', 1)))}; {window})"
    if f.mode == "rate-limit":
        rate = float(p.get("rate", 0))
        return f"429 answers beyond its rate limit ({rate:g} calls a second; {window})"
    if f.mode == "reset":
        return f"reset connections ({window})"
    return f"failing calls ({int(p.get('status', 503))}; {window})"


def holds(f: Fault) -> bool:
    """Does the fault's call itself hold its caller (for its latency, or its hold)?"""
    return f.mode in _HOLDING or (
        f.mode == "commit-then-fail" and f.params.get("then") == "timeout"
    )


def _fix(f: Fault) -> str:
    if f.mode in _THROTTLING:
        return (
            "acknowledge first and do the work after (a queue), waiting out Retry-After there, "
            "not while the sender waits"
        )
    if holds(f):
        return "acknowledge first and do the work after (a queue), or bound the call's timeout"
    return "acknowledge first and retry the call from a queue, not while the sender waits"


def pace_text(
    deliveries: Sequence[Delivery], rest: Sequence[Delivery], history: History | None = None
) -> str:
    """What a compressed run's pace says of the slow deliveries ``rest`` (those no fault
    explains): a backlog — run at the scenario's pace — or slow alone; "" for none
    (``history``: the run, to tell an error a fault passed back, ``after_error``)."""
    if not rest:
        return ""
    queued = _queued(deliveries)
    alone = [d for d in rest if d.id not in queued]
    if alone:
        first = min(alone, key=_sent)
        if first.answered_at is None:
            return _unanswered_text(deliveries, first, history)
        return (
            f"{first.id} was over the budget with no other delivery in flight: slow on its own, "
            "not for the pace, so --time-scale 1 would not change it — acknowledge first and "
            "do the work after"
        )
    n = len(rest)
    return (
        f"{n:,} of them {'was' if n == 1 else 'were'} sent while earlier deliveries were still "
        "unanswered, faster than the scenario's own pace: run with --time-scale 1 to judge the "
        "acks at it"
    )


def _unanswered_text(
    deliveries: Sequence[Delivery], first: Delivery, history: History | None
) -> str:
    """Of ``first``, over the budget with no other delivery in flight, that got no answer: not
    slow but hung (after an error, where the delivery sent just before it got one)."""
    return (
        f"{first.id} got no answer ({first.error}) with no other delivery in flight"
        f"{after_error(deliveries, first, history)}: it hung on its own, not for the pace — "
        "bound what "
        "it waits on (a call's timeout, a lock's), and acknowledge first and do the work after"
    )


def stuck_tail(
    deliveries: Sequence[Delivery], effects: Iterable[Effect], clean: Iterable[Effect] = ()
) -> list[Delivery]:
    """The run's last deliveries, by send time, when at least two all timed out and none of
    them made a call — while an earlier one did, or, where they are all the run's, while the
    clean run's ``clean`` calls named their events —: not slow, not a backlog (which works
    its way through), but stuck. A call naming an event of theirs made in the flight of an
    earlier delivery of it (a copy answered before: ambiguous-commit sends each event twice)
    is that one's. [] otherwise."""
    ordered = sorted(deliveries, key=_sent)
    start = len(ordered)
    while start and timed_out(ordered[start - 1]):
        start -= 1
    tail = ordered[start:]
    if len(tail) < 2:
        return []
    held = {d.event_id for d in tail}
    flights: defaultdict[str, list[tuple[float, float]]] = defaultdict(list)
    for d in ordered[:start]:
        flights[d.event_id].append((d.sent_at, flight_end(d, 0.0)))
    called = False
    for e in effects:
        for eid in e.event_ids:
            if eid in held and not any(s <= e.at <= end for s, end in flights.get(eid, ())):
                return []
            called = called or eid in flights
    if not start:  # a pool deadlocked by the run's first burst: its clean run's calls say
        called = any(e.event_ids for e in clean)
    return tail if called else []  # no call names an event: none can be told to be missing


def stuck_text(
    deliveries: Sequence[Delivery],
    effects: Iterable[Effect],
    rest: Sequence[Delivery],
    clean: Iterable[Effect] = (),
    history: History | None = None,
) -> str:
    """Where the run's last deliveries (``stuck_tail``), from one of ``rest`` (late, no fault
    explaining it) on, got no answer: stuck, and on what (``stuck_cause``). "" otherwise."""
    tail = stuck_tail(deliveries, effects, clean)
    if not tail or tail[0].id not in {d.id for d in rest}:
        return ""
    first, n = tail[0], len(tail) - 1
    later = (
        "the one delivery" if n == 1 else "both deliveries" if n == 2 else f"all {n:,} deliveries"
    )
    return (
        f"{first.id} and {later} sent after it got no answer ({first.error}), none of them "
        f"making a call{stuck_cause(deliveries, first, history)}"
    )


def stuck_cause(
    deliveries: Sequence[Delivery], first: Delivery, history: History | None = None
) -> str:
    """``: not slow but stuck — …``: what holds a target that answered no delivery from
    ``first`` on, none of them making a call: a resource an earlier error never released,
    where the delivery sent just before ``first`` got one (tests/gallery/repo_lock.py); else
    something its own earlier work holds, with no error before (tests/gallery/
    shared_executor.py: a pool whose tasks wait on its own tasks). Where that error was a
    fault window's answer to the delivery's call, passed back (``passed_back``; ``history``
    given), either may be: a lock its error path leaves held (repo_lock under an outage), or a
    pool its own work holds that the error had no part in (shared_executor under
    ambiguous-commit, its 502 the fault's, was told only "an earlier error never released")."""
    if fault := passed_back_text(deliveries, first, history):
        return (
            f"{fault}: not slow but stuck — a handler waiting on a shared resource (a lock, a "
            "pool) that its error path never released after that failure (a lock taken by "
            "hand, released only on success), or, if it releases what it holds whatever "
            "happens, one its own earlier work holds (a thread pool whose tasks wait on tasks "
            "of the same pool) — this run cannot tell which: release it whatever happens "
            "(`async with`, `finally`), give the work it waits on a pool of its own, and bound "
            "every wait"
        )
    if after := after_error(deliveries, first):
        return (
            f"{after}: not slow but stuck — a handler waiting on a shared resource (a lock, a "
            "pool) that an earlier error never released; release it whatever happens (`async "
            "with`, `finally`)"
        )
    answered = sum(1 for d in deliveries if d.sent_at < first.sent_at and d.status is not None)
    before = (
        f"{plural(answered, 'delivery', 'deliveries')} before it answered, with no error: a "
        "handler waiting on something that never comes, a pool or a lock its own earlier work "
        "holds"
        if answered
        else "from the run's first delivery, whose events the clean run's calls named: a handler "
        "waiting on something that never comes, a pool or a lock the work of the deliveries "
        "sent together holds"
    )
    return (
        f": not slow but stuck — {before} (a thread pool whose tasks wait on tasks of the same "
        "pool, a connection pool never given back); give the work it waits on a pool of its "
        "own, and bound every wait"
    )


def after_error(
    deliveries: Sequence[Delivery], first: Delivery, history: History | None = None
) -> str:
    """``, after dlv_7 was answered 500``: where the delivery sent just before ``first`` got an
    error answer — said the fault's, passed back, where it was (``passed_back_text``;
    ``history`` given); "" otherwise."""
    if fault := passed_back_text(deliveries, first, history):
        return fault
    before = _error_before(deliveries, first)
    return "" if before is None else f", after {before.id} was answered {before.status}"


def _error_before(deliveries: Sequence[Delivery], first: Delivery) -> Delivery | None:
    """The delivery sent just before ``first``, where it was answered 5xx."""
    before = max((d for d in deliveries if d.sent_at < first.sent_at), key=_sent, default=None)
    if before is None or before.status is None or before.status < 500:
        return None
    return before


def passed_back(history: History | None, d: Delivery) -> Fault | None:
    """The fault window that answered a call of ``d``'s own in its flight (``DeliveryWindows``):
    its 5xx that window's failure, passed back by the automation (ambiguous-commit's 502), not
    an error of its own making. None without ``history`` or such a window."""
    if history is None or not any(f.mode in FAULT_MODES for f in history.faults):
        return None
    windows = DeliveryWindows(history, [d])
    n = windows.met(d)
    return None if n is None else windows.windows[n]


def passed_back_text(
    deliveries: Sequence[Delivery], first: Delivery, history: History | None
) -> str:
    """``, after dlv_3 was answered 502 — the api commit-then-fail fault's answer to its call,
    passed back, not an error of the automation's own`` where the delivery sent just before
    ``first`` was answered so; "" otherwise."""
    before = _error_before(deliveries, first)
    fault = passed_back(history, before) if before is not None else None
    if before is None or fault is None:
        return ""
    return (
        f", after {before.id} was answered {before.status} — the {fault.downstream} "
        f"{fault.mode} fault's answer to its call, passed back, not an error of the "
        "automation's own"
    )


def timed_out(d: Delivery) -> bool:
    """Did ``d`` wait for an answer that never came (the target held it)?"""
    return d.status is None and d.error is not None and d.error.startswith(NO_ANSWER_WITHIN)


def _queued(deliveries: Sequence[Delivery]) -> set[str]:
    """The deliveries sent while one of another event, sent before, was still unanswered (one
    that timed out counts as never answered: the target may still hold it). Read as columns
    where a loaded run holds them so."""
    found: set[str] = set()
    flying: list[tuple[float, str]] = []  # (end, event id), the earliest end first
    events: Counter[str] = Counter()  # of the deliveries in flight
    rows = delivery_rows(deliveries, "sent_at", "answered_at", "event_id", "id")
    for sent, answered, event, dlv_id in sorted(rows, key=itemgetter(0)):
        while flying and flying[0][0] <= sent:
            events[heapq.heappop(flying)[1]] -= 1
        if len(flying) > events[event]:
            found.add(dlv_id)
        heapq.heappush(flying, (answered if answered is not None else math.inf, event))
        events[event] += 1
    return found


def _sent(d: Delivery) -> float:
    return d.sent_at
