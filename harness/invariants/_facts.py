"""What several invariants need from one History, indexed once per ``judge()`` call.

Also the pieces every verdict's text is built from, so all four invariants name events,
deliveries and effects the same way.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from functools import cached_property
from itertools import compress, count
from operator import attrgetter

from ..core._graphql import MARK as GRAPHQL_MARK
from ..core._graphql import graphql_read
from ..core._model import Delivery, Effect, Event, Evidence, FailureClass, Outcome, Status, Verdict
from ..drive._drift import drifted_events
from ..history import (
    SEVERAL,
    Effects,
    History,
    delivery_column,
    delivery_rows,
    event_column,
    event_rows,
    events_by_id,
)
from ._chained import chain
from ._derived import derived_fields, derived_text, leave_out_advice
from ._rounded_ids import rounded_id, rounded_text
from ._single_event import Taken, clean_run, single_event_records
from ._undone import Undone, undo
from ._write_index import SAFE_METHODS as SAFE_METHODS
from ._write_index import Index, Rows, Writes, index_writes

MAX_WITNESSES = 10
# Ids listed per witness: a line naming 500 deliveries is no longer readable.
MAX_IDS = 8
# Where a hint about unattributed effects sends the user.
CORRELATION_DOC = "docs/correlation.md"
_SHOWN_ROUTES = 3
_AT = attrgetter("at")  # a sort key without a Python call per effect
# A path segment that names one resource rather than a collection: it holds a digit, and is
# not an API version (v2, 2024-01), or it holds an @ (an email: _requests.normalise). One
# substitution: a run may have a million such effects.
_RESOURCE_ID = re.compile(
    r"(?<=/)(?!(?:v\d+(?:\.\d+)*|\d{4}-\d{2}(?:-\d{2})?)(?:/|$))[^/]*[\d@][^/]*"
)


def is_write(effect: Effect) -> bool:
    """Could this effect have changed the downstream?

    Reads cannot (a GraphQL query, POSTed, is one), and a request the downstream did not
    commit (refused 4xx/5xx during an outage, a reset connection) did not: counting it would
    hide an event the target dropped after a 503. A write committed and then answered 5xx
    (the ambiguous ack) did.
    """
    return effect.committed and would_write(effect)


def would_write(effect: Effect) -> bool:
    """Would this request change the downstream, were it committed (no read)?"""
    method = effect.method.upper()
    if method in SAFE_METHODS:
        return False
    # The GraphQL test inline first: a call per POST costs a million calls in a large run.
    return GRAPHQL_MARK not in effect.body or not graphql_read(method, effect.body)


def not_counted(effect: Effect) -> str:
    """``POST /payouts eff_3 (refused 503)``: a request that is not a write, and why."""
    if isinstance(effect, Undone):
        why = effect.why()
    elif effect.committed:
        why = "read-only"
    else:
        why = uncommitted(effect)
    return f"{effect.method.upper()} {effect.path} {effect.id} ({why})"


def uncommitted(effect: Effect) -> str:
    """``refused 503``, ``connection reset``: why the downstream did not commit ``effect``
    (but an ``Undone``'s, which it did and its event undid)."""
    if 0 < effect.status < 400:  # not applied, though answered as if it were
        return "answered its Idempotency-Key's first answer, not applied"
    return "connection reset" if effect.status == 0 else f"refused {effect.status}"


def distinct(ids: tuple[str, ...]) -> Iterable[str]:
    """An effect's event ids, each once: an id named twice is still one attribution."""
    return ids if len(ids) < 2 else dict.fromkeys(ids)


def nones(values: Iterable[object]) -> list[int]:
    """The positions of None in ``values``; in a list, found by C code: a million statuses, a
    few None."""
    if not isinstance(values, list):
        return [i for i, value in enumerate(values) if value is None]
    found: list[int] = []
    at = -1
    try:
        while True:
            at = values.index(None, at + 1)
            found.append(at)
    except ValueError:
        return found


class Facts:
    """Lazily built indexes over one History; each is computed at most once.

    Built for a million deliveries within a few seconds: single passes, few containers
    per item (each container allocated also costs the garbage collector a look later).
    """

    def __init__(self, history: History) -> None:
        # As recorded, but for the creations an event undid (_undone) and the effects naming
        # only an id made up for a creation (_chained); ``history`` is what the invariants judge.
        self.recorded = chain(undo(history))
        # What ``deliveries_of`` found so far, by event id.
        self._deliveries_known: dict[str, list[Delivery]] = {}

    @cached_property
    def history(self) -> History:
        """The run as judged: as recorded, but for the effects naming only a record that had a
        single event, taken as that event's (``single_event``), in the run and its clean run."""
        return self.single_event.history

    @cached_property
    def single_event(self) -> Taken:
        """The effects naming only their record taken as its single event's, and those not."""
        recorded = self.recorded
        record_only = self._recorded_index.record_only
        late_only = self._late_record_only
        if not record_only and not late_only:
            return Taken(recorded)
        clean = recorded.baseline
        single = {key for key, (n, _) in self.record_events.items() if n == 1 and key is not None}
        return single_event_records(
            recorded,
            record_only,
            late_only,
            single,
            self.tampered,
            lambda: None if clean is None else clean_run(clean, _tampered(clean)),
        )

    @property
    def _late_record_only(self) -> list[Effect]:
        """The late effects (never judged; a few) naming a record of the run and no event."""
        late = self.recorded.late_effects
        if not late:
            return []
        known, records = self.events_by_id, self.records
        return [e for e in late if e.key in records and not any(i in known for i in e.event_ids)]

    @cached_property
    def events_by_id(self) -> Mapping[str, Event]:
        return events_by_id(self.recorded.events)

    @cached_property
    def tampered(self) -> dict[str, str]:
        """Delivery id -> tamper mode (forged, unsigned, stale, replayed), from the run."""
        return _tampered(self.recorded)

    @cached_property
    def accepted(self) -> set[str]:
        """Known events with at least one genuine delivery the target answered 2xx.

        A tampered delivery is an attacker's, not the sender's: accepting one does not make
        its event one the target owes an effect (``rejects_forged`` judges those).
        """
        ok = Outcome.OK
        tampered = self.tampered
        deliveries = self.recorded.deliveries
        if tampered:
            found = {
                e
                for e, o, i in delivery_rows(deliveries, "event_id", "outcome", "id")
                if o is ok and i not in tampered
            }
        else:
            found = {e for e, o in delivery_rows(deliveries, "event_id", "outcome") if o is ok}
        if not found <= self.events_by_id.keys():
            found.intersection_update(self.events_by_id)
        return found

    @cached_property
    def effects_in_order(self) -> Sequence[Effect]:
        """All effects by time, as judged; the sort is stable, so ties keep their recorded
        order."""
        taken = self.single_event.effects
        if not taken:
            return self._recorded_in_order
        return [taken.get(id(e), e) for e in self._recorded_in_order]

    @cached_property
    def _recorded_in_order(self) -> Sequence[Effect]:
        effects = self.recorded.effects
        if isinstance(effects, Effects):  # loaded in time order (``history.load``)
            return effects
        return sorted(effects, key=_AT)

    @cached_property
    def records(self) -> set[str]:
        """The run's record keys."""
        return set(event_column(self.recorded.events, "key"))

    @cached_property
    def record_events(self) -> dict[str | None, tuple[int, int]]:
        """Record key -> (its events, those accepted); None -> the run's."""
        return events_by_record(self.recorded.events, self.accepted, self.events_by_id)

    @cached_property
    def record_twins(self) -> dict[str, str]:
        """This run's record key -> its clean run's, through the events of the same seq and
        type; empty without a clean run."""
        baseline = self.recorded.baseline
        if baseline is None:
            return {}
        twins = {seq: (t, key) for seq, t, key in event_rows(baseline.events, *_TWINS)}
        return {
            key: twin[1]
            for seq, t, key in event_rows(self.history.events, *_TWINS)
            if (twin := twins.get(seq)) is not None and twin[0] == t
        }

    @cached_property
    def clean_record_events(self) -> dict[str | None, tuple[int, int]]:
        """The clean run's record key -> (its events, those accepted there); empty without
        a clean run."""
        baseline = self.recorded.baseline
        if baseline is None:
            return {}
        return events_by_record(baseline.events, accepted_in(baseline))

    @cached_property
    def comparable_records(self) -> frozenset[str]:
        """The records whose creations can be counted against their clean twin's: of several
        events (one event's creations are its own to judge), none changed by a drift hazard
        (a look-up by a renamed field that misses and creates again is drift_is_loud's), every
        one accepted, as many as the twin's, all accepted there too."""
        twins, clean = self.record_twins, self.clean_record_events
        changed = drifted_events(self.recorded.info.settings)
        drifted = {e.key for e in self.history.events if e.id in changed} if changed else set()
        return frozenset(
            key
            for key, (n, yes) in self.record_events.items()
            if key is not None
            and n > 1
            and n == yes
            and key not in drifted
            and (theirs := twins.get(key)) is not None
            and clean.get(theirs) == (n, n)
        )

    @cached_property
    def _index(self) -> Index:
        """Everything about writes and attribution, as judged."""
        if not self.single_event.effects:
            return self._recorded_index
        return self._index_of(self.effects_in_order)

    @cached_property
    def _recorded_index(self) -> Index:
        return self._index_of(self._recorded_in_order)

    def _index_of(self, effects_in_order: Sequence[Effect]) -> Index:
        """Everything about writes and attribution, over the effects' columns (a loaded run's
        as held, a live run's read from its effects): which are writes, and each event's
        first, second and later writes found by a stable sort of the rows' event codes."""
        return index_writes(
            effects_in_order, self.recorded.events, self.events_by_id, lambda: self.records
        )

    @property
    def writes_in_order(self) -> Rows:
        """The effects that could have changed a downstream (see ``is_write``), by time."""
        return self._index.writes_in_order

    @property
    def unattributed(self) -> int:
        """Effects (of any kind) naming no known event, nor a record of the run."""
        return len(self._index.unattributed)

    @property
    def record_only(self) -> list[Effect]:
        """Effects (of any kind) naming a record of the run but none of its events, by time:
        a record's effects, though not which of its events each was for."""
        return self._index.record_only

    @property
    def attributed_writes(self) -> int:
        """Writes naming at least one known event."""
        return self._index.attributed_writes

    @property
    def several_events_writes(self) -> int:
        """Writes naming two known events or more (a batch call may be one)."""
        return self._index.several_events_writes

    @property
    def first_write(self) -> Writes:
        """Known event id -> its first write, for every event that has one; in time order."""
        return self._index.first_write

    @property
    def second_write(self) -> Writes:
        """Known event id -> its second write, for every event with two or more; in time order
        of those. An event's writes are kept without a list of them: ``writes_of``."""
        return self._index.second_write

    @property
    def later_writes(self) -> dict[str, list[Effect]]:
        """Known event id -> its third write and those after it, for events with three or more."""
        return self._index.later_writes

    def writes_of(self, event_id: str) -> list[Effect]:
        """All the writes of an event with two or more (a key of ``second_write``), by time."""
        later = self.later_writes.get(event_id, ())
        return [self.first_write[event_id], self.second_write[event_id], *later]

    @cached_property
    def unattributed_routes(self) -> dict[str, list[Effect]]:
        """``POST /deals`` -> the effects to it naming no known event nor record, most first."""
        return _by_route(self._index.unattributed)

    @cached_property
    def record_only_keys(self) -> set[str]:
        """The records the ``record_only`` effects name."""
        return {e.key for e in self.record_only if e.key is not None}

    @cached_property
    def record_only_several(self) -> int:
        """How many records the ``record_only`` effects name have several events in the run."""
        events = self.record_events
        return sum(1 for key in self.record_only_keys if events[key][0] > 1)

    @cached_property
    def record_only_routes(self) -> dict[str, list[Effect]]:
        """``PATCH /contacts/{id}`` -> the effects to it naming a record and no event."""
        return _by_route(self._index.record_only)

    def deliveries_of(self, event_ids: Collection[str]) -> dict[str, list[Delivery]]:
        """The deliveries of a few events (the witnesses), in recorded order: one scan for
        those no call asked for before (a failing check's causes ask for the same thousand
        duplicated events one after the other: a scan of a million ids each, 35 ms)."""
        known = self._deliveries_known
        new: dict[str, list[Delivery]] = {eid: [] for eid in event_ids if eid not in known}
        if new:
            deliveries = self.history.deliveries
            found = delivery_column(deliveries, "event_id")
            for i in list(compress(count(), map(new.__contains__, found))):
                d = deliveries[i]
                new[d.event_id].append(d)
            known.update(new)
        return {eid: known[eid] for eid in event_ids}

    def effects_of(self, event_ids: Collection[str]) -> dict[str, list[Effect]]:
        """Every effect (writes or not) of a few events, in time order: one scan."""
        out: dict[str, list[Effect]] = {eid: [] for eid in event_ids}
        if not out:
            return out
        effects = self.effects_in_order
        if isinstance(effects, Effects):  # only the rows naming them made (and several's)
            import numpy as np

            places = getattr(effects.events, "places", None)
            if places is not None and all(eid in places for eid in out):
                # By the events' codes, in C: a million ids compared in Python were 0.2 s
                # a call, and a failing check's notes ask twice.
                wanted = np.fromiter(map(places.__getitem__, out), np.int64, len(out))
                hit = np.isin(effects.codes, wanted) | (effects.codes == SEVERAL)
                rows = np.flatnonzero(hit).tolist()
            else:
                named = effects.column("event_id")
                chosen = {i for i, eid in enumerate(named) if eid in out}
                chosen.update(np.flatnonzero(effects.codes == SEVERAL).tolist())
                rows = sorted(chosen)
            effects = [effects[i] for i in rows]
        for eff in effects:
            for eid in distinct(eff.event_ids):
                found = out.get(eid)
                if found is not None:
                    found.append(eff)
        return out


def _tampered(history: History) -> dict[str, str]:
    found = history.info.settings.get("tampered")
    return dict(found) if isinstance(found, dict) else {}


_TWINS = ("seq", "type", "key")


def may_start_work(delivery_id: str, outcome: Outcome, tampered: Collection[str]) -> bool:
    """Whether the target may have begun an event's work on this delivery: all but a tampered
    copy it refused (4xx) — the attacker's copy of a newer update, refused before the genuine
    one came, cannot be when that update's write began."""
    return outcome is not Outcome.REJECTED or delivery_id not in tampered


def first_sent(deliveries: Sequence[Delivery], tampered: Collection[str] = ()) -> dict[str, float]:
    """Event id -> when its first delivery the target may have begun its work on was sent
    (``may_start_work``; answers come back in any order)."""
    rows: Iterable[tuple[str, float]] = (
        delivery_rows(deliveries, "event_id", "sent_at")
        if not tampered
        else (
            (eid, sent)
            for did, eid, sent, outcome in delivery_rows(
                deliveries, "id", "event_id", "sent_at", "outcome"
            )
            if may_start_work(did, outcome, tampered)
        )
    )
    found: dict[str, float] = {}
    for eid, sent in rows:
        if eid not in found or sent < found[eid]:
            found[eid] = sent
    return found


def first_accepted(
    deliveries: Sequence[Delivery], wanted: Collection[str] | None = None
) -> dict[str, float]:
    """Each event answered 2xx (of ``wanted``, where given) -> when its first such answer
    came. ``wanted``: only its events' deliveries are read, found over the event-id column."""
    if wanted is not None:
        ids = delivery_column(deliveries, "event_id")
        deliveries = [deliveries[i] for i in compress(count(), map(wanted.__contains__, ids))]
    rows = delivery_rows(deliveries, "event_id", "answered_at", "outcome")
    found: dict[str, float] = {}
    for eid, answered, outcome in rows:
        if outcome is Outcome.OK and answered is not None and answered < found.get(eid, math.inf):
            found[eid] = answered
    return found


def accepted_in(history: History) -> set[str]:
    """The events of ``history`` (a clean run) with a delivery answered 2xx."""
    rows = delivery_rows(history.deliveries, "event_id", "outcome")
    return {e for e, o in rows if o is Outcome.OK}


def events_by_record(
    events: Sequence[Event], accepted: Collection[str], by_id: Mapping[str, Event] | None = None
) -> dict[str | None, tuple[int, int]]:
    """Record key -> (its events, those accepted); None -> the run's. Counted by C code: a
    run may have a million events. ``by_id``: the events by id, ``accepted`` among its keys,
    where the run's few events not accepted are found by a difference of sets."""
    n = Counter(event_column(events, "key"))
    if by_id is not None and len(by_id) == len(events) and isinstance(accepted, Set):
        yes = n.copy()
        yes.subtract([by_id[i].key for i in by_id.keys() - accepted])
    else:
        yes = Counter([k for k, i in event_rows(events, "key", "id") if i in accepted])
    out: dict[str | None, tuple[int, int]] = {key: (count, yes[key]) for key, count in n.items()}
    out[None] = (n.total(), yes.total())
    return out


def _by_route(effects: Iterable[Effect]) -> dict[str, list[Effect]]:
    """Effects by ``route_of``, the route with most effects first."""
    found: dict[str, list[Effect]] = {}
    for eff in effects:
        found.setdefault(route_of(eff), []).append(eff)
    return dict(sorted(found.items(), key=lambda item: -len(item[1])))


@dataclass(frozen=True, slots=True)
class Witness:
    """One sentence of evidence and the ids it names."""

    line: str
    event_ids: tuple[str, ...] = ()
    delivery_ids: tuple[str, ...] = ()
    effect_ids: tuple[str, ...] = ()


def evidence(witnesses: Iterable[Witness]) -> Evidence:
    """At most MAX_WITNESSES witnesses, their ids merged without repeats."""
    chosen = list(witnesses)[:MAX_WITNESSES]
    return Evidence(
        lines=tuple(w.line for w in chosen),
        event_ids=tuple(dict.fromkeys(i for w in chosen for i in w.event_ids)),
        delivery_ids=tuple(dict.fromkeys(i for w in chosen for i in w.delivery_ids)),
        effect_ids=tuple(dict.fromkeys(i for w in chosen for i in w.effect_ids)),
    )


def verdict(
    name: str,
    status: Status,
    failure_class: FailureClass,
    summary: str,
    witnesses: Iterable[Witness] = (),
) -> Verdict:
    return Verdict(name, status, failure_class, summary, evidence(witnesses))


def route_of(effect: Effect) -> str:
    """``POST /deals/{id}``: an effect's method and path, resource ids made ``{id}``."""
    return route_text(effect.method, effect.path)


def route_text(method: str, path: str) -> str:
    """``POST /deals/{id}`` for a request's method and path (its query left out)."""
    return f"{method.upper()} {_RESOURCE_ID.sub('{id}', path.partition('?')[0])}"


def attribution_gap(
    facts: Facts,
    name: str,
    failure_class: FailureClass,
    *,
    may_not_apply: bool = False,
    instead: str | None = None,
) -> Verdict | None:
    """Inconclusive when effects exist but none names a known event: nothing can be judged
    event by event. Effects naming their record are said to: they belong to the record,
    though not to which of its events. Those taken as a record's single event's name it, but
    only where no record of several events is left naming none: else they alone, records
    without an order to keep, would be judged for the run.

    The summary names the routes of those effects and the correlation rule to write — or,
    where no value of the writes tells their record's events apart, that no rule can, and
    ``instead``: what the project can do (``_derived``: judge the writes per record against a
    clean run), or for a check that ``may_not_apply`` (order), leave it out. Without either,
    the rule."""
    total = len(facts.history.effects)
    taken = len(facts.single_event.effects)
    if not total or facts.unattributed + len(facts.record_only) + taken < total:
        return None
    if taken and not facts.record_only:
        return None
    nothing, records = facts.unattributed_routes, facts.record_only_routes
    if not records:
        head = (
            f"none of the {plural(total, 'effect')} could be attributed to an event: those to "
            f"{_routes_text(nothing)} carry no value of this run's events"
        )
    else:
        which = _which(facts, ", which does not tell which of its events each was for")
        head = f"none of the {plural(total, 'effect')} names an event: "
        head += _record_only_text(facts) + which + taken_note(facts)
        if nothing:
            head += (
                f"; {plural(facts.unattributed, 'effect')} ({_routes_text(nothing)}) carry no "
                "value of this run's events"
            )
    # The rule to write is for a write's route: a read (the record fetched) orders nothing,
    # though it names the record where the writes name nothing.
    routes = {**records, **nothing}
    writing = (r for r, effects in routes.items() if any(map(is_write, effects)))
    first = next(writing, None)
    witnesses = [
        Witness(
            f"{route} {id_list([e.id for e in effects])}: {what}",
            effect_ids=tuple(e.id for e in effects[:MAX_IDS]),
        )
        for routes, what in ((records, "its record named, no event"), (nothing, "no event named"))
        for route, effects in routes.items()
    ]
    if first is None:  # reads alone: a rule would tie them, and still nothing was written
        advice = (
            "each is a read, which changes nothing: no write reached a downstream double to be "
            "judged (no correlate: rule would change that)"
        )
    else:
        rounded = rounded_id(facts.history.events, routes[first])
        derived = None if rounded else derived_fields(facts.history.events, records.get(first, []))
        if rounded:
            advice = rounded_text(first, rounded)
        elif derived and (instead or may_not_apply) and not _has_rules(facts):
            advice = derived_text(first, derived, instead or leave_out_advice(name))
        else:
            advice = correlation_advice(facts, first)
    return verdict(name, Status.INCONCLUSIVE, failure_class, f"{head}; {advice}", witnesses)


def _which(facts: Facts, text: str, otherwise: str = "") -> str:
    """``text`` where a record named has several events, else ``otherwise``."""
    return text if facts.record_only_several else otherwise


def _record_only_text(facts: Facts) -> str:
    """``30 effects name only their record (PUT /members/{id} (30); 12 of 30 records named had
    several events)``."""
    effects = facts.record_only
    named = len(facts.record_only_keys)
    several = facts.record_only_several
    text = f"{plural(len(effects), 'effect')} name only their record"
    if len(effects) == 1:
        text = "1 effect names only its record"
    records = (
        f"{several:,} of {plural(named, 'record')} named had several events"
        if several
        else (
            "the record named had a single event"
            if named == 1
            else f"each of the {named:,} records named had a single event"
        )
    )
    return f"{text} ({_routes_text(facts.record_only_routes)}; {records}{_not_taken(facts)})"


def _not_taken(facts: Facts) -> str:
    """``; 2 made before it was first delivered``: the effects of records with a single event
    not taken as its (``_single_event``), and why."""
    found = facts.single_event
    parts = []
    if found.before:
        parts.append(f"{found.before:,} made before their record's single event was first sent")
    if found.tampered_only:
        parts.append(
            f"{found.tampered_only:,} after a single event sent only tampered (an attacker's "
            "requests, not the sender's event: rejects_forged judges them)"
        )
    return "; " + ", ".join(parts) if parts else ""


def taken_note(facts: Facts) -> str:
    """``; 4 effects naming only their record were taken as its single event's (POST /payouts
    (4): …)``, or "": how effects were attributed by their record (``_single_event``)."""
    taken = facts.single_event.effects
    if not taken:
        return ""
    n = len(taken)
    head = (
        "1 effect naming only its record was"
        if n == 1
        else f"{n:,} effects naming only their record were"
    )
    routes = _routes_text(_by_route(sorted(taken.values(), key=_AT)))
    return (
        f"; {head} taken as its single event's ({routes}: the record had a single event in the "
        "run, sent before them)"
    )


def unattributed_note(facts: Facts) -> str:
    """``; 16 effects could not be attributed to an event (POST /ledger (16): ...)``, and those
    naming only their record, taken as its single event's or not."""
    out = taken_note(facts)
    if facts.record_only:
        out += f"; {_record_only_text(facts)}" + _which(
            facts, ", not which of its events each was for", ", naming no event"
        )
    n = facts.unattributed
    if not n:
        return out
    routes = facts.unattributed_routes
    return out + (
        f"; {plural(n, 'effect')} could not be attributed to an event ({_routes_text(routes)}: "
        f"add a correlate: rule for them, see {CORRELATION_DOC})"
    )


def _has_rules(facts: Facts) -> bool:
    """Did the run name ``correlate:`` rules (their misses are said, not derived values)?"""
    return bool(facts.history.info.settings.get("correlate"))


def correlation_advice(facts: Facts, route: str) -> str:
    """What to write so that effects to ``route`` are attributed, given the run's settings."""
    settings = facts.history.info.settings
    rules = [r.get("rule", "?") for r in settings.get("correlate") or () if isinstance(r, dict)]
    tracer = settings.get("tracer")
    rewrite = tracer.get("rewrite") if isinstance(tracer, dict) else "all"
    advice = (
        f"add a correlate: rule mapping a field of {route} to the event field it comes from"
        if not rules
        else f"the correlate: {'rules' if len(rules) > 1 else 'rule'} ({'; '.join(rules)}) "
        f"matched none of them: check the route and paths against a recorded {route}, or add a "
        "rule for it"
    )
    if rewrite in ("off", "ids"):
        advice += " (tracer rewriting was off: only rules and ids carried as sent attribute)"
    return f"{advice}; see {CORRELATION_DOC}"


def _routes_text(routes: dict[str, list[Effect]]) -> str:
    """``POST /deals (16), POST /ledger/entries (16)``, the largest first."""
    shown = [f"{route} ({len(effects):,})" for route, effects in routes.items()]
    extra = len(shown) - _SHOWN_ROUTES
    text = ", ".join(shown[:_SHOWN_ROUTES])
    return f"{text} and {extra} more routes" if extra > 0 else text


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def every(n: int, word: str, words: str | None = None) -> str:
    """``all 3 deliveries``, ``the 1 delivery``: the whole of ``n``, agreeing with it."""
    return f"{'the' if n == 1 else 'all'} {plural(n, word, words)}"


def times(n: int) -> str:
    """``once``, ``3 times``: how often, agreeing with ``n``."""
    return "once" if n == 1 else f"{n:,} times"


def which_of(n: int, whole: int, these: str = "these", one: str = "it") -> str:
    """``it`` (``one``), ``both of these``, ``all 3 of these``, or, beside others, ``2 of
    these``: a clause's subject, ``n`` of the ``whole`` just counted."""
    if n != whole:
        return f"{n:,} of {these}"
    return one if n == 1 else f"both of {these}" if n == 2 else f"all {n:,} of {these}"


def whom(n: int, several: bool) -> str:
    """How a clause names ``n`` events: ``3 of them`` beside others, else ``it``, ``they``."""
    return f"{n:,} of them" if several else "it" if n == 1 else "they"


def event_ref(event: Event) -> str:
    return f"event {event.id} (record {event.key}, seq {event.seq})"


def id_list(ids: Sequence[str]) -> str:
    extra = len(ids) - MAX_IDS
    shown = ", ".join(ids[:MAX_IDS])
    return f"{shown} and {extra:,} more" if extra > 0 else shown


def timestamp(t: float) -> str:
    return f"{t:.2f} s"


def millis(t: float) -> str:
    ms = t * 1000
    return f"{ms:.1f} ms" if ms < 10 else f"{ms:,.0f} ms"


def delivery_result(d: Delivery) -> str:
    """``dlv_1 200``, ``dlv_2 timed out``, ``dlv_3 failed (connection refused)``."""
    if d.outcome is Outcome.INDETERMINATE:
        return f"{d.id} timed out"
    if d.status is not None:
        return f"{d.id} {d.status}"
    return f"{d.id} failed ({d.error})" if d.error else f"{d.id} failed"


def deliveries_text(deliveries: Sequence[Delivery]) -> str:
    """``delivered 3 times (dlv_1 200, dlv_2 timed out, dlv_3 200)``."""
    times = "once" if len(deliveries) == 1 else f"{len(deliveries):,} times"
    return f"delivered {times} ({id_list([delivery_result(d) for d in deliveries])})"


def produced(
    event: Event, deliveries: Sequence[Delivery], writes: Sequence[Effect], tail: str = ""
) -> Witness:
    """``event … was delivered 2 times (…) and produced 1 effect: POST /payouts eff_1``, then
    ``tail``: an event seen repeating, with all its deliveries and writes."""
    line = (
        f"{event_ref(event)} was {deliveries_text(deliveries)} and produced "
        f"{plural(len(writes), 'effect')}: {effects_text(writes)}{tail}"
    )
    return Witness(line, (event.id,), tuple(d.id for d in deliveries), tuple(w.id for w in writes))


def effects_text(effects: Sequence[Effect]) -> str:
    """``POST /payouts eff_1, eff_2; PUT /contacts/7 eff_3``: grouped by request, in time order."""
    groups: dict[tuple[str, str], list[str]] = {}
    for e in effects:
        groups.setdefault((e.method.upper(), e.path), []).append(e.id)
    return "; ".join(f"{m} {p} {id_list(ids)}" for (m, p), ids in groups.items())
