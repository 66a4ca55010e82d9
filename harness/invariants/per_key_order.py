"""per_key_order: each record's effects follow its events' order.

Ledger: the first effect of each event, per record, in time order, never goes down in seq —
between events about one object of the record: two whose first writes are idempotent, to paths
each holding an id only its own event carries (a customer's two invoices, ``PUT
/invoices/{id}``), are about different objects and not compared (``_objects``), and a run in
which no two events of a record wrote one resource showed no order kept (inconclusive).
Register: every write per record and resource (downstream and path), in time order, never goes
back to an older event's state after a newer one (a stale overwrite); repeats of one event side
by side are fine. A write to another resource of the record (a member whose id is the hash of a
new address) overwrote nothing, and a POST answered 201 Created made a resource of its own (an
order's deal, an activity line): not judged, and said.

A pair of events is judged only when the automation could tell their order (``_order``): two
events of one record with the same time that reached the target together could be applied
either way by a correct automation: such a pair is counted, and said, not failed.

A batch call (one upsert carrying many records' items) is judged by its items
(``_batch_items.in_order``): each a write of the record it names, applied where it stands in
its call (after the call's earlier items, before its later ones), and across calls by the
calls' times; an item is an upsert, not a creation, whatever the call was answered. What
cannot be told apart record by record is judged as one write, as such a write always was, and
said.
"""

from __future__ import annotations

import itertools
from collections.abc import Container, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Effect, Event, FailureClass, Model, Status, Verdict
from ._batch_items import Split, in_order
from ._brought_back import Back, brought_back
from ._facts import (
    MAX_WITNESSES,
    Facts,
    Witness,
    attribution_gap,
    plural,
    route_of,
    timestamp,
    unattributed_note,
    verdict,
)
from ._leave_out import leave_out_advice
from ._ledger_walk import ledger_steps
from ._objects import Against, Relation, lone, resource
from ._order import Knowable, alike
from ._stale_causes import Causes, causes_of, stale_causes_note

NAME = "per_key_order"
CLASS = FailureClass.SILENT


@dataclass(frozen=True, slots=True)
class _Violation:
    """``effect`` (for ``event``) reached record ``key`` after a newer event's effect had.

    ``unsure``: a ledger's, where nothing told whether the two were about one object
    (``_objects``)."""

    key: str
    effect: Effect
    event: Event
    newer_effect: Effect
    newer_event: Event
    unsure: bool = False


def _events_of(behind: Iterable[_Violation]) -> set[str]:
    return {eid for v in behind for eid in (v.event.id, v.newer_event.id)}


@dataclass(frozen=True, slots=True)
class _Walk:
    records: int
    resources: int  # register: (record, downstream, path) written; ledger: the records
    checked: int  # (effect, record) steps judged
    compared: int  # of those, steps on a record that already had an earlier event's effect
    violations: int
    untold: int  # out-of-order steps between events the automation could not tell apart
    created: int  # register: writes that created a resource of their own, not judged
    apart: int  # ledger: out-of-order steps about another object than every newer event's
    unsure: int  # ledger: out-of-order steps nothing told were about the newer event's object
    apart_write: Effect | None  # the first of the apart steps, for the note
    unsure_write: Effect | None  # the first of the unsure steps, for the note
    firsts: dict[str, _Violation]  # each violating record's first violation, in time order
    earliest: list[_Violation]  # the first few violations of all, in time order


def _walk(facts: Facts, first_only: bool, items: Container[int]) -> _Walk:
    """One pass over the writes in time order, keeping only each record's newest state so far.

    An effect can carry several events of one record (a coalesced update): it must not be
    older than what came before (its lowest seq), and it moves the record to its highest.
    Steps older than their record's newest are kept and judged after the pass (``_judged``).
    ``items``: the id() of each batch call's item, an upsert even where the call was answered
    201 Created.
    """
    if first_only and not facts.several_events_writes:  # by columns (``_ledger_walk``)
        return _ledger(facts)
    events = facts.events_by_id
    first = facts.first_write if first_only else None
    # Record key -> the event of its newest state. Not an (effect, event) pair: making one per
    # step and dropping the last (which reaches back to its cold effect and event) was a
    # quarter of the walk. The write that set the state is, in a ledger walk, that event's
    # first, looked up again only for the few steps out of order; a register walk keeps it in
    # ``setters``.
    # A register's state is its resource's: (record, downstream, path) — a write to another
    # resource of the record (a member whose id is the hash of a new address) overwrote
    # nothing. A ledger's steps are the record's.
    newest: dict[Hashable, Event] = {}
    setters: dict[Hashable, Effect] | None = {} if first is None else None
    behind: list[_Violation] = []
    checked = created = 0

    def setter(slot: Hashable, held: Event) -> Effect:
        return setters[slot] if setters is not None else facts.first_write[held.id]

    for eff in _first_writes(facts) if first_only else facts.writes_in_order:
        if (
            setters is not None
            and eff.status == 201
            and eff.method.upper() == "POST"
            and id(eff) not in items
        ):
            created += 1  # a resource of its own: no record's state to overwrite
            continue
        ids = eff.event_ids
        if len(ids) == 1:  # the common case, one step without a tuple of steps
            # A first write naming one event is that event's first: nothing more to look up.
            event = events.get(ids[0])
            if event is None:
                continue
            checked += 1
            key = event.key
            slot: Hashable = key if setters is None else (key, eff.downstream, resource(eff))
            held = newest.get(slot)
            if held is None or event.seq > held.seq:
                newest[slot] = event
                if setters is not None:
                    setters[slot] = eff
            elif event.seq < held.seq:
                behind.append(_Violation(key, eff, event, setter(slot, held), held))
            continue
        for key, low, high in _spans(eff, events, first):
            checked += 1
            slot = key if setters is None else (key, eff.downstream, resource(eff))
            held = newest.get(slot)
            if held is not None and low.seq < held.seq:
                behind.append(_Violation(key, eff, low, setter(slot, held), held))
            if held is None or high.seq > held.seq:
                newest[slot] = high
                if setters is not None:
                    setters[slot] = eff
    records = len(newest) if setters is None else len({e.key for e in newest.values()})
    return _judged(facts, behind, (records, len(newest)), checked, created)


def _ledger(facts: Facts) -> _Walk:
    """``_walk`` of a ledger whose writes each name at most one of the run's events."""
    first = facts.first_write
    events = facts.recorded.events
    effects = facts.effects_in_order
    found = ledger_steps(first, events)
    behind = []
    for row, code, newer in found.behind:
        eff, event, held = effects[row], events[code], events[newer]
        behind.append(_Violation(event.key, eff, event, first[held.id], held))
    return _judged(facts, behind, (found.records, found.records), found.checked, 0)


def _judged(
    facts: Facts,
    behind: Sequence[_Violation],
    written: tuple[int, int],
    checked: int,
    created: int,
) -> _Walk:
    """The out-of-order steps, in time order, told apart: violations, untold, or — a ledger's
    — about another object than the newer events' (apart) or not told to be one (unsure)."""
    objects = _Objects(facts, behind)
    knowable = Knowable(facts, _events_of(objects.judged))
    firsts: dict[str, _Violation] = {}
    earliest: list[_Violation] = []
    violations = untold = unsure = 0
    unsure_write: Effect | None = None
    for v in objects.judged:
        if not knowable(v.event, v.newer_event, v.newer_effect.at):
            untold += 1
        elif v.unsure:
            unsure += 1
            unsure_write = unsure_write or v.effect
        else:
            violations += 1
            if len(earliest) < MAX_WITNESSES or v.key not in firsts:
                firsts.setdefault(v.key, v)
                if len(earliest) < MAX_WITNESSES:
                    earliest.append(v)
    records, resources = written
    # Each resource's first step is the only one that found nothing held: the rest compared.
    compared = checked - resources
    return _Walk(
        records,
        resources,
        checked,
        compared,
        violations,
        untold,
        created,
        len(behind) - len(objects.judged),
        unsure,
        objects.apart_write,
        unsure_write,
        firsts,
        earliest,
    )


class _Objects:
    """A ledger's out-of-order steps, each against the newest event applied before it about
    the same object (``_objects``): ``judged``, and the first write ``apart`` from all."""

    def __init__(self, facts: Facts, behind: Sequence[_Violation]) -> None:
        self.apart_write: Effect | None = None
        self.judged: list[_Violation] = []
        if facts.history.info.model is Model.REGISTER:
            self.judged.extend(behind)
            return
        against = Against(facts, {v.key for v in behind})
        for v in behind:
            newer, how = against(v.event, v.effect, v.newer_event)
            if how is Relation.APART:
                self.apart_write = self.apart_write or v.effect
                continue
            if newer is v.newer_event and how is Relation.SAME:
                self.judged.append(v)
                continue
            unsure = how is Relation.UNSURE
            newer_effect = facts.first_write[newer.id]
            self.judged.append(_Violation(v.key, v.effect, v.event, newer_effect, newer, unsure))


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
    gap = attribution_gap(facts, NAME, CLASS, may_not_apply=True)
    if gap is not None:
        return gap
    # A batch call names events of several records: a run with no write naming two events
    # has none, and is not looked at again.
    batches = in_order(facts.history) if facts.several_events_writes else None
    if batches is not None:  # judged by their items (_batch_items)
        facts = Facts(batches.history)
    register = facts.history.info.model is Model.REGISTER
    walk = _walk(facts, not register, batches.positions if batches is not None else {})
    # A register's records an older event's write brought back after a DELETE naming no event.
    backs = brought_back(facts) if register else []
    note = (
        _untold_note(walk, facts)
        + _objects_note(walk)
        + unattributed_note(facts)
        + (_batches_note(batches) if batches is not None else "")
    )
    advice = leave_out_advice(NAME, "order")  # for each "nothing to order" below
    if not walk.checked and walk.created:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"every write created a resource of its own (POST answered 201 Created, "
            f"{plural(walk.created, 'time')}): a creation overwrites no record's state, so "
            f"there was no order to keep{note}{advice}",
        )
    note += _created_note(walk)
    if not walk.checked:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"no attributed effect changed a downstream; nothing to order{note}{advice}",
        )
    if not walk.compared and not backs and walk.resources > walk.records:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"each of the {plural(walk.resources, 'resource')} the "
            f"{plural(walk.records, 'record')} wrote was written by a single event: a write to "
            "another resource of its record (another path) overwrites nothing, so there was no "
            f"order to keep{note}{advice}",
        )
    if not walk.compared and not backs:
        # One event's effect per record: nothing could have been out of order, so nothing
        # was shown to be in order either.
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"each of the {plural(walk.records, 'record')} got effects of a single event; "
            f"there was no order to keep{note}{advice}",
        )
    judged = register or walk.violations or walk.unsure or walk.untold
    shown = None if judged else lone(facts)
    if shown is not None:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"no two events of one record wrote one resource (each wrote a path of its own, "
            f"idempotently: {route_of(shown)}), so no order was shown kept{note}{advice}",
        )
    scope = f"{plural(walk.records, 'record')}, {plural(walk.checked, 'effect')} checked"
    if not walk.violations and not backs:
        if walk.unsure:
            text = (
                "no record's effects went against event order where the harness could tell "
                f"their objects ({scope})"
            )
            return verdict(NAME, Status.INCONCLUSIVE, CLASS, text + note)
        if walk.untold:
            text = f"no record's effects went against an order the automation could know ({scope})"
        elif walk.apart:
            text = f"no record's effects went against event order on any one object ({scope})"
        elif register:
            text = f"no record went back to an older state ({scope})"
        else:
            text = f"effects kept event order on every record ({scope})"
        return verdict(NAME, Status.PASS, CLASS, text + note)
    records = len(walk.firsts.keys() | {b.key for b in backs})
    if register:
        text = (
            f"{records:,} of {plural(walk.records, 'record')} went back to an older state after "
            f"a newer one (stale overwrite, {plural(walk.violations + len(backs), 'time')})"
            f"{_back_note(backs)}{stale_causes_note(list(walk.firsts.values()), facts)}"
        )
    else:
        text = (
            f"{records:,} of {plural(walk.records, 'record')} had effects applied out of event "
            f"order ({plural(walk.violations, 'violation')}){_causes_note(walk, facts)}"
        )
    witnesses = [b.witness() for b in backs[:MAX_WITNESSES]]
    witnesses += _witnesses(walk, register, batches)
    return verdict(NAME, Status.FAIL, CLASS, text + note, witnesses)


def _back_note(backs: Sequence[Back]) -> str:
    """What the records brought back after their deletion say (``_brought_back``)."""
    if not backs:
        return ""
    records = len({b.key for b in backs})
    return (
        f"; {plural(records, 'record')} brought back after {'its' if records == 1 else 'their'} "
        "deletion: a write of an older event came after the record's DELETE (which names no "
        "event, only the record), the clean run's last write of it — an upsert of a late update "
        "resurrects what was deleted: keep the deletion (a tombstone with its time) and skip "
        "an older event of a deleted record, or compare each event's time with the record's "
        "last one before writing"
    )


# Said after what keeps a record's order where it matters: where it does not, the author's
# cure is to stop asking for it.
_INDEPENDENT = (
    "where its lines are independent (a deal per order, a receipt per payment), their order "
    "is not the automation's to keep: leave per_key_order out (`leave_out: {per_key_order: "
    "<why>}` in harness.yaml, docs/project.md; docs/invariants.md) — not `model: register`, "
    "under which only each record's newest event is owed its effects and a lost older order "
    "would pass"
)


def _causes_note(walk: _Walk, facts: Facts) -> str:
    """Why a ledger's records got their events' effects out of order, where the journal shows
    it, each record's first violation once: the target refused the older event's first
    delivery and the sender delivered it again (the order any retry gives, which only a record
    that holds its newer events back keeps), the sender delivered the older only once the
    newer was accepted (the sender's order, which one worker keeps as it came), or both events
    were in hand together — each delivered and accepted before either's effect — and were
    worked at the same time (a pool of workers keeps no order between them) or, the newer sent
    first, written as they came (one worker, or a batch, in arrival order). Each matters
    only where the order of a record's lines does, which the journal cannot tell."""
    found = causes_of(list(walk.firsts.values()), facts, register=False)
    retried, arrived, together = found.retried, found.arrived, found.together
    newer_first = found.newer_first + found.newer_answered
    note = ""
    if retried:
        note += (
            f"; on {retried:,} of these records the older event was written after the newer "
            "because the target refused its first delivery (5xx or no answer) and the sender "
            "delivered it again — the order a retry gives: where a record's order matters (a "
            "running balance, a refund after its payment), hold its newer events until the "
            f"older one is written; {_INDEPENDENT}"
        )
    if arrived:
        note += (
            f"; on {arrived:,} of these records the sender delivered the older event after the "
            "newer, and the target wrote them in the order they came: where a record's order "
            "matters (a running balance, a refund after its payment), order its events by their "
            f"sequence or time, holding a newer one until the older is written; {_INDEPENDENT}"
        )
    if together:
        note += (
            f"; on {together:,} of these records both events were delivered and accepted "
            "before either's effect was made, and the older's came after the newer's: worked "
            "at the same time by more than one worker (a thread or process pool, a task "
            f"queue's workers), or taken off a queue out of order{_as_they_came(found)} "
            f"— {'none' if newer_first else 'neither'} keeps order between a record's events; "
            "where a record's order matters (a running balance, a refund after its payment), "
            "serialize a record's work (a lock or a queue per record) and take its events in "
            f"their sequence or time order, not as they arrive; {_INDEPENDENT}"
        )
    if found.concurrent:
        note += (
            f"; on {found.concurrent:,} of these records both events were in flight at once "
            "(each sent before the other was answered) and the target worked them at the same "
            "time, the older's effect made after the newer's: where a record's order matters "
            "(a running balance, a refund after its payment), serialize a record's work (a lock "
            f"per record, or a queue per record worked in the events' order); {_INDEPENDENT}"
        )
    return note


def _as_they_came(found: Causes) -> str:
    """``, or — where the newer was sent first …``: one worker keeping arrival order writes
    those so too — as it does those whose newer, sent after, was answered first (it took the
    newer first, as far as the run sees); "" for none."""
    sent, answered = found.newer_first, found.newer_answered
    if not sent and not answered:
        return ""
    where = []
    if sent:
        where.append(f"the newer was sent first, as on {sent:,} of them")
    if answered:
        where.append(
            "the newer, sent after, was answered first (taken first, where it answers at "
            f"once), as on {answered:,}"
        )
    return (
        f", or — where {', or where '.join(where)} — taken in the order they came (one worker as "
        "they arrive, a batch's items in arrival order)"
    )


def _batches_note(batches: Split) -> str:
    """The batch routes judged by their items, and what was judged as one write."""
    text = ""
    if batches.routes:
        text = (
            f"; the writes to {', '.join(batches.routes)} judged by their items, each element "
            "of a call's list a write of the record it names, applied where it stands in its call"
        )
    aside = batches.aside
    parts = []
    if aside.merged:
        parts.append(f"{plural(aside.merged, 'batch item')} naming events of several records")
    if aside.writes:
        parts.append(
            f"{plural(aside.writes, 'write')} to a route whose calls name events of several "
            "records without a list of one item per event in the body"
        )
    if parts:
        text += (
            f"; {' and '.join(parts)} judged as one write each, by each record's oldest event "
            "in it: the order inside not seen (check that each item of a batch call carries "
            "its event's id or its record's key, as sent)"
        )
    nameless = aside.elements - aside.merged
    if nameless:
        text += (
            f"; {plural(nameless, 'batch item')} naming no event nor record of this run not "
            "judged: nothing to order"
        )
    return text


def _created_note(walk: _Walk) -> str:
    if not walk.created:
        return ""
    return (
        f"; {plural(walk.created, 'write')} that created a resource of its own (POST answered "
        "201 Created) not judged: a creation overwrites nothing"
    )


def _objects_note(walk: _Walk) -> str:
    """A ledger's out-of-order writes about another object than the newer events', or not
    told to be about the same one."""
    note = ""
    if walk.apart_write is not None:
        note += (
            f"; {plural(walk.apart, 'out-of-order write')} not judged: each was about another "
            f"object of its record than the newer events written before it "
            f"({route_of(walk.apart_write)}: an idempotent write to a path holding an id only "
            "its own event carries), so their order changed neither"
        )
    if walk.unsure_write is not None:
        note += (
            f"; {plural(walk.unsure, 'out-of-order write')} not judged: an idempotent write to "
            f"another path of its record than the newer events' ({route_of(walk.unsure_write)}) "
            "holding no id only its own event carries (derived, hashed, or one the other event "
            "names too), so nothing told whether the two were about one object; "
            "final_state_matches_baseline compares the objects themselves"
        )
    return note


def _untold_note(walk: _Walk, facts: Facts) -> str:
    if not walk.untold:
        return ""
    return (
        f"; {plural(walk.untold, 'out-of-order write')} not judged: between events of one record "
        f"with {alike(facts)} that reached the target together, so nothing told their order"
    )


def _witnesses(walk: _Walk, register: bool, batches: Split | None) -> list[Witness]:
    """The first violation of each record before further ones: as many records as can be shown."""
    shown = list(itertools.islice(walk.firsts.values(), MAX_WITNESSES))
    taken = {id(v) for v in shown}
    more = [v for v in walk.earliest if id(v) not in taken]
    return [_witness(v, register, batches) for v in shown + sorted(more, key=_when)]


def _when(v: _Violation) -> float:
    return v.effect.at


def _witness(v: _Violation, register: bool, batches: Split | None) -> Witness:
    then = (
        f"seq {v.event.seq} ({v.event.id}, {_ref(v.effect, batches)}) at {timestamp(v.effect.at)}"
    )
    before = (
        f"seq {v.newer_event.seq} ({v.newer_event.id}, {_ref(v.newer_effect, batches)}) "
        f"at {timestamp(v.newer_effect.at)}"
    )
    if register:
        line = f"record {v.key} went back to an older state: {then} overwrote {before}"
    else:
        line = f"effects for record {v.key} applied out of event order: {then} after {before}"
    return Witness(line, (v.event.id, v.newer_event.id), (), (v.effect.id, v.newer_effect.id))


def _ref(effect: Effect, batches: Split | None) -> str:
    """``eff_3``, or ``eff_3 item 2 of 10`` for a batch call's item."""
    position = batches.position(effect) if batches is not None else ""
    return f"{effect.id} {position}" if position else effect.id
