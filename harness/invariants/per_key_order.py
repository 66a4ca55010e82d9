"""per_key_order: each record's effects follow its events' order.

Ledger: the first effect of each event, per record, in time order, never goes down in seq.
Register: every write per record, in time order, never goes back to an older event's state
after a newer one (a stale overwrite); repeats of one event side by side are fine.

A pair of events is judged only when the automation could tell their order: the payload
carries the record's sequence; or the older one had been answered before the newer one was
first sent; or their times (at the source's time path) differ and — for a ledger, whose every
event is owed — the older one had been answered before the newer one's effect was made, so it
was in hand when the newer one was applied. Two events of one record with the same time
(Stripe's ``created`` is whole seconds) that reached the target together could be applied
either way by a correct automation: such a pair is counted, and said, not failed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from ..core import _paths
from ..core._model import Effect, Event, FailureClass, Model, Status, Verdict
from ._facts import (
    MAX_WITNESSES,
    Facts,
    Witness,
    attribution_gap,
    plural,
    timestamp,
    unattributed_note,
    verdict,
)

NAME = "per_key_order"
CLASS = FailureClass.SILENT


@dataclass(frozen=True, slots=True)
class _Violation:
    """``effect`` (for ``event``) reached record ``key`` after a newer event's effect had."""

    key: str
    effect: Effect
    event: Event
    newer_effect: Effect
    newer_event: Event


class _Knowable:
    """Whether the automation could tell that one event of a record came before another."""

    def __init__(self, facts: Facts) -> None:
        paths = facts.history.info.settings.get("paths") or {}
        self._sequenced = bool(paths.get("seq"))
        self._ledger = facts.history.info.model is Model.LEDGER
        time = _time_path(facts)
        self._time = _paths.parse(time) if time else None
        self._facts = facts
        self._arrival: dict[str, tuple[float, float]] | None = None

    def __call__(self, older: Event, newer: Event, newer_applied: float) -> bool:
        if self._sequenced:
            return True
        arrival = self._arrivals()
        older_answered = arrival.get(older.id, (0.0, float("inf")))[1]
        newer_sent = arrival.get(newer.id, (float("inf"), 0.0))[0]
        if older_answered <= newer_sent:
            return True
        if self._time is None or (self._ledger and older_answered > newer_applied):
            return False
        then = _paths.get(older.payload, self._time, None)
        now = _paths.get(newer.payload, self._time, None)
        return then is not None and now is not None and then != now

    def _arrivals(self) -> dict[str, tuple[float, float]]:
        """Per event: when its first delivery was sent, and when its first answer came."""
        if self._arrival is None:
            found: dict[str, tuple[float, float]] = {}
            never = (float("inf"), float("inf"))
            for d in self._facts.history.deliveries:
                sent, answered = found.get(d.event_id, never)
                at = d.answered_at
                if at is not None and at < answered:
                    answered = at
                found[d.event_id] = (d.sent_at if d.sent_at < sent else sent, answered)
            self._arrival = found
        return self._arrival


def _time_path(facts: Facts) -> str | None:
    """Where the run's payloads carry their time (the source's time path), when they do."""
    time = (facts.history.info.settings.get("paths") or {}).get("time")
    return time if isinstance(time, str) else None


@dataclass(frozen=True, slots=True)
class _Walk:
    records: int
    checked: int  # (effect, record) steps judged
    compared: int  # of those, steps on a record that already had an earlier event's effect
    violations: int
    untold: int  # out-of-order steps between events the automation could not tell apart
    firsts: dict[str, _Violation]  # each violating record's first violation, in time order
    earliest: list[_Violation]  # the first few violations of all, in time order


def _walk(facts: Facts, first_only: bool) -> _Walk:
    """One pass over the writes in time order, keeping only each record's newest state so far.

    An effect can carry several events of one record (a coalesced update): it must not be
    older than what came before (its lowest seq), and it moves the record to its highest.
    Violations are counted; only those the evidence can show are kept.
    """
    events = facts.events_by_id
    first = facts.first_write if first_only else None
    knowable = _Knowable(facts)
    newest: dict[str, tuple[Effect, Event]] = {}
    firsts: dict[str, _Violation] = {}
    earliest: list[_Violation] = []
    checked = compared = violations = untold = 0
    for eff in _first_writes(facts) if first_only else facts.writes_in_order:
        ids = eff.event_ids
        if len(ids) == 1:  # the common case, kept cheap
            # A first write naming one event is that event's first: nothing more to look up.
            event = events.get(ids[0])
            if event is None:
                continue
            steps: Iterable[tuple[str, Event, Event]] = ((event.key, event, event),)
        else:
            steps = _spans(eff, events, first)
        for key, low, high in steps:
            checked += 1
            held = newest.get(key)
            if held is None:
                newest[key] = (eff, high)
                continue
            compared += 1
            if low.seq < held[1].seq and not knowable(low, held[1], held[0].at):
                untold += 1
            elif low.seq < held[1].seq:
                violations += 1
                if len(earliest) < MAX_WITNESSES or key not in firsts:
                    found = _Violation(key, eff, low, held[0], held[1])
                    firsts.setdefault(key, found)
                    if len(earliest) < MAX_WITNESSES:
                        earliest.append(found)
            if high.seq > held[1].seq:
                newest[key] = (eff, high)
    return _Walk(len(newest), checked, compared, violations, untold, firsts, earliest)


def _first_writes(facts: Facts) -> Iterator[Effect]:
    """The writes that are some event's first, in time order, each once.

    ``first_write`` was filled in time order, so it already is; an effect carrying several
    events appears once per event, side by side.
    """
    last = None
    for eff in facts.first_write.values():
        if eff is not last:
            yield eff
            last = eff


def _spans(
    eff: Effect, events: Mapping[str, Event], first: Mapping[str, Effect] | None
) -> list[tuple[str, Event, Event]]:
    """Per record, the oldest and newest of the events this effect carries (and judges)."""
    spans: dict[str, tuple[Event, Event]] = {}
    for eid in eff.event_ids:
        event = events.get(eid)
        if event is None or (first is not None and first.get(eid) is not eff):
            continue
        held = spans.get(event.key)
        if held is None:
            spans[event.key] = (event, event)
        else:
            spans[event.key] = (min(held[0], event, key=_seq), max(held[1], event, key=_seq))
    return [(key, low, high) for key, (low, high) in spans.items()]


def _seq(event: Event) -> int:
    return event.seq


def per_key_order(facts: Facts) -> Verdict:
    """Fail when a record's effects go against its events' order."""
    gap = attribution_gap(facts, NAME, CLASS)
    if gap is not None:
        return gap
    register = facts.history.info.model is Model.REGISTER
    walk = _walk(facts, first_only=not register)
    note = _untold_note(walk, facts) + unattributed_note(facts)
    if not walk.checked:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"no attributed effect changed a downstream; nothing to order{note}",
        )
    if not walk.compared:
        # One event's effect per record: nothing could have been out of order, so nothing
        # was shown to be in order either.
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"each of the {plural(walk.records, 'record')} got effects of a single event; "
            f"there was no order to keep{note}",
        )
    scope = f"{plural(walk.records, 'record')}, {plural(walk.checked, 'effect')} checked"
    if not walk.violations:
        if walk.untold:
            text = f"no record's effects went against an order the automation could know ({scope})"
        elif register:
            text = f"no record went back to an older state ({scope})"
        else:
            text = f"effects kept event order on every record ({scope})"
        return verdict(NAME, Status.PASS, CLASS, text + note)
    records = len(walk.firsts)
    if register:
        text = (
            f"{records:,} of {plural(walk.records, 'record')} went back to an older state after "
            f"a newer one (stale overwrite, {plural(walk.violations, 'time')})"
        )
    else:
        text = (
            f"{records:,} of {plural(walk.records, 'record')} had effects applied out of event "
            f"order ({plural(walk.violations, 'violation')})"
        )
    return verdict(NAME, Status.FAIL, CLASS, text + note, _witnesses(walk, register))


def _untold_note(walk: _Walk, facts: Facts) -> str:
    if not walk.untold:
        return ""
    time = _time_path(facts)
    alike = f"the same time at {time}" if time else "no sequence or time in the payload"
    return (
        f"; {plural(walk.untold, 'out-of-order write')} not judged: between events of one record "
        f"with {alike} that reached the target together, so nothing told their order"
    )


def _witnesses(walk: _Walk, register: bool) -> list[Witness]:
    """The first violation of each record before further ones: as many records as can be shown."""
    shown = list(itertools.islice(walk.firsts.values(), MAX_WITNESSES))
    taken = {id(v) for v in shown}
    more = [v for v in walk.earliest if id(v) not in taken]
    return [_witness(v, register) for v in shown + sorted(more, key=_when)]


def _when(v: _Violation) -> float:
    return v.effect.at


def _witness(v: _Violation, register: bool) -> Witness:
    then = f"seq {v.event.seq} ({v.event.id}, {v.effect.id}) at {timestamp(v.effect.at)}"
    before = (
        f"seq {v.newer_event.seq} ({v.newer_event.id}, {v.newer_effect.id}) "
        f"at {timestamp(v.newer_effect.at)}"
    )
    if register:
        line = f"record {v.key} went back to an older state: {then} overwrote {before}"
    else:
        line = f"effects for record {v.key} applied out of event order: {then} after {before}"
    return Witness(line, (v.event.id, v.newer_event.id), (), (v.effect.id, v.newer_effect.id))
