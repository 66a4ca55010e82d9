"""Does the target work after it answers, and how long after? What a run's pace says of the
effects settling gave up on.

A target that does its work before it answers (inline) made every call while a delivery of its
event was in flight: an event it answered without its effect was dropped there and then (a
renamed field it ignored, an invoice number it took for one it had booked), and a longer settle
shows nothing more. One that answers first and works after (a queue, a job, a debounce) made
some call once every delivery of its event had been answered; how long after (its lag) tells a
queue working through a backlog from one that passed events over at once (a circuit breaker
whose fallback drops them). ``no_lost_events`` tells a user to raise the settle quiet only
where the pace leaves that open (docs/troubleshooting.md, "Lost or late?").
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..core._model import SETTLED_MARK, Delivery, Effect, Model, Outcome
from ..double._faults import least_retry_after
from ..history import History, delivery_rows, effect_values, event_rows
from ._facts import SAFE_METHODS, plural, route_of
from ._fault_calls import FaultCalls
from ._unfinished import Unfinished
from ._went_away import unseen_end, went_away

# A target whose every call came within this share of the quiet after its answers showed no
# pace a longer quiet could wait out.
_BRISK = 0.1
# Calls of an event refused and not made again for this many times the longest wait between
# them were given up: a backoff that doubles at each try would have tried again twice over.
_GIVEN_UP = 4
# Events lost, all of them and only them accepted after the target's last call, that show it
# stopped at one moment rather than passed them over.
_STOPPED_AFTER = 3
# The last events accepted, left without effect this many times longer than any call of the
# run came after its answer, show a target holding them until more come, not a queue's tail
# still being worked (whose wait grows with each call it makes).
_HELD = 2


@dataclass(frozen=True, slots=True)
class Pace:
    """``after``: some call tied to an event came once every delivery of that event had been
    answered (None: no call was tied to an event, nothing told). ``lag``: the longest such a
    call came after its event's last answer before it."""

    after: bool | None
    lag: float = 0.0


def pace_of(deliveries: Sequence[Delivery], effects: Iterable[Effect]) -> Pace:
    """How the target worked in a run of ``deliveries`` and ``effects``."""
    flights: dict[str, list[tuple[float, float]]] = {}
    for eid, sent, answered in delivery_rows(deliveries, "event_id", "sent_at", "answered_at"):
        # Unanswered (a timeout): the target may still be at it, inline.
        flights.setdefault(eid, []).append((sent, math.inf if answered is None else answered))
    return _pace(flights, ((eid, w.at) for w in effects for eid in w.event_ids))


def record_pace(history: History, effects: Iterable[Effect]) -> Pace:
    """``pace_of`` for the calls that name only their record (a payout carrying its order id,
    nothing of the event): each read against the deliveries of its record's events, but not
    one in flight after one of them was answered (``_pace``'s ``shared``): with events of a
    record overlapping, a worker that pays after it answers made every call during another
    delivery's flight, and was told its work inline."""
    key_of = dict(event_rows(history.events, "id", "key"))
    flights: dict[str, list[tuple[float, float]]] = {}
    for eid, sent, answered in delivery_rows(
        history.deliveries, "event_id", "sent_at", "answered_at"
    ):
        if (key := key_of.get(eid)) is not None:
            flights.setdefault(key, []).append((sent, math.inf if answered is None else answered))
    calls = ((w.key, w.at) for w in effects if not w.event_ids and w.key is not None)
    return _pace(flights, calls, shared=True)


def _pace(
    flights: dict[str, list[tuple[float, float]]],
    calls: Iterable[tuple[str, float]],
    shared: bool = False,
) -> Pace:
    """The pace of ``calls`` (whose, when) against the ``flights`` (sent, answered) of the
    deliveries of each. ``shared``: each's flights are of several events (a record's), so a
    call in one of them after another was answered tells nothing — the answered event's work
    after its answer, or the flying one's inline — and is not read."""
    told = after = False
    lag = 0.0
    indexed: dict[str, _Flights] = {}
    for whose, at in calls:
        windows = flights.get(whose)
        if not windows:
            continue
        if len(windows) <= _SCANNED:
            answers = [a for s, a in windows if a <= at]
            last = max(answers) if answers else None
            inside = any(s <= at <= a for s, a in windows)
        else:
            if (index := indexed.get(whose)) is None:
                index = indexed[whose] = _Flights(windows)
            last, inside = index.last_answer(at), index.in_flight(at)
        if shared and inside and last is not None:
            continue
        told = True
        if last is not None and not inside:
            after = True
            lag = max(lag, at - last)
    return Pace(after if told else None, lag)


# Flights of one event or record up to which each call scans them; beyond, they are indexed:
# a record may have thousands of deliveries, and a scan per call made ``record_pace``
# quadratic (20,000 events of 10 records: 2 s; 200,000: minutes).
_SCANNED = 16


class _Flights:
    """The (sent, answered) flights of the deliveries of one event or record, indexed so that
    a moment is read against them in O(log n)."""

    __slots__ = ("_answers", "_reach", "_starts")

    def __init__(self, flights: list[tuple[float, float]]) -> None:
        ordered = sorted(flights)
        self._starts = [s for s, _ in ordered]
        # The latest answer among the flights sent so far: one sent by ``at`` and answered at
        # or after it is in flight then.
        self._reach = list(itertools.accumulate((a for _, a in ordered), max))
        self._answers = sorted(a for _, a in ordered)

    def last_answer(self, at: float) -> float | None:
        """The latest answer at or before ``at``; None where none was."""
        n = bisect_right(self._answers, at)
        return self._answers[n - 1] if n else None

    def in_flight(self, at: float) -> bool:
        """Whether a delivery was in flight at ``at`` (sent by it, answered at or after it)."""
        n = bisect_right(self._starts, at)
        return n > 0 and self._reach[n - 1] >= at


def settle_note(
    history: History,
    effects: Sequence[Effect],
    undone: Unfinished,
    lost: Collection[str],
    records: Collection[str] = (),
) -> str:
    """What settling that gave up (quiet, events still short) says of ``lost`` (the events
    called lost; where none is named, ``records`` short of requests naming no event): that
    the target went away after it accepted them (``_went_away``: its process died with them);
    else raise the quiet where the run's pace (its clean run's, where its own calls name no
    event) leaves it open that the target was still at them; else what it shows."""
    if undone.gave_up is None:
        return ""
    away = went_away(history, effects, lost, records)
    if away is None:
        return _pace_note(history, effects, undone, lost, records)
    if away.every:
        return away.text()
    held = set(away.held)
    rest = lost if away.records else [e for e in lost if e not in held]
    return away.text() + _pace_note(history, effects, undone, rest, records)


def _pace_note(
    history: History,
    effects: Sequence[Effect],
    undone: Unfinished,
    lost: Collection[str],
    records: Collection[str] = (),
) -> str:
    """``settle_note`` by the run's pace."""
    assert undone.gave_up is not None
    runs, pace = "this run", pace_of(history.deliveries, effects)
    clean = history.baseline
    if pace.after is None and clean is not None:
        runs, pace = "its clean run", pace_of(clean.deliveries, clean.effects)
    if pace.after is False:
        return (
            f"; every call of {runs} tied to an event came while a delivery of that event was "
            "in flight: the target does its work before it answers, and answered these events "
            "without it (dropped, not slow: a longer settle would show nothing more)"
        )
    if pace.after is None and record_pace(history, effects).after is False:
        return (
            "; every call of this run naming only its record came while a delivery of an event "
            "of that record was in flight: the target does its work before it answers, and "
            "answered these without it (dropped, not slow: a longer settle would show nothing "
            "more)" + _records_refused(history, effects, records)
        )
    given_up = _refused_note(history, effects, lost)
    if given_up:
        return given_up
    since = _since_answered(history, lost)
    if pace.after is None or since is None:
        return _stopped_or_slower(history, effects, lost, undone)
    times = (undone.gave_up, pace.lag, since)
    if pace.lag >= _BRISK * undone.gave_up:
        overtaken = _overtaken(history, effects, lost, times)
        held = overtaken or _held_last(history, effects, lost, times)
        return held or _stopped_or_slower(history, effects, lost, undone)
    return _partial_batch(history, effects, lost, times) or (
        f"; settling stopped after {undone.gave_up:g} s without a call from the target, "
        f"{since:.1f} s after the last of these events was answered: the target works after "
        f"it answers, but each call of {runs} came at most {_seconds(pace.lag)} after its "
        f"event's delivery was answered — {_dropped(history, effects, lost)}: then raise the "
        "settle quiet (`settle: {quiet: …}` or --settle-quiet) and run again"
    )


def _records_refused(history: History, effects: Sequence[Effect], records: Collection[str]) -> str:
    """``; their calls the downstream refused (35 calls answered 503) were never made again
    …``: how a target that works before it answers lost ``records`` (short of requests naming
    only their record) where the double refused their calls."""
    wanted = set(records)
    refused = [w for w in effects if not w.committed and w.key in wanted]
    if not refused:
        return ""
    return (
        f"; their calls the downstream refused ({_refusals(history, refused)}) were never made "
        "again: it drops the work when a call is refused and still answers 2xx — retry the "
        "call, or answer 5xx so that the sender redelivers"
    )


def _stopped_or_slower(
    history: History, effects: Sequence[Effect], lost: Collection[str], undone: Unfinished
) -> str:
    """Where a target whose pace leaves it open that it was still at ``lost`` took every event
    from one on and made no call for any (none refused): that it stopped then (a worker that
    died on an event) first, then the settle quiet to raise if it is only slower."""
    wanted = set(lost)
    refused = any(not w.committed and not wanted.isdisjoint(w.event_ids) for w in effects)
    stopped = "" if refused else _stopped(history, effects, lost)
    if stopped:
        return f"; {stopped}" + undone.gave_up_note()
    return undone.gave_up_note(unseen_end(history, "lost"))


def _dropped(history: History, effects: Sequence[Effect], lost: Collection[str]) -> str:
    """How a brisk target dropped ``lost``: stopped (no call at all after it accepted the
    first of them), passed over (no call of theirs), or given up after a call of theirs that
    did not count (refused, never made again)."""
    wanted = set(lost)
    calls = [w for w in effects if not w.committed and not wanted.isdisjoint(w.event_ids)]
    refused = {e for w in calls for e in w.event_ids if e in wanted}
    over = len(wanted) - len(refused)
    # A worker that died, or a breaker open, makes no call for the events it meets: where each
    # of these made its own call, refused, the target went on working and dropped each
    # (tests/gallery/throttled_orders under Locust: 300 orders, each POST answered 429).
    stopped = _stopped(history, effects, lost) if over else ""
    if stopped:
        return stopped
    if not refused:
        return (
            f"it passed these over rather than queued them{unseen_end(history, 'queued them')}, "
            "unless it works far slower than it showed (a rate limit, a schedule)"
        )
    gave_up = (
        f"were never made again: it dropped each after the downstream refused it "
        f"({_refusals(history, calls)}) — never retried"
    )
    if not over:
        return (
            f"the calls of these events that did not count {gave_up}, unless it retries far "
            "slower than it showed (a backoff longer than the quiet)"
        )
    return (
        f"it passed {over:,} of these over rather than queued them, and the calls of the other "
        f"{len(refused):,} that did not count {gave_up}, unless it works far slower than it "
        "showed (a rate limit, a schedule, a backoff longer than the quiet)"
    )


def _refusals(history: History, calls: Iterable[Effect]) -> str:
    """``300 calls answered 429, Retry-After 1 s``: how the double refused ``calls``, with the
    Retry-After the fault that answered each asked for (a throttle's, a rate limit's)."""
    answering = FaultCalls(history)
    found: Counter[tuple[int, int | None]] = Counter()
    for w in calls:
        waits = [s for f in answering.answering(w) if (s := least_retry_after(f)) is not None]
        found[w.status, min(waits, default=None)] += 1
    said = []
    for (status, wait), n in found.most_common():
        answer = f"answered {status}" if status else "reset"
        said.append(
            f"{plural(n, 'call')} {answer}"
            + (f", Retry-After {wait} s" if wait is not None else "")
        )
    return "; ".join(said)


@dataclass(frozen=True, slots=True)
class Stop:
    """The moment a target stopped working: ``first``, the first event it accepted and never
    worked (its ``seq``), ``at`` seconds into the run; ``lost``, every event it accepted from
    that one on, in order of acceptance, the first included."""

    first: str
    seq: int | None
    at: float
    lost: tuple[str, ...]

    def text(self) -> str:
        """``event … (seq 6), 0.3 s into the run``."""
        return f"event {self.first} (seq {self.seq}), {self.at:.1f} s into the run"


def stop_of(
    history: History,
    effects: Sequence[Effect],
    lost: Collection[str],
    among: Collection[str] | None = None,
) -> Stop | None:
    """Where ``lost`` (3 or more, events without their effects) are exactly the events the
    target accepted from the first of them on (of ``among`` only, where given), and it made
    some call before: it stopped working at one moment (a worker thread that died on an event)
    rather than passed events over one by one. None otherwise. Read in order of acceptance,
    not against its last call: a worker still at the event before may call just after the one
    it dies on was answered (seen in CI: 0.9 ms)."""
    if len(lost) < _STOPPED_AFTER or not effects:
        return None
    accepted: dict[str, float] = {}
    start = math.inf
    for eid, sent, answered, outcome in delivery_rows(
        history.deliveries, "event_id", "sent_at", "answered_at", "outcome"
    ):
        start = min(start, sent)
        if outcome == Outcome.OK and answered is not None and (among is None or eid in among):
            accepted[eid] = min(accepted.get(eid, math.inf), answered)
    order = sorted(accepted, key=accepted.__getitem__)
    wanted = set(lost)
    first_lost = next((n for n, eid in enumerate(order) if eid in wanted), None)
    if first_lost is None or set(order[first_lost:]) != wanted:
        return None
    first = order[first_lost]
    seq = next((e.seq for e in history.events if e.id == first), None)
    return Stop(first, seq, accepted[first] - start, tuple(order[first_lost:]))


def _stopped(history: History, effects: Sequence[Effect], lost: Collection[str]) -> str:
    """``all 34 events it accepted from event … on are lost, none before …`` where the target
    stopped (``stop_of``); "" otherwise."""
    # A register owes each record its latest event only: the older ones it accepted after the
    # stop are lost as surely, but not counted, so the latest alone are read.
    latest = _latest_accepted(history) if history.info.model is Model.REGISTER else None
    stop = stop_of(history, effects, lost, latest)
    if stop is None:
        return ""
    events = "records' latest events" if latest is not None else "events"
    return (
        f"all {len(stop.lost):,} {events} it accepted from {stop.text()}, on are lost, none "
        "before: it stopped working then — a worker or thread that died on an event, a consumer "
        f"that stopped: look in its log from that moment{_last_call(effects)} — unless "
        "it passed over every one of these, or works far slower than it showed (a rate limit, "
        "a schedule)"
    )


def _latest_accepted(history: History) -> set[str]:
    """Each record's latest event (by seq) of those the target accepted."""
    accepted = {
        e for e, outcome in delivery_rows(history.deliveries, "event_id", "outcome")
        if outcome == Outcome.OK
    }  # fmt: skip
    latest: dict[str | None, tuple[int, str]] = {}
    for e in history.events:
        if e.id in accepted and e.seq >= latest.get(e.key, (-1, ""))[0]:
            latest[e.key] = (e.seq, e.id)
    return {eid for _, eid in latest.values()}


def _last_call(effects: Sequence[Effect]) -> str:
    """``; its last call, PUT /members/… eff_3, was answered 503: a worker that dies on a
    failed call stops so, and so does a circuit breaker`` where the target's last write
    failed; "" otherwise."""
    writes = [w for w in effects if w.method.upper() not in SAFE_METHODS]
    if not writes:
        return ""
    last = max(writes, key=lambda w: w.at)
    if last.committed and last.status < 400:
        return ""
    answer = f"answered {last.status}" if last.status else "not answered"
    return (
        f"; its last call, {last.method.upper()} {last.path} {last.id}, was {answer}: a "
        "worker that dies on a failed call (an exception nothing catches) stops so, and so "
        "does a circuit breaker that failed calls opened and that drops what it meets while "
        "open (none came through here)"
    )


def _overtaken(
    history: History,
    effects: Sequence[Effect],
    lost: Collection[str],
    times: tuple[float, float, float],
) -> str:
    """``; settling stopped … made the calls of 5 events it accepted after the last of these
    …``: where events the target accepted after every one of ``lost`` got their effects, and
    ``lost`` have waited longer than any call of the run took after its answer (``lag``) — a
    queue or a job got past them, so they are not still in it, and nothing it did was as slow
    as they would have to be. A slow target (a rate limit, a queue paused between events)
    leaves its lost events last, or has shown calls as late: "" then, and the plain advice to
    raise the quiet stands. Where only some of ``lost`` were accepted before an event it
    worked (a worker recycled mid-run drops the tasks it held, and the run's last ones too),
    those are said passed over and the advice is kept for the rest."""
    quiet, lag, since = times  # settle quiet, the run's longest lag, since lost were answered
    wanted = set(lost)
    accepted: dict[str, float] = {}
    sent: dict[str, float] = {}  # each accepted event's first accepted delivery's send
    answered_lost: dict[str, float] = {}
    for eid, answered, sent_at, outcome in delivery_rows(
        history.deliveries, "event_id", "answered_at", "sent_at", "outcome"
    ):
        if outcome != Outcome.OK or answered is None:
            continue
        into = answered_lost if eid in wanted else accepted
        into[eid] = min(into.get(eid, math.inf), answered)
        if eid not in wanted:
            sent[eid] = min(sent.get(eid, math.inf), sent_at)
    worked = {
        e: accepted[e]
        for ids in effect_values(effects, "event_ids")  # a loaded run's columns: no Effect made
        for e in ids
        if e in accepted
    }
    # Those answered before an event the target worked was even sent: a queue or a job got
    # past them. Not one whose flight overlapped it: which of two in flight together the
    # target took first, no answer tells (a Locust burst's ten users; ``_held_last``).
    last_sent = max((sent[e] for e in worked), default=-math.inf)
    passed = [e for e, answered in answered_lost.items() if answered < last_sent]
    if not passed:
        return ""
    if len(passed) == len(answered_lost):
        if since <= lag:
            return ""
        last_lost = max(answered_lost.values())
        after = sum(1 for at in worked.values() if at > last_lost)
        return (
            f"; settling stopped after {quiet:g} s without a call from the target, {since:.1f} s "
            "after the last of these events was answered: the target works after it answers, "
            f"and made the calls of {plural(after, 'event')} it accepted after the last of "
            f"these, each call at most {_seconds(lag)} after its event's answer — these were "
            f"passed over{unseen_end(history, 'held')}, not left in a queue still working: a "
            "longer settle would show nothing more"
        )
    passed_since = _since_answered(history, passed)
    if passed_since is None or passed_since <= lag:
        return ""
    rest = len(answered_lost) - len(passed)
    return (
        f"; settling stopped after {quiet:g} s without a call from the target: the target works "
        f"after it answers, and worked events it accepted after {len(passed):,} of these, each "
        f"call at most {_seconds(lag)} after its event's answer — passed over, not left in a "
        f"queue still working; the other {rest:,}, accepted after the last event it worked, may "
        "still be queued: if it works slower than that (a rate limit, a queue paused between "
        "events, a schedule), raise the settle quiet (`settle: {quiet: …}` or --settle-quiet) "
        "and run again"
    )


def _held_last(
    history: History,
    effects: Sequence[Effect],
    lost: Collection[str],
    times: tuple[float, float, float],
) -> str:
    """``; these were the last 2 events it accepted …``: where every one of ``lost``, none with
    a call of its own, was accepted after the last event the target worked was sent (a burst's
    flights overlap: which of two in flight together the target took first, no answer tells —
    Node-RED's join by count under Locust answered a held event 0.3 ms before the last one it
    wrote), and they have
    waited ``_HELD`` times longer than any call of the run took after its answer — what a
    target holding events until more come (a batch written only when full, a flush on the next
    event) leaves when the deliveries stop: written when more come, never if none do. ""
    otherwise (the plain advice to raise the quiet). Where the target went on calling after
    the last of them was accepted — the calls of events it accepted after them, or calls naming
    no event (its timer's) — ``_passed_note`` offers "passed over" too: a holder writes what it
    holds when more come or on its timer, a cursor that went past them never does, and the
    journal cannot tell the two apart (tests/gallery/cursor_sync.py: its last stored checkout
    was told only "held until more come … write what it holds on a timer too")."""
    quiet, lag, since = times
    wanted = set(lost)
    worked = set(e for ids in effect_values(effects, "event_ids") for e in ids)
    if not wanted.isdisjoint(worked):
        return ""  # a call of theirs was made: not held whole
    first_lost = math.inf
    taken: dict[str, float] = {}  # each worked event's first accepted delivery, when sent
    answers: dict[str, float] = {}  # each accepted event's first accepted answer
    for eid, sent, answered, outcome in delivery_rows(
        history.deliveries, "event_id", "sent_at", "answered_at", "outcome"
    ):
        if outcome != Outcome.OK or answered is None:
            continue
        answers[eid] = min(answers.get(eid, math.inf), answered)
        if eid in wanted:
            first_lost = min(first_lost, answered)
        elif eid in worked:
            taken[eid] = min(taken.get(eid, math.inf), sent)
    last_worked = max(taken.values(), default=-math.inf)
    if first_lost == math.inf or first_lost < last_worked or since <= _HELD * lag:
        return ""
    which = "it was the last event" if len(wanted) == 1 else f"these were the last {len(wanted):,}"
    stop = stop_of(history, effects, lost)
    died = (
        f", or it stopped working at {stop.text()} (a worker that died on an event: look in its "
        "log from then)"
        if stop is not None
        else ""
    )
    passed = _passed_note(effects, answers, wanted)
    fix = (
        "if it holds events, write what it holds on a timer too; if it syncs past a cursor, "
        "make it one no two rows share and no later row goes below (an autoincrement id, not "
        "a time); more events sent after these tell (a holder writes them then)"
        if passed
        else "write what it holds on a timer too"
    )
    return (
        f"; settling stopped after {quiet:g} s without a call from the target: {which} it "
        f"accepted, after every event it worked, and waited {since:.1f} s, "
        f"{since / max(lag, 1e-3):.0f} times as long as any call of the run came after its "
        f"event's answer ({_seconds(lag)}): held until more come (a batch written only when "
        "full, a flush on the next event), written when more events arrive and never if none "
        f"do{passed}{died} — {fix}; if it works slower than it showed (a rate limit, a "
        "schedule), raise the settle quiet (`settle: {quiet: …}` or --settle-quiet) and run again"
    )


def _passed_note(
    effects: Sequence[Effect], answers: Mapping[str, float], lost: Collection[str]
) -> str:
    """``, or passed over (…): it went on to make the calls of 14 events it accepted after
    these …``: where, after the last of ``lost`` was accepted (``answers``: each accepted
    event's first answer), the target made calls of events it accepted later, or calls naming
    no event (a timer's, a sync's); "" otherwise."""
    last_lost = max(answers[e] for e in lost if e in answers)
    later: set[str] = set()
    untied = 0
    for at, ids in zip(
        effect_values(effects, "at"), effect_values(effects, "event_ids"), strict=True
    ):
        if at <= last_lost:
            continue
        if not ids:
            untied += 1
        later.update(e for e in ids if answers.get(e, -math.inf) > last_lost)
    if not later and not untied:
        return ""
    them, theirs = ("it", "its") if len(lost) == 1 else ("them", "theirs")
    went_on = [
        f"the calls of {plural(len(later), 'event')} it accepted after {them}" if later else "",
        f"{plural(untied, 'call')} naming no event (a timer's, a sync's)" if untied else "",
    ]
    return (
        f", or passed over (a sync whose cursor or watermark moved past {them}, a queue that "
        f"skipped {them}): it went on to make {' and '.join(w for w in went_on if w)}, none "
        f"of them {theirs}: a holder writes what it holds when more come or on its timer, a "
        f"cursor that passed over {them} never does, and this run cannot tell the two apart"
    )


def _partial_batch(
    history: History,
    effects: Sequence[Effect],
    lost: Collection[str],
    times: tuple[float, float, float],
) -> str:
    """``_held_last`` for a brisk target, only where ``lost`` are fewer than the events some
    call of the run carried: a batch not yet full (Node-RED's join by count under a Locust
    burst, each batch written within 34 ms of its last answer, was told "passed over" or "a
    worker that died"). A target writing fewer events a call than it left would have written
    them had it been holding them: stopped or passed over, as said."""
    batch = max(map(len, effect_values(effects, "event_ids")), default=0)
    return _held_last(history, effects, lost, times) if len(set(lost)) < batch else ""


def _refused_note(history: History, effects: Iterable[Effect], lost: Collection[str]) -> str:
    """What the calls of ``lost`` show where every one they made was refused and none came
    again before settling ended: tried and given up (``_tried_and_given_up``), or dropped when
    refused (``_refused_once``); "" where a write of theirs took effect, or neither reads."""
    ended = _settled_at(history)
    wanted = set(lost)
    calls: list[Effect] = []  # their writes (a look-up is no try of the write)
    tries: dict[tuple[str, str], list[float]] = {}  # (event, route) -> when each was made
    for w in effects:
        named = [e for e in w.event_ids if e in wanted]
        if not named or w.method.upper() in SAFE_METHODS:
            continue
        if w.committed:
            return ""  # a write of theirs took effect: not a call given up
        calls.append(w)
        for e in named:
            tries.setdefault((e, route_of(w)), []).append(w.at)
    if ended is None or not calls or {e for e, _ in tries} != wanted:
        return ""
    silence = ended - max(w.at for w in calls)
    return _tried_and_given_up(tries, silence) or _refused_once(history, calls, tries, silence)


def _tried_and_given_up(tries: dict[tuple[str, str], list[float]], silence: float) -> str:
    """``; each of these was tried 3 times …``: where a call of every one of the events of
    ``tries`` (the same request: its method and route) was refused at least twice, and none was
    made again for the ``silence`` before settling ended, ``_GIVEN_UP`` times the longest wait
    between two tries — tried and given up (a retry limit: a dead-letter queue, a failed-jobs
    list), not slow; "" otherwise. An event's different calls, each made once (an order's
    customer, e-mail and invoice), are no tries of one another (Node-RED's fanout flow under
    downstream-outage)."""
    most: dict[str, list[float]] = {}  # each event's most tried call
    for (e, _), ats in tries.items():
        if len(ats) > len(most.get(e, ())):
            most[e] = ats
    counts = {len(ats) for ats in most.values()}
    if min(counts) < 2:
        return ""
    wait = max(b - a for ats in most.values() for a, b in itertools.pairwise(sorted(ats)))
    if silence < _GIVEN_UP * max(wait, 1e-3):
        return ""
    times = f"{min(counts)}" if len(counts) == 1 else f"{min(counts)} to {max(counts)}"
    return (
        f"; each of these was tried {times} times, every call refused, and none again in the "
        f"{_seconds(silence)} before settling stopped, {silence / max(wait, 1e-3):.0f} times "
        f"the longest wait between two tries ({_seconds(wait)}): it tried them and gave them up "
        "(a retry limit: a dead-letter queue, a failed-jobs list) after its sender had been "
        "told each was accepted, unless its backoff grows far more than it showed"
    )


def _refused_once(
    history: History,
    calls: Sequence[Effect],
    tries: dict[tuple[str, str], list[float]],
    silence: float,
) -> str:
    """``; each of these had its call refused (28 calls answered 503), none made again …``:
    where every event of ``tries`` made its ``calls``, each once, and none came again for the
    ``silence`` before settling ended — its work dropped when the call was refused, whatever
    the pace (tests/gallery/outbox_relay, a relay marking each row sent before its call: under
    load its lag read as a worker's that "passed these over, or held them in a process that
    then ended", and under a throttle as one to "raise the settle quiet" for). A call tried
    more than once is ``_tried_and_given_up``'s to read; "" otherwise."""
    if max(map(len, tries.values())) > 1:
        return ""
    waited = _seconds(silence)
    return (
        f"; each of these had its calls refused ({_refusals(history, calls)}), none made "
        f"again in the {waited} before settling stopped: it drops an event's work when the "
        "downstream refuses its call, after its sender was told the event was accepted — "
        "retry a refused call (after the Retry-After a 429 or 503 gives, else with backoff), "
        f"keeping the event until it succeeds; unless it retries later than that (a backoff "
        f"longer than {waited}: raise the settle quiet to see it)"
    )


def _settled_at(history: History) -> float | None:
    """When settling ended (the run's settled mark); None without one."""
    return next((m.at for m in history.marks if m.name == SETTLED_MARK), None)


def _since_answered(history: History, lost: Collection[str]) -> float | None:
    """How long before settling ended the last of ``lost``'s deliveries was answered; None
    when not known (no settled mark, or none of them answered)."""
    ended = _settled_at(history)
    if ended is None or not lost:
        return None
    wanted = set(lost)
    answers = [
        a
        for eid, a in delivery_rows(history.deliveries, "event_id", "answered_at")
        if eid in wanted and a is not None
    ]
    return ended - max(answers) if answers else None


def _seconds(value: float) -> str:
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.1f} s"
