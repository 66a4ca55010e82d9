"""The writes naming no event that a repeat would harm, counted against the clean run's.

An effect naming no event cannot show a repeated event: ``no_duplicate_effects`` judges the
attributed ones. But a write whose repeat would harm (``_idempotent.Repeats.may_harm``: a
``POST``, a ``PATCH`` not known to merge, no ``Idempotency-Key``) may be exactly what an
undeduplicated redelivery repeats — an activity line appended to a path the automation derived.
Per request (downstream, method, route template, as ``_requests.Routes`` names it), such writes
are counted against what the clean run (the same events, each once) made of the request, owed
per accepted event: a run that refused some events owes fewer, so their missing writes do not
hide the repeats of others.

Writes naming a record whose events were all sent only tampered are an attacker's requests,
``rejects_forged``'s to judge, not counted (a receiver checking no signature booked each forged
invoice once: "not judged", its clean twin's one write against none owed).

Where every such write of a request names its record (its key, not its event) and each record
has a twin (the record of the clean events of the same seq), they are counted per record,
against the clean run's for the twin, scaled by the record's accepted events; else in the whole
run. A count per record cannot tell one event written twice and another of the record not at
all from each written once: where the record's writes repeat a body more often than its clean
twin's did (one event's value written twice, another's never), they are not passed either
(``Counted.repeats``, ``repeated_records``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import cast

from ..core._graphql import MARK as GRAPHQL_MARK
from ..core._graphql import graphql_read
from ..core._model import Effect, Model
from ._expected import expectation_of
from ._facts import SAFE_METHODS, Facts, is_write, plural, route_of
from ._idempotent import Repeats
from ._requests import Request, Routes, of_another_run


@dataclass(frozen=True, slots=True)
class Counted:
    """The writes of one request a repeat would harm, to one record (or in the run): how many
    (``here``, attributed or not), how many the clean run made, and how many that owes for
    this run's accepted events."""

    request: Request
    record: str | None  # None: in the whole run (some of its writes name no record)
    here: int
    clean: int
    accepted: int  # this run's accepted events (of the record)
    clean_accepted: int  # the clean run's (of the record's twin)
    events: int  # this run's events (of the record)
    unattributed: list[Effect] = field(default_factory=list)  # this run's, naming no event
    # Per record: how many different bodies its writes had, here and in the twin.
    distinct: int = 0
    clean_distinct: int = 0
    # A record whose request is counted in the whole run, compared to its twin there: its
    # writes beyond the twin's, which the run's count held by a loss elsewhere.
    whole_run: bool = False
    # ``here`` and ``clean`` count the resources left standing: a committed DELETE removed
    # others the record (or its twin) created (``_creations.created_more_by_events``).
    standing: bool = False

    @property
    def owed(self) -> float:
        """What the clean run made, per accepted event, times this run's accepted events."""
        if not self.clean_accepted:
            return float(self.clean)
        return self.clean * self.accepted / self.clean_accepted

    @property
    def over(self) -> bool:
        return self.here > self.owed or self.repeated

    @property
    def repeated(self) -> bool:
        """Does the record repeat a body more often than its clean twin did? One event's write
        then stands where another's is missing: a count no higher than owed shows nothing."""
        if self.record is None:  # in the whole run: its bodies are not kept
            return False
        return self.here - self.distinct > self.clean - self.clean_distinct

    def accepted_text(self) -> str:
        """``the same 3 events, all accepted`` or ``3 events accepted there, 2 of 3 here``."""
        if self.accepted == self.clean_accepted == self.events:
            return f"the same {plural(self.events, 'event')}, all accepted"
        return (
            f"{plural(self.clean_accepted, 'event')} accepted there, {self.accepted:,} of "
            f"{self.events:,} here"
        )


@dataclass(frozen=True, slots=True)
class Unattributed:
    """The requests with writes naming no event a repeat would harm, and the clean run asked."""

    requests: list[Counted]  # per request (and record), most writes naming no event first
    clean_run: str  # its run id

    @property
    def over(self) -> list[Counted]:
        """Those of which this run made more than its accepted events owe."""
        return [c for c in self.requests if c.over]


def unattributed_writes(facts: Facts) -> Unattributed | None:
    """The run's writes naming no event a repeat would harm, per request (and record), with
    the clean run's count; None when it has none, or no clean run to count them against
    (nothing says how many the events owe). Another run's late writes are left out."""
    harm = Repeats(facts.history.info.settings).may_harm
    mine = [e for e in [*facts.record_only, *_nothing(facts)] if is_write(e) and harm(e)]
    if not mine:
        return None
    baseline = facts.history.baseline
    if baseline is None:
        return None  # not learnt for nothing: the expectation costs a pass over the events
    exp = expectation_of(facts)
    if exp.clean_run is None:
        return None
    mine = [e for e in mine if not (exp.tag and of_another_run(e, exp.tag))]
    attacked = tampered_only_records(facts)
    if attacked:  # an attacker's requests, no repeat of the sender's (rejects_forged's)
        mine = [e for e in mine if e.key not in attacked]
    if not mine:
        return None
    routes = exp.routes
    unattributed: dict[Request, list[Effect]] = {}
    for e in mine:
        unattributed.setdefault(routes.of(e), []).append(e)
    twin, mine_by_record = facts.record_twins, facts.record_events
    # Per record where every such write names a record with a twin in the clean run (a year's
    # month has records its clean run never saw: counted in the whole run, per accepted event).
    # The records counted, and their twins: the writes of other records are not read.
    keys: dict[Request, set[str] | None] = {}
    clean_keys: dict[Request, set[str] | None] = {}
    for request, found in unattributed.items():
        named = {e.key for e in found}
        if all(key in twin for key in named):
            keys[request] = cast(set[str], named)
            clean_keys[request] = {twin[key] for key in cast(set[str], named)}
        else:
            keys[request] = clean_keys[request] = None
    tag, clean_tag = exp.tag, baseline.info.tracer_tag
    # This run's writes naming an event, then ``mine``: each asked whether a repeat would
    # harm it once, its headers read once.
    here_bodies = _bodies(_attributed(facts), routes, keys, tag, harm)
    for request, effects in unattributed.items():
        for e in effects:
            here_bodies.setdefault((request, e.key), []).append(e.body)
    clean_bodies = _bodies(baseline.effects, routes, clean_keys, clean_tag, harm)
    here, clean = _totals(here_bodies), _totals(clean_bodies)
    clean_by_record = facts.clean_record_events
    out: list[Counted] = []
    for request, effects in unattributed.items():
        by_record: dict[str, list[Effect]] = {}
        for e in effects:
            if e.key is not None and e.key in twin:
                by_record.setdefault(e.key, []).append(e)
        per_record = []
        for key, found in by_record.items():
            n, accepted = mine_by_record[key]
            theirs = twin[key]
            _, clean_accepted = clean_by_record[theirs]
            written, twin_written = (
                here_bodies.get((request, key), ()),
                clean_bodies.get((request, theirs), ()),
            )
            counts = (len(written), len(twin_written))
            same = (len(set(written)), len(set(twin_written)))
            whole_run = keys[request] is None
            per_record.append(
                Counted(request, key, *counts, accepted, clean_accepted, n, found, *same, whole_run)
            )
        if keys[request] is not None:
            out.extend(per_record)
            continue
        n, accepted = mine_by_record[None]
        _, clean_accepted = clean_by_record[None]
        counts = (here[request], clean[request])
        run = Counted(request, None, *counts, accepted, clean_accepted, n, effects)
        out.append(run)
        if not run.over:
            # The count held in the whole run: judged where it can be, a record with a twin
            # getting more than it — a repeat there, and a loss elsewhere held the count.
            out.extend(c for c in per_record if c.here > c.owed)
    out.sort(key=lambda c: -len(c.unattributed))
    return Unattributed(out, exp.clean_run)


def tampered_only_records(facts: Facts) -> set[str]:
    """The records none of whose events had a genuine delivery, only tampered ones (forged,
    unsigned, stale, replayed): what they got is rejects_forged's to judge. Empty where nothing
    was tampered."""
    tampered = facts.tampered
    if not tampered:
        return set()
    genuine = {d.event_id for d in facts.history.deliveries if d.id not in tampered}
    keys: dict[str, bool] = {}
    for e in facts.history.events:
        keys[e.key] = keys.get(e.key, False) or e.id in genuine
    return {key for key, sent in keys.items() if not sent}


def _nothing(facts: Facts) -> Iterable[Effect]:
    """The effects naming neither an event nor a record of the run."""
    for effects in facts.unattributed_routes.values():
        yield from effects


def _attributed(facts: Facts) -> Iterator[Effect]:
    """The run's writes naming one of its events, by time."""
    known = facts.events_by_id
    for w in facts.writes_in_order:
        if w.event_ids and any(i in known for i in w.event_ids):
            yield w


# (request, record key or None) -> the bodies of its writes counted there, in order.
_Bodies = dict[tuple[Request, str | None], list[str]]


def _bodies(
    effects: Iterable[Effect],
    routes: Routes,
    wanted: Mapping[Request, Collection[str] | None],
    tag: str,
    harm: Callable[[Effect], bool],
) -> _Bodies:
    """The writes a repeat would harm among ``effects``, by request of ``wanted`` and record
    they name: all of them where it maps to None, else those naming a record it maps to; the
    cheap tests first, a header read last: a run may have a million writes and a few of them
    naming no event."""
    found: _Bodies = {}
    methods = {r.method for r in wanted}
    request_of, safe = routes.of, SAFE_METHODS
    for e in effects:
        method = e.method.upper()
        if method not in methods or method in safe or not e.committed:  # is_write
            continue
        if GRAPHQL_MARK in e.body and graphql_read(method, e.body):
            continue
        request = request_of(e)
        if request not in wanted:
            continue
        keys = wanted[request]
        if keys is not None and e.key not in keys:
            continue  # a record not counted: not read
        if (tag and of_another_run(e, tag)) or not harm(e):
            continue
        found.setdefault((request, e.key), []).append(e.body)
    return found


def _totals(found: _Bodies) -> Counter[Request]:
    """Request -> its writes counted, in all."""
    out: Counter[Request] = Counter()
    for (request, _), bodies in found.items():
        out[request] += len(bodies)
    return out


@dataclass(frozen=True, slots=True)
class Repeated:
    """A record whose writes of one method, naming no event, had fewer different bodies than
    its clean twin's, though as many writes as owed: one event's value may have been written
    twice and another's never."""

    request: str  # ``PATCH /contacts/{id}``: the routes of those writes, by their first
    record: str
    here: int
    distinct: int
    clean: int
    clean_distinct: int
    effects: list[Effect]  # this run's, naming no event

    def text(self) -> str:
        return repeat_text(
            self.record, self.request, self.here, self.distinct, self.clean, self.clean_distinct
        )


def repeat_text(
    record: str | None, request: str, here: int, distinct: int, clean: int, clean_distinct: int
) -> str:
    """``record k0: 2 PATCH /contacts/{id} with 1 body between them, where its clean twin's 2
    had 2``."""
    bodies = "1 body" if distinct == 1 else f"{distinct:,} different bodies"
    return (
        f"record {record}: {here:,} {request} with {bodies} between them, where its clean "
        f"twin's {clean:,} had {clean_distinct:,}"
    )


def repeated_records(facts: Facts) -> list[Repeated]:
    """The records of a ledger whose writes naming no event (any write: a repeated PUT stands
    for a missing one as well) had fewer different bodies than their clean twin's to the same
    downstream, whatever their methods, every event of the record accepted: a value the clean
    run wrote is missing, whatever the count says — also where a PUT stood for a PATCH
    (``_requests.same_resource``), while an upsert's PATCH where the twin PUT the same body is
    no loss. ``no_lost_events`` cannot pass them. Empty without a clean
    run, for records without a twin, and for a register (an older event's value is superseded,
    not owed). No route is worked out but for those found: a run may write a million times."""
    baseline = facts.history.baseline
    if baseline is None or not facts.record_only:
        return []
    exp = expectation_of(facts)
    if exp.clean_run is None or exp.model is Model.REGISTER:
        return []
    twin = facts.record_twins
    # The records with a twin whose every event was accepted. Writes naming a record are never
    # another run's (``of_another_run``): not asked, here nor in the clean run.
    full = {key for key, (n, accepted) in facts.record_events.items() if n == accepted}
    Group = tuple[str, str]  # downstream, record key
    mine: dict[Group, list[Effect]] = {}
    for e in facts.record_only:
        key = cast(str, e.key)  # a record of the run
        if key in twin and key in full and is_write(e):
            mine.setdefault((e.downstream, key), []).append(e)
    if not mine:
        return []
    wanted = {(d, twin[k]) for d, k in mine}
    named = {e.id for e in baseline.events}
    theirs: dict[Group, list[str]] = {}
    for e in baseline.effects:
        if e.key is None or (e.event_ids and any(i in named for i in e.event_ids)):
            continue
        group = (e.downstream, e.key)
        if group in wanted and is_write(e):
            theirs.setdefault(group, []).append(e.body)
    out = []
    for (downstream, key), effects in mine.items():
        bodies = theirs.get((downstream, twin[key]), [])
        distinct = len({e.body for e in effects})
        clean_distinct = len(set(bodies))
        if distinct < clean_distinct:
            routes = ", ".join(dict.fromkeys(route_of(e) for e in effects))
            counts = (len(effects), distinct, len(bodies), clean_distinct)
            out.append(Repeated(routes, key, *counts, effects))
    return out
