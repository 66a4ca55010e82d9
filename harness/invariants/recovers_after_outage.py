"""recovers_after_outage: what the target accepted while a downstream misbehaved still happens.

An event the target acknowledged (2xx) in a delivery in flight while a fault window was open
(sent before it closed, answered after it opened) — or only after the window closed, having
been refused during it — must get all its expected effects (``_expected``:
learned from the clean run or declared; else any committed effect) by ``deadline`` after the
window closed: the automation queued it or retried, it did not drop it. Register: an effect of
a newer event of the same record also counts (a coalesced update).

A window whose fault answered no call (the double's FAULT_MARKs; ``double._faults.acted_on``
for journals without them: none reached its downstream while it was open, a rate limit never
exceeded, an earlier window answering first) shows nothing of recovery: an automation that
works off a queue may make every call after a short window closed. Such a window is not judged,
and a run with no other is inconclusive, saying so — never passed.

An event refused during a window (a genuine delivery in flight while it was open — sent before
it closed, answered after it opened — and not answered 2xx) and never accepted by any delivery
was not seen to recover: only its sender's redelivery could bring it back. An answer an outage
explains (a 5xx, 429, 408, or none) counts; another 4xx (a payload or a signature the target
refuses on purpose) counts only when the window answered one of the delivery's own calls.
Nor does a refusal the outage did not cause (``_refused_alike``: none of the delivery's own
calls met a fault, and the clean run refused its event's twin with the same answer): the
automation's own, named in a note and left to ``no_lost_events``.
When its expected effects were made anyway (a refused delivery may still have done its work)
it is not counted; an event of a type ignored by design owes nothing; the
others follow the run's sender (``_sender``), by a strict rule:

* a sender that never redelivers what was refused (GitHub), or gives up after the schedule the
  run sent in full: the event is lost in production — FAIL, naming each;
* a sender that would redeliver later than the run watched (the run sent only the first of its
  retries: a fault hazard keeps those that fit in its span), or one whose habits are not known
  (no provider, a generic one), or a run that stopped before its end (aborted: the retries it
  would have sent may be missing): the event is unseen, and a single unseen event makes what would
  be a pass INCONCLUSIVE, saying how many, why, and what to change (a failure among the judged
  events stands, the unseen counted beside it).

A pass therefore means every event the outage met was seen through to its effects, never a
judgement of the few it spared while the others were refused (D8).

``deadline`` is scenario time, and the target's time is real: how long the target took is
measured from the moment it owed the effects (the window closing, or its acceptance of the event
when that came later) in real seconds, and never divided by the time scale — a backlog of 2 s
is 2 s at any time scale (``owed_lag``). The wait for the sender's redelivery is the sender's,
not the target's, and is not counted.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..core._model import (
    Delivery,
    Effect,
    Event,
    FailureClass,
    Fault,
    Model,
    Outcome,
    Status,
    Verdict,
)
from ..core._scenario import FAULT_MODES
from ..double._faults import acted_on, on_route, refused_by_the_double
from ..history import History
from ._derived import derived_fields, derived_text, per_record_advice
from ._expected import Expectation, expectation_of, shortfalls_of
from ._explain import (
    coarse_witnesses,
    missing_text,
    newest_clocked_line,
    newest_clocked_text,
    replaced_line,
    replaced_text,
    source_text,
    tried_text,
)
from ._facts import (
    MAX_WITNESSES,
    Facts,
    Witness,
    attribution_gap,
    distinct,
    effects_text,
    event_ref,
    id_list,
    is_write,
    plural,
    route_of,
    timestamp,
    unattributed_note,
    verdict,
    whom,
)
from ._fault_calls import DeliveryWindows, marked_faults
from ._lag import flight_end
from ._newer_first import NewerFirst, assumed, newer_first, newer_first_text
from ._newest import clock_margin, timed_shortfalls
from ._refused_alike import refused_alike
from ._requests import Request, same_resource
from ._sender import Redelivery, Sender, sender_of
from ._shortfalls import Level, Short, Stood, Swapped
from ._stuck import stuck, stuck_note
from ._unfinished import unfinished

NAME = "recovers_after_outage"
CLASS = FailureClass.SILENT
DEFAULT_DEADLINE = 300.0


def owed_lag(window_end: float, acked: Delivery, done_at: float) -> float:
    """Seconds from when the target owed an event's effects to when they were all made.

    The one place a run's time is read for the deadline. The target owed them from the window
    closing, or from the delivery it accepted the event with when that was sent later (the
    sender's wait to redeliver is not the target's). The target's processing, queueing and
    retry timers run in real time whatever the time scale, so these are real seconds, compared
    with the deadline as they are: compressing the scenario's clock does not shorten them.
    """
    return done_at - max(window_end, acked.sent_at)


@dataclass(frozen=True, slots=True)
class _Accepted:
    """An event the target acknowledged during ``window``, or after it having been refused
    during it (``after``)."""

    event: Event
    delivery: Delivery  # the first acknowledging delivery
    window: Fault  # the window it met: open at the ack, or the last it was refused in
    after: bool = False


@dataclass(frozen=True, slots=True)
class _Done:
    """When an event's expected effects were all made, and by which write (the last needed)."""

    at: float
    effect: Effect


def recovers_after_outage(facts: Facts, deadline: float = DEFAULT_DEADLINE) -> Verdict:
    """Fail when an event accepted during (or after refusals in) a fault window lacks its
    expected effects, or got them only after ``deadline``."""
    history = facts.history
    windows = sorted(
        (f for f in history.faults if f.mode in FAULT_MODES), key=lambda f: (f.start, f.end)
    )
    if not windows:
        return verdict(
            NAME, Status.INCONCLUSIVE, CLASS, "the run had no fault window; nothing to recover from"
        )
    instead = per_record_advice(NAME, clean_run=history.baseline is not None)
    gap = attribution_gap(facts, NAME, CLASS, instead=instead)
    if gap is not None:
        return gap
    calls, hit = _met(facts, windows)
    unmet = [w for w, n in zip(windows, calls, strict=True) if not n]
    if len(unmet) == len(windows):
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, _unmet_text(facts, unmet))
    windows = [w for w, n in zip(windows, calls, strict=True) if n]
    scale = float(history.info.settings.get("time_scale", 1.0))
    exp = expectation_of(facts)
    refused_in, alike, held = _refused_in(facts, windows)
    touched = _touched(facts, windows, hit, refused_in)
    needs, left = _needs(facts, exp, [a.event for a in touched])
    accepted = [a for a in touched if a.event.id in needs]
    refused = _unredelivered(facts, exp, refused_in, left)
    notes = (
        _left_note(exp, touched, left)
        + _alike_note(facts, alike, windows)
        + stuck_note(facts, held, _during(windows))
        + _unmet_note(unmet)
        + unattributed_note(facts)
    )
    if not accepted:
        if refused.lost:
            return _lost_verdict(facts, refused, windows, "", notes)
        if touched:  # accepted, but owing no request that names them: ignored, or coarse
            unjudged = (
                f"no event accepted during {_during(windows)} or after it could be judged by "
                "requests naming it"
            )
            coarse = _records_short(facts, exp, touched)
            if coarse.short:
                return _coarse_verdict(facts, exp, coarse, windows, unjudged + notes)
            head = unjudged + (f"; {_unseen_head(refused, windows)}" if refused.unseen else "")
        elif refused.unseen:
            head = f"{_none_met_accepted(facts, windows)}: {_unseen_head(refused, windows)}"
        else:
            head = (
                f"the target accepted no event while {plural(len(windows), 'fault window')} "
                f"{'was' if len(windows) == 1 else 'were'} open; nothing to recover"
            )
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            head + notes,
            _refused_witnesses(facts, refused.unseen),
        )
    done, short = _done(facts, exp, [a.event for a in accepted], needs)
    lags = {
        a.event.id: owed_lag(a.window.end, a.delivery, done[a.event.id].at)
        for a in accepted
        if a.event.id in done
    }
    missing = [a for a in accepted if a.event.id not in done]
    # Skipped as older than their record's state (``_newer_first``): set aside where the
    # hazard assumed the ledger, lost where it was declared.
    origin = assumed(facts)
    newer = newer_first(facts, exp, {a.event.id: short[a.event.id] for a in missing})
    skipped = newer if origin is not None else {}
    missing = [a for a in missing if a.event.id not in skipped]
    late = [a for a in accepted if lags.get(a.event.id, 0.0) > deadline]
    budget = _budget(deadline, scale)
    any_effect = all(needs[a.event.id] is None for a in accepted)
    one = len(accepted) == 1  # "the 1 event … got its", not "all 1 event … got their"
    what = f"{'its' if one else 'their'} {'effect' if any_effect else 'expected effects'}"
    every = "the" if one else "all"
    after = sum(1 for a in accepted if a.after)
    scope = (
        f"{plural(len(accepted), 'event')} accepted during {plural(len(windows), 'fault window')}"
        + (
            f" or after ({after:,} refused while it was open, accepted once closed)"
            if after
            else ""
        )
    )
    if not missing and not late:
        if refused.lost:
            return _lost_verdict(facts, refused, windows, f"; {every} {scope} got {what}", notes)
        coarse = _records_short(facts, exp, touched)
        slowest = max(lags.values())
        when = (
            f"the last {timestamp(slowest)} after it was owed (its window closed, or it was "
            "accepted after)"
            if slowest > 0 and after
            else f"the last {timestamp(slowest)} after its window closed"
            if slowest > 0
            else "all before their window closed"
        )
        made = f"the requests naming {'it' if one else 'them'}" if coarse.short else what
        recovered = f"{every} {scope} got {made} within {budget}: {when}"
        if coarse.short:
            return _coarse_verdict(facts, exp, coarse, windows, recovered + notes)
        if refused.unseen:
            return verdict(
                NAME,
                Status.INCONCLUSIVE,
                CLASS,
                f"{_unseen_head(refused, windows)}; only the others were judged: {recovered}"
                f"{notes}",
                _refused_witnesses(facts, refused.unseen),
            )
        if skipped:
            return verdict(
                NAME,
                Status.INCONCLUSIVE,
                CLASS,
                f"{_skipped_text(skipped, origin, scope, what)}; the other "
                f"{len(accepted) - len(skipped):,} got {what} within {budget}{notes}",
                _skipped_witnesses(facts, exp, accepted, skipped, short, end=_end(facts)),
            )
        return verdict(NAME, Status.PASS, CLASS, f"{recovered}{_compressed(windows, scale)}{notes}")
    parts = []
    if missing:
        parts.append(f"{len(missing):,} never got {'an effect' if any_effect else what}")
    if late:
        parts.append(f"{len(late):,} only after the deadline")
    end = _end(facts)
    closed = max(w.end for w in windows)
    within = _within(budget, deadline, end - closed if missing else math.inf, end)
    declared = {a.event.id: newer[a.event.id] for a in missing if a.event.id in newer}
    summary = (
        f"{len(missing) + len(late):,} of {scope} did not recover {within}: "
        f"{' and '.join(parts)}{_unseen_text(refused, windows)}"
        + (f"; and {_skipped_text(skipped, origin, scope, what)}" if skipped else "")
        + (
            f"; {newer_first_text(declared, whom(len(declared), len(declared) > 1), None)}"
            if declared
            else ""
        )
        + notes
    )
    witnesses = [_missing(facts, exp, a, short[a.event.id], end) for a in missing[:MAX_WITNESSES]]
    for a in late[: max(0, MAX_WITNESSES - len(witnesses))]:
        witnesses.append(_late(facts, a, done[a.event.id], lags[a.event.id], budget))
    if refused.lost:
        witnesses += _refused_witnesses(facts, refused.lost)[
            : max(0, MAX_WITNESSES - len(witnesses))
        ]
    return verdict(NAME, Status.FAIL, CLASS, summary, witnesses)


@dataclass(frozen=True, slots=True)
class _CoarseShort:
    """The records of events that met a window short of requests compared per record (or per
    run: they name no event), split by whether every event of the record met a window."""

    whole: list[Short]  # every event of the record met one: the outage's events lack them
    partial: list[Short]  # others of its events did not (or may still be acting): unknown
    # Ledger records whose last PUT came after their newest event and may carry what the
    # missing ones were for (``Shortfalls.replaced``): unknown, as no_lost_events says.
    replaced: list[Short]
    # Register records last written within the workers' clock uncertainty of their newest
    # event's first send (``Shortfalls.newest_clocked``): unknown, as no_lost_events says.
    clocked: list[Short]

    @property
    def short(self) -> bool:
        return bool(self.whole or self.partial or self.replaced or self.clocked)


def _records_short(facts: Facts, exp: Expectation, touched: Sequence[_Accepted]) -> _CoarseShort:
    """The shortfalls per record and per run (as ``no_lost_events`` finds them) that the events
    which met a window may owe: a write naming only its record (a Slack reply posted to the
    message's channel) cannot say which event lacks it, but when every event of its record met
    the outage, one of those did not recover."""
    met = {a.event.id for a in touched}
    keys = {a.event.key for a in touched}
    history = facts.history
    found = timed_shortfalls(facts)
    clocked = [s for s in found.newest_clocked if s.subject in keys]
    if not found.records and not found.run and not found.replaced and not clocked:
        return _CoarseShort([], [], [], [])
    undone = unfinished(history)
    of_key: dict[str, list[str]] = {}
    for e in history.events:
        of_key.setdefault(e.key, []).append(e.id)
    whole: list[Short] = []
    partial: list[Short] = []
    for s in found.records:
        if s.subject not in keys:
            continue
        sure = not undone.cut and s.subject not in undone.late_keys
        (whole if sure and all(i in met for i in of_key[s.subject]) else partial).append(s)
    everyone = not undone.cut and all(e.id in met for e in history.events)
    for s in found.run:
        (whole if everyone else partial).append(s)
    replaced = [s for s in found.replaced if s.subject in keys]
    return _CoarseShort(whole, partial, replaced, clocked)


def _coarse_verdict(
    facts: Facts, exp: Expectation, coarse: _CoarseShort, windows: Sequence[Fault], judged: str
) -> Verdict:
    """Not a pass: the events' own requests were made, but their records (or the run) are
    short of requests naming no event — FAIL where every event of such a record met a window,
    else INCONCLUSIVE."""
    if not coarse.whole and not coarse.partial:
        margin = clock_margin(facts.history)
        lines = [replaced_line(exp, s) for s in coarse.replaced]
        lines += [newest_clocked_line(exp, s, margin) for s in coarse.clocked]
        unknown = [replaced_text(exp, coarse.replaced)] if coarse.replaced else []
        if coarse.clocked:
            unknown.append(newest_clocked_text(exp, coarse.clocked, margin))
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            "whether the events the outage met recovered is not known: "
            f"{'; and '.join(unknown)}; {judged}",
            [Witness(line) for line in lines[:MAX_WITNESSES]],
        )
    shorts = coarse.whole or coarse.partial
    requests = ", ".join(sorted({s.request.text(exp.several) for s in shorts if s.request}))
    records = {s.subject for s in shorts if s.level is Level.RECORD}
    subject = plural(len(records), "record") if records else "the run"
    per = " (per record" if records else " (per run"
    per += ": these requests name no event, so which event lacks them is not known)"
    witnesses = coarse_witnesses(facts, exp, shorts[:MAX_WITNESSES])
    if coarse.whole:
        every = "each of whose events" if records else "every event of which"
        return verdict(
            NAME,
            Status.FAIL,
            CLASS,
            f"{subject} {every} met {_during(windows)} fell short of {requests}{per}: events the "
            f"outage met did not recover; {judged}",
            witnesses,
        )
    return verdict(
        NAME,
        Status.INCONCLUSIVE,
        CLASS,
        f"{subject} of events that met {_during(windows)} fell short of {requests}{per}, and not "
        "every event of it met the outage, or the target was still acting: whether the events "
        f"the outage met recovered is not known — no_lost_events judges the shortfall; "
        f"{_rule_advice(facts, shorts, requests)}; {judged}",
        witnesses,
    )


def _rule_advice(facts: Facts, shorts: Sequence[Short], requests: str) -> str:
    """What lets this verdict judge each event of records short of ``requests``: a correlate:
    rule tying them to their event — unless no value in their bodies tells a record's events
    apart (``_derived``: a running balance, tests/gallery/booked_balance.py), where no rule
    could, and what judges them per record is said instead."""
    history = facts.history
    records = {s.subject for s in shorts if s.level is Level.RECORD}
    routes = {f"{s.request.method} {s.request.route}" for s in shorts if s.request}
    if records and not history.info.settings.get("correlate"):
        writes = [
            e
            for e in history.effects
            if e.key in records and not e.event_ids and route_of(e) in routes
        ]
        fields = derived_fields(history.events, writes)
        if fields:
            advice = per_record_advice(NAME, clean_run=history.baseline is not None)
            return derived_text(requests, fields, advice)
    return f"a correlate: rule tying {requests} to its event lets this verdict judge each event"


# --- which events, owing what ------------------------------------------------------------------


def _touched(
    facts: Facts,
    windows: Sequence[Fault],
    hit: Mapping[str, Fault],
    refused_in: Mapping[str, _Refusal],
) -> list[_Accepted]:
    """Each event whose first acknowledgement was in flight while a window was open, or came
    after a window in which it was refused, or whose own downstream call a window's fault
    acted on (``hit``: the evidence that it met the outage, whatever the timing of its
    acknowledgement on a loaded machine); in time order."""
    events = facts.events_by_id
    tampered = facts.tampered
    seen: set[str] = set()
    found: list[_Accepted] = []
    acks = sorted(
        (
            d
            for d in facts.history.deliveries
            if d.outcome is Outcome.OK and d.answered_at is not None and d.id not in tampered
        ),
        key=_answered,
    )
    for d in acks:
        event = events.get(d.event_id)
        if event is None or d.event_id in seen:
            continue
        seen.add(d.event_id)  # only the first acknowledgement counts: later ones are duplicates
        # In flight while a window was open (sent before it closed, answered after it opened):
        # a compressed run's window lasts a fraction of a second, less than an ack may take on a
        # loaded machine, and the automation may have met the fault at any moment in between.
        at = _answered(d)
        open_now = [w for w in windows if w.start <= at and d.sent_at < w.end]
        if open_now:
            found.append(_Accepted(event, d, max(open_now, key=_end_of)))
        elif (refused := refused_in.get(d.event_id)) is not None and refused.window.end <= at:
            found.append(_Accepted(event, d, refused.window, after=True))
        elif (met := hit.get(d.event_id)) is not None:
            found.append(_Accepted(event, d, met))
    return found


@dataclass(frozen=True, slots=True)
class _Refusal:
    """How a window met an event's genuine deliveries that the target did not accept: the
    last of them in flight while one was open, and the last-closing window one was in."""

    delivery: Delivery
    window: Fault


def _refused_in(
    facts: Facts, windows: Sequence[Fault]
) -> tuple[dict[str, _Refusal], dict[str, int], dict[str, Delivery]]:
    """Event id -> how the target refused it while a window was open (not a 2xx: an error
    answer, a throttle, no answer), for each event it refused so; and event id -> the answer,
    for the events never accepted whose every refusal in a window the outage did not cause
    (``_refused_alike``: refused alike in the clean run, no call of theirs met a fault); and
    event id -> its last delivery, for the events never accepted whose deliveries the windows
    did not refuse but the target held with no call (``_stuck``).

    A delivery in flight while a window was open (sent before it closed, answered after it
    opened: as ``_touched`` reads an acknowledgement) was refused in it. An answer an outage
    explains — a 5xx, 429 or 408, or none — counts whether or not the delivery called the
    downstream (a circuit breaker refuses without calling); any other (a 400 for a payload the
    target refuses, a 401 for a signature it does not take) is the target's own refusal, which
    counts only when a window answered one of the delivery's own calls
    (``_fault_calls.DeliveryWindows``)."""
    tampered = facts.tampered
    found: dict[str, _Refusal] = {}
    own: list[tuple[Delivery, Fault]] = []
    explained: list[tuple[Delivery, Fault]] = []
    unanswered: list[tuple[Delivery, list[Fault]]] = []
    for d in facts.history.deliveries:
        if d.outcome is Outcome.OK or d.id in tampered:
            continue
        at = _answered(d)
        open_then = [w for w in windows if w.start <= at and d.sent_at < w.end]
        if not open_then:
            continue
        last = max(open_then, key=_end_of)
        if d.status is not None and d.status < 500 and d.status not in _OUTAGE_ANSWERS:
            own.append((d, last))
        else:
            explained.append((d, last))
            unanswered.append((d, open_then))
    if own:
        met = DeliveryWindows(facts.history, (d for d, _ in own), facts.effects_in_order)
        for d, last in own:
            if met.met(d) is not None:
                _hold(found, d, last)
    not_the_outage = refused_alike(facts, (d for d, _ in explained))
    held = stuck(facts, unanswered)
    alike: dict[str, int] = {}
    waited: dict[str, Delivery] = {}
    for d, last in explained:
        if d.id in held:
            if d.event_id not in waited or waited[d.event_id].sent_at < d.sent_at:
                waited[d.event_id] = d
        elif d.id not in not_the_outage:
            _hold(found, d, last)
        elif d.status is not None:
            alike[d.event_id] = d.status
    accepted = facts.accepted
    alike = {e: s for e, s in alike.items() if e not in found and e not in accepted}
    return found, alike, {e: d for e, d in waited.items() if e not in found and e not in accepted}


# Answers below 500 an outage explains: a throttle passed on, a timeout.
_OUTAGE_ANSWERS = frozenset({408, 429})


def _hold(found: dict[str, _Refusal], d: Delivery, window: Fault) -> None:
    """Keep ``d``, refused while ``window`` was open, in its event's refusal: the last refused
    delivery and the last-closing window."""
    held = found.get(d.event_id)
    if held is None:
        found[d.event_id] = _Refusal(d, window)
        return
    last = window if window.end > held.window.end else held.window
    found[d.event_id] = _Refusal(d if d.sent_at >= held.delivery.sent_at else held.delivery, last)


@dataclass(frozen=True, slots=True)
class _Unredelivered:
    """The events refused during a window and never accepted that owe effects they lack
    (``refused``), what happens to them in production (``sender``), and those of them a
    delivery answered with a status the sender gives up on (``gave_up``: event id -> that
    delivery; Standard Webhooks' 410), which it never redelivers whatever its schedule."""

    refused: list[tuple[Event, _Refusal]]
    sender: Sender
    gave_up: Mapping[str, Delivery]

    @property
    def lost(self) -> list[tuple[Event, _Refusal]]:
        """Those the sender never redelivers: lost in production."""
        if self.sender.never_brings_back:
            return self.refused
        return [(e, r) for e, r in self.refused if e.id in self.gave_up]

    @property
    def unseen(self) -> list[tuple[Event, _Refusal]]:
        """Those the sender may redeliver later than the run watched, or nobody knows."""
        if self.sender.never_brings_back:
            return []
        return [(e, r) for e, r in self.refused if e.id not in self.gave_up]

    def lost_reason(self) -> str:
        """Why the lost ones are never redelivered: an answer the sender gives up on, or (the
        others, where the sender gives up after the schedule the run sent) that schedule."""
        lost = self.lost
        statuses = [d.status for e, _ in lost if (d := self.gave_up.get(e.id)) and d.status]
        if not statuses:
            return self.sender.unredelivered()
        said = self.sender.gave_up_text(statuses)
        others = len(lost) - len(statuses)
        if not others:
            return said
        after = self.sender.unredelivered()
        return f"{said} ({plural(len(statuses), 'event')}); {after} (the other {others:,})"


def _unredelivered(
    facts: Facts, exp: Expectation, refused_in: Mapping[str, _Refusal], left: Counter[str]
) -> _Unredelivered:
    """The events the target refused during a window and never accepted, whose effects were
    not made anyway (a refused delivery may still have done its work); those whose effects
    cannot be told are counted in ``left`` (the verdict's notes), those owed nothing skipped."""
    accepted = facts.accepted
    events = facts.events_by_id
    refused = {eid: r for eid, r in refused_in.items() if eid not in accepted and eid in events}
    needs, unknown = _needs(facts, exp, [events[eid] for eid in refused])
    left.update(unknown)
    done, _ = _done(facts, exp, [events[eid] for eid in needs], needs)
    undone = [(events[eid], r) for eid, r in refused.items() if eid in needs and eid not in done]
    undone.sort(key=lambda er: er[1].delivery.sent_at)
    history = facts.history
    sender = sender_of(history.info.settings, history.status)
    gave_up: dict[str, Delivery] = {}
    if undone and sender.gives_up_on:
        ids = {e.id for e, _ in undone}
        tampered = facts.tampered
        for d in history.deliveries:
            if d.event_id in ids and d.id not in tampered and sender.gave_up(d.status):
                gave_up.setdefault(d.event_id, d)
    return _Unredelivered(undone, sender, gave_up)


def _met(facts: Facts, windows: Sequence[Fault]) -> tuple[list[int], dict[str, Fault]]:
    """How many calls each window's fault answered; and event id -> the window whose fault
    answered a call of its (the last to close, where several did). The run's doubles marked
    each call a fault answered (FAULT_MARK); a journal written before they did is read by the
    calls' answers (``acted_on``)."""
    calls = [0] * len(windows)
    hit: dict[str, Fault] = {}
    marked = _fault_marks(facts.history, windows)
    for eff in facts.effects_in_order:
        if marked is not None:
            met = marked.get(eff.id)
        else:
            met = [n for n, w in enumerate(windows) if acted_on(w, eff)]
        if not met:
            continue
        for n in met:
            calls[n] += 1
        last = max((windows[n] for n in met), key=_end_of)
        for eid in eff.event_ids:
            hit.setdefault(eid, last)
    return calls, hit


def _fault_marks(history: History, windows: Sequence[Fault]) -> dict[str, list[int]] | None:
    """Effect id -> the positions in ``windows`` of the faults that answered it, from the run's
    FAULT_MARKs; None for a run whose doubles did not keep them."""
    marked = marked_faults(history)
    if marked is None:
        return None
    faults = history.faults
    position = {id(w): n for n, w in enumerate(windows)}  # a Fault holds a dict: by identity
    found: dict[str, list[int]] = {}
    for effect, ns in marked.items():
        for n in ns:
            if (k := position.get(id(faults[n]))) is not None:
                found.setdefault(effect, []).append(k)
    return found


def _needs(
    facts: Facts, exp: Expectation, events: Sequence[Event]
) -> tuple[dict[str, Counter[Request] | None], Counter[str]]:
    """Event id -> the requests it owes per event (None: any effect), for the events this
    invariant can judge; and why the others were left out (ignored, owing what the clean run
    did not see to its end, or owing requests that this run's writes do not tie to events,
    which ``no_lost_events`` compares coarser)."""
    unnamed = _unnamed_requests(facts, exp)
    needs: dict[str, Counter[Request] | None] = {}
    left: Counter[str] = Counter()
    for e in events:
        if e.id in exp.nothing:
            left["ignored"] += 1
        elif e.id in exp.unseen:  # what it owes is not known (``_unfinished``)
            left["unseen"] += 1
        elif e.id in exp.held:  # held last of its type in the clean run: owed not known
            left["held"] += 1
        elif e.id in exp.any_rule:
            needs[e.id] = None
        elif (wanted := exp.per_event.get(e.id)) is None:
            left["coarse"] += 1
        else:
            kept = Counter({r: n for r, n in wanted.items() if r not in unnamed})
            if kept:
                needs[e.id] = kept
            else:
                left["coarse"] += 1
    return needs, left


def _unnamed_requests(facts: Facts, exp: Expectation) -> set[Request]:
    """Requests some committed write of which names no known event."""
    known = facts.events_by_id
    return {
        exp.routes.of(w)
        for w in facts.writes_in_order
        if not any(eid in known for eid in w.event_ids)
    }


def _alike_note(facts: Facts, alike: Mapping[str, int], windows: Sequence[Fault]) -> str:
    """``; 2 events refused during the fault window not judged: …``: refusals the outage did
    not cause (``_refused_alike``), said with their answers and where they are judged."""
    if not alike:
        return ""
    n = len(alike)
    answers = "/".join(str(s) for s in sorted(set(alike.values())))
    ids = sorted(alike, key=lambda e: facts.events_by_id[e].seq)
    one = n == 1
    return (
        f"; {plural(n, 'event')} refused during {_during(windows)} not judged ({id_list(ids)}): "
        f"{'it was' if one else 'they were'} answered {answers} as {'its' if one else 'their'} "
        f"clean {'twin was' if one else 'twins were'} in the clean run, where no fault was open, "
        f"and no call of {'its' if one else 'theirs'} met the fault — the automation's own "
        f"error, not the outage's (no_lost_events judges {'it' if one else 'them'})"
    )


def _left_note(exp: Expectation, touched: Sequence[_Accepted], left: Counter[str]) -> str:
    notes = ""
    if left["ignored"]:
        notes += f"; {plural(left['ignored'], 'event')} of a type ignored by design not judged"
    if left["coarse"]:
        notes += (
            f"; {plural(left['coarse'], 'event')} whose requests name no event not judged "
            "(no_lost_events compares them per record or per run)"
        )
    if left["unseen"]:
        notes += (
            f"; {plural(left['unseen'], 'event')} not judged: their clean twins made nothing "
            "while the clean run watched, and it stopped watching before the target was done"
        )
    if left["held"]:
        notes += (
            f"; {plural(left['held'], 'event')} not judged: their clean twins were the clean run's "
            "last of their type and made nothing, though it acted on all the others: held until "
            "more come or skipped by their content, it could not show which (no_lost_events "
            "says why)"
        )
    return notes


def _done(
    facts: Facts,
    exp: Expectation,
    owing: Sequence[Event],
    needs: Mapping[str, Counter[Request] | None],
) -> tuple[dict[str, _Done], dict[str, list[Short]]]:
    """Event id -> when all it owes was made; and, for the others, what they still lack.

    Ledger: the event's own writes. Register: also those of newer events of its record, since
    a newer state makes an older one's write unnecessary.
    """
    events = facts.events_by_id
    register = facts.history.info.model is Model.REGISTER
    wanted = {e.id for e in owing}
    keys = {e.key for e in owing} if register else set()
    # (event id or record key, request) -> writes in time order; request None: any write.
    writes: dict[tuple[str, Request | None], list[Effect]] = {}
    for w in facts.writes_in_order:
        request = exp.routes.of(w)
        # Also under the resource it writes, whatever its method (``same_resource``): an
        # upsert's PUT where the clean run PATCHed the same item made the effect another way.
        resource = same_resource(request)
        kinds = (request, None) if resource == request else (request, resource, None)
        for eid in distinct(w.event_ids):
            event = events.get(eid)
            if event is None:
                continue
            if eid in wanted:
                for kind in kinds:
                    writes.setdefault((eid, kind), []).append(w)
            if register and event.key in keys:
                for kind in kinds:
                    writes.setdefault((f"{event.key}#{event.seq}", kind), []).append(w)
    newer = _newer(facts, owing) if register else {}
    done: dict[str, _Done] = {}
    short: dict[str, list[Short]] = {}
    # Found once, when an event first lacks a write: the items created where the clean twin
    # updated them (``Stood``), and the events whose work another of their record did
    # (``Swapped``).
    stood: dict[str, Stood] | None = None
    swapped: dict[str, Swapped] = {}
    stand_ins: dict[str, list[Effect]] = {}  # the writes of the events that stood in
    for e in owing:
        owed: dict[Request | None, int] = {None: 1}
        if (counted := needs[e.id]) is not None:
            owed = {r: n for r, n in counted.items()}
        last: _Done | None = None
        lacking = []
        # A resource the clean twin wrote by one method may be written by another; one it
        # wrote by two (a PATCH and a PUT) owes each (as ``_shortfalls.shortfalls`` reads it).
        ways = Counter(same_resource(r) for r in owed if r is not None)
        for kind, n in owed.items():
            look = kind if kind is None or ways[same_resource(kind)] > 1 else same_resource(kind)
            found = _candidates(writes, e, look, newer.get(e.id, ()))
            if len(found) < n and kind is not None:
                if stood is None:
                    whole = shortfalls_of(facts)
                    stood, swapped = whole.stood, whole.swapped
                    made = facts.effects_of([other.by for other in swapped.values()])
                    stand_ins = {eid: [w for w in ws if is_write(w)] for eid, ws in made.items()}
                # The item created where its clean twin updated it (``_shortfalls.Stood``).
                if (instead := stood.get(e.id)) is not None and instead.request == kind:
                    found = sorted([*found, *writes.get((e.id, instead.creation), [])], key=_at)
                # Its record's work done by another of its events (``_shortfalls.Swapped``).
                if (other := swapped.get(e.id)) is not None and other.request == look:
                    theirs = stand_ins.get(other.by, [])
                    found = sorted(
                        [*found, *(w for w in theirs if exp.routes.of(w) == look)], key=_at
                    )
            if len(found) < n:
                lacking.append(Short(Level.EVENT, e.id, kind, n, len(found)))
                continue
            nth = found[n - 1]
            if last is None or nth.at > last.at:
                last = _Done(nth.at, nth)
        if lacking or last is None:
            short[e.id] = lacking
        else:
            done[e.id] = last
    return done, short


def _newer(facts: Facts, owing: Sequence[Event]) -> dict[str, list[str]]:
    """Register: event id -> the ``key#seq`` of its record's events at its seq or newer."""
    by_key: dict[str, list[Event]] = {}
    for e in facts.history.events:
        by_key.setdefault(e.key, []).append(e)
    return {o.id: [f"{e.key}#{e.seq}" for e in by_key[o.key] if e.seq > o.seq] for o in owing}


def _candidates(
    writes: Mapping[tuple[str, Request | None], list[Effect]],
    event: Event,
    request: Request | None,
    newer: Sequence[str],
) -> list[Effect]:
    own = writes.get((event.id, request), [])
    if not newer:
        return own
    # One write may name the event and a newer one: each once (by id: effects hold dicts).
    merged = {w.id: w for w in own}
    for key in newer:
        merged.update((w.id, w) for w in writes.get((key, request), []))
    return sorted(merged.values(), key=_at)


def _at(effect: Effect) -> float:
    return effect.at


def _end_of(w: Fault) -> float:
    return w.end


def _answered(d: Delivery) -> float:
    """When ``d``'s flight ended: one that got no answer was in flight as long as its sender
    waited (a delivery sent just before a downstream hung, and held by the hang, met it)."""
    return flight_end(d, 0.0)


def _end(facts: Facts) -> float:
    """When the run ended: its recorded end, else the last thing it recorded."""
    history = facts.history
    if history.ended_at is not None:
        return history.ended_at
    times = [e.at for e in history.effects] + [_answered(d) for d in history.deliveries]
    return max(times, default=0.0)


# --- what the verdict says ----------------------------------------------------------------------


def _within(budget: str, deadline: float, watched: float, end: float) -> str:
    """``within 600 s of the window closing``, or — where events never recovered and the run
    ended before the deadline after its last window — how long it watched: a run that settled
    once the target went quiet did not see the rest of the deadline go by."""
    if watched >= deadline:
        return f"within {budget}"
    after = (
        f"{timestamp(watched)} after the last window closed"
        if watched > 0
        else "before the last window closed"
    )
    return (
        f"by the end of the run ({timestamp(end)}, {after}; the deadline, {budget}, was not "
        "waited out)"
    )


def _budget(deadline: float, scale: float) -> str:
    if scale == 1:
        return f"{deadline:g} s of the window closing"
    return (
        f"{deadline:g} s of the window closing (a run compressed at time scale {scale:g}: the "
        "target's own time counted in real seconds, not scaled)"
    )


def _compressed(windows: Sequence[Fault], scale: float) -> str:
    """What a pass of a compressed run saw: outages as long as its windows lasted in real time,
    which the target's own retry timers and queues met — not the scenario's. A window that let
    every call through (``slow``) or failed a count of calls (``fail-first-n``) is no outage a
    retry could give up on: not counted."""
    outages = [w.end - w.start for w in windows if w.mode not in _NOT_OUTAGES]
    if scale >= 1 or not outages:
        return ""
    real = max(outages)
    return (
        f"; the longest outage lasted {timestamp(real)} of real time here ({real / scale:,.0f} s "
        "of the scenario's): a target whose own retries give up sooner than that passes a "
        "compressed run, so run with --time-scale 1 to hold it to the whole outage"
    )


_NOT_OUTAGES = frozenset({"slow", "fail-first-n"})


def _unmet_text(facts: Facts, unmet: Sequence[Fault]) -> str:
    """Why a run whose faults answered no call says nothing of recovery, and how to fix it."""
    said = "; ".join(_missed_text(facts, w) for w in unmet[:MAX_WITNESSES])
    more = len(unmet) - MAX_WITNESSES
    return (
        f"{'the fault' if len(unmet) == 1 else f'none of the {len(unmet):,} faults'} acted on "
        f"{'no call' if len(unmet) == 1 else 'a call'}, so the run shows nothing of how the "
        f"automation recovers from an outage: {said}"
        f"{f'; and {more:,} more' if more > 0 else ''}{unattributed_note(facts)}"
    )


def _missed_text(facts: Facts, w: Fault) -> str:
    """What reached ``w``'s downstream around its window, and what to change so that its
    fault meets the automation's calls."""
    route = w.params.get("route")
    where = f"{w.downstream} on {route}" if route else w.downstream
    during, first_after, refused = 0, None, 0
    for e in facts.effects_in_order:
        if not on_route(w, e) or e.at < w.start:
            continue
        if e.at < w.end:
            during += 1
            refused += refused_by_the_double(e)
        elif first_after is None:
            first_after = e.at
    if during and w.mode == "rate-limit" and not refused:
        seen = (
            f"{plural(during, 'call')} reached {where} during it, never faster than its rate "
            f"of {_number(w.params.get('rate'))} a second: lower the rate"
        )
    elif during:
        seen = (
            f"{plural(during, 'call')} reached {where} during it, none answered by this fault "
            "(a window opened before it answered them, or the double refused them first: a "
            "bad token, a body too large)"
        )
    else:
        seen = (
            f"no call reached {where} while it was open"
            + (
                f" (the first after it came at {timestamp(first_after)})"
                if first_after is not None
                else ""
            )
            + "; make it longer (the fault's `for:`) or the time scale larger, so that the "
            "automation calls it while it is open"
        )
    return f"{_window_text(w)}: {seen}"


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _unmet_note(unmet: Sequence[Fault]) -> str:
    if not unmet:
        return ""
    return (
        f"; {plural(len(unmet), 'fault window')} that acted on no call not judged "
        f"({', '.join(_window_text(w) for w in unmet[:MAX_WITNESSES])})"
    )


def _during(windows: Sequence[Fault]) -> str:
    return "the fault window" if len(windows) == 1 else f"{len(windows):,} fault windows"


def _none_met_accepted(facts: Facts, windows: Sequence[Fault]) -> str:
    """``the target accepted no event during the fault window, nor any it refused there after
    it`` — and, where it accepted others, how many: the events it accepted before the window
    opened or once it had closed, none of which it met (a Locust run's 180 after a 0.5 s window
    read as none accepted at all)."""
    head = f"the target accepted no event during {_during(windows)}, nor after it any it refused"
    accepted = len(facts.accepted)
    if not accepted:
        return head + " there (it accepted none at all)"
    return (
        f"{head} there; the {plural(accepted, 'event')} it accepted "
        f"{'was' if accepted == 1 else 'were'} accepted outside {_during(windows)} (answered "
        "before it opened, or sent once it had closed) and met no fault"
    )


def _unseen_head(refused: _Unredelivered, windows: Sequence[Fault]) -> str:
    """``3 events refused during the fault window were never redelivered and accepted ...``:
    what the run did not see, why, and what to change."""
    n = len(refused.unseen)
    sender = refused.sender
    found = sender.redelivery
    if found is Redelivery.CUT:
        change = "run it again to its end"
    elif found is Redelivery.LATER:
        change = (
            "to see them, run a scenario of your own with all the provider's retries "
            f"(provider: {{name: {sender.provider}, retries: {sender.schedule}}}: the run sends "
            "them, time-scaled, before it settles; `harness show NAME` prints the hazard to "
            "copy), with `harness run` (a Locust load test never retries)"
        )
    elif sender.title is None:
        change = (
            "name the sender (the project's `provider:`, or the scenario's) so that the run "
            "redelivers as it does"
        )
    else:
        change = (
            f"give the scenario's provider the sender's retries (provider: {{name: "
            f"{sender.provider}, retries: [1m, 5m]}})"
        )
    return (
        f"{plural(n, 'event')} refused during {_during(windows)} {'was' if n == 1 else 'were'} "
        f"never redelivered and accepted: {sender.unredelivered()}; the run did not see "
        f"{'it' if n == 1 else 'them'} recover, so {'it is' if n == 1 else 'they are'} not "
        f"judged — {change}"
    )


def _unseen_text(refused: _Unredelivered, windows: Sequence[Fault]) -> str:
    """What the summary adds for the refused events the run did not see redelivered: those
    lost, and those unseen."""
    said = ""
    if refused.lost:
        n = len(refused.lost)
        said += (
            f"; and {plural(n, 'event')} refused during {_during(windows)} "
            f"{'was' if n == 1 else 'were'} never accepted: {refused.lost_reason()}"
        )
    if refused.unseen:
        said += f"; {_unseen_head(refused, windows)}"
    return said


def _lost_verdict(
    facts: Facts, refused: _Unredelivered, windows: Sequence[Fault], judged: str, notes: str
) -> Verdict:
    """FAIL: events the target refused during a window, which its sender never redelivers
    (and those unseen beside them, counted)."""
    n = len(refused.lost)
    unseen = f"; {_unseen_head(refused, windows)}" if refused.unseen else ""
    return verdict(
        NAME,
        Status.FAIL,
        CLASS,
        f"{plural(n, 'event')} refused during a fault window {'was' if n == 1 else 'were'} never "
        f"accepted and never got {'its' if n == 1 else 'their'} effects: "
        f"{refused.lost_reason()}{judged}{unseen}{notes}",
        _refused_witnesses(facts, [*refused.lost, *refused.unseen]),
    )


def _refused_witnesses(facts: Facts, refused: Sequence[tuple[Event, _Refusal]]) -> list[Witness]:
    shown = refused[:MAX_WITNESSES]
    effects = facts.effects_of([e.id for e, _ in shown])
    out = []
    for event, r in shown:
        d = r.delivery
        answer = f"answered {d.status}" if d.status is not None else f"got no answer ({d.error})"
        made = effects[event.id]
        line = (
            f"{event_ref(event)}: its last refused delivery {d.id} (attempt {d.attempt}, sent at "
            f"{timestamp(d.sent_at)}) {answer} during {_window_text(r.window)}; no delivery of "
            "it was accepted"
            + (tried_text(made) if made else "; it made no request to any downstream")
        )
        out.append(Witness(line, (event.id,), (d.id,), tuple(e.id for e in made)))
    return out


def _skipped_text(
    skipped: Mapping[str, NewerFirst], origin: str | None, scope: str, what: str
) -> str:
    """Why the events of ``skipped`` (of ``scope``, lacking ``what``) are not called
    unrecovered."""
    n = len(skipped)
    lack = "lacks" if n == 1 else "lack"
    return f"{n:,} of {scope} {lack} {what}, but " + newer_first_text(
        skipped, whom(n, False), origin
    )


def _skipped_witnesses(
    facts: Facts,
    exp: Expectation,
    accepted: Sequence[_Accepted],
    skipped: Mapping[str, NewerFirst],
    short: Mapping[str, list[Short]],
    end: float,
) -> list[Witness]:
    """The witnesses of events set aside as skipped, each with the newer write that came first."""
    shown = [a for a in accepted if a.event.id in skipped][:MAX_WITNESSES]
    return [
        replace(w, line=f"{w.line}; {skipped[a.event.id].text()}")
        for a, w in ((a, _missing(facts, exp, a, short[a.event.id], end)) for a in shown)
    ]


def _window_text(w: Fault) -> str:
    return f"the {w.downstream} {w.mode} fault ({timestamp(w.start)}-{timestamp(w.end)})"


def _accepted_text(a: _Accepted) -> str:
    d = a.delivery
    if a.after:
        return (
            f"{event_ref(a.event)} was refused during {_window_text(a.window)} and accepted by "
            f"{d.id} ({d.status}) at {timestamp(_answered(d))}, after it closed"
        )
    return (
        f"{event_ref(a.event)} was accepted by {d.id} ({d.status}) at "
        f"{timestamp(_answered(d))} during {_window_text(a.window)}"
    )


def _missing(
    facts: Facts, exp: Expectation, a: _Accepted, shorts: Sequence[Short], end: float
) -> Witness:
    effects = facts.effects_of([a.event.id])[a.event.id]
    writes = [e for e in effects if is_write(e)]
    line = _accepted_text(a)
    if not writes or all(s.request is None for s in shorts):
        line += f" but got no committed effect by the end of the run ({timestamp(end)})"
        line += tried_text(effects) if effects else "; it made no request to any downstream"
    else:
        line += (
            f"; it made {effects_text(writes)} but no {missing_text(exp, shorts)} by the end "
            f"of the run ({timestamp(end)}); {source_text(exp, a.event)}" + tried_text(effects)
        )
    return Witness(line, (a.event.id,), (a.delivery.id,), tuple(e.id for e in effects))


def _late(facts: Facts, a: _Accepted, done: _Done, lag: float, budget: str) -> Witness:
    effects = facts.effects_of([a.event.id])[a.event.id]
    w = done.effect
    since = "it was accepted" if a.after else "the window closed"
    line = (
        f"{_accepted_text(a)}; its effects were complete with {w.method.upper()} {w.path} "
        f"{w.id} at {timestamp(w.at)}, {timestamp(lag)} after {since}, not within {budget}"
    )
    ids = [e.id for e in effects] + [w.id]
    return Witness(line, (a.event.id,), (a.delivery.id,), tuple(dict.fromkeys(ids)))
