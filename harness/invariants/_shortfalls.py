"""Shortfalls: how far a run fell short of its expected effects (``_expected.Expectation``).

A request is compared at the finest level its writes allow: per event when every write of it
names an event (tracer values), per record when every one names at least a record, else per
run (how many the run made in all). A clean run that cannot tie a request to events teaches it
per record or per run; a run whose writes of a request do not all name an event is compared
per record or per run too, against the sum of what its events expect — so that "30 deals
expected, 4 made" is a loss whatever the attribution.

An item's write made by another method than its clean twin's counts for it (``same_resource``);
so does the item's creation, where the event that created it in the clean run made none here
and its record got no more creations than its clean twin (``Stood``).
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core._model import Effect, Event, Model
from ._facts import distinct
from ._requests import (
    ITEM_WRITES,
    Request,
    Routes,
    created_in,
    is_item,
    of_another_run,
    same_resource,
)

if TYPE_CHECKING:
    from ._expected import Expectation


class Level(enum.StrEnum):
    EVENT = "event"
    RECORD = "record"
    RUN = "run"


def _by_resource(wanted: Counter[Request]) -> list[tuple[Request, list[tuple[Request, int]]]]:
    """``wanted``'s requests grouped by the resource they write (``same_resource``)."""
    groups: dict[Request, list[tuple[Request, int]]] = {}
    for request, need in wanted.items():
        groups.setdefault(same_resource(request), []).append((request, need))
    return list(groups.items())


def _shown(requests: Sequence[tuple[Request, int]]) -> Request:
    """How a need summed over one resource's requests is named: ``PUT/PATCH /contacts/{id}``
    where the clean run wrote it by both, else its one request."""
    first = requests[0][0]
    if len(requests) == 1:
        return first
    return first._replace(method="/".join(r.method for r, _ in requests))


NEWEST = "newest"  # a Short's source: a register record written only before its newest event


@dataclass(frozen=True, slots=True)
class Short:
    """One request a subject (an event, a record, the run) was expected to cause ``need``
    times and caused ``made`` times. ``request`` None: any effect (the old rule)."""

    level: Level
    subject: str  # event id, record key, or "" for the run
    request: Request | None
    need: int
    made: int
    # Where the need came from at a coarser level: "clean" (the clean run made them there),
    # or "events" (the sum of what the subject's events expect, their writes naming no event);
    # "newest": a register record whose writes all came before its newest event was sent
    # (``made`` 0: none after it), however many it got.
    source: str = "events"
    events: int = 0  # how many judged events the need sums over (record, run)


@dataclass(frozen=True, slots=True)
class Unwritten:
    """A register record ``short`` of a write after its newest event, as its clean twin was,
    whose last write ``write`` (an effect id) holds values that event changes: ``changes``,
    (path, the value written, the newest event's)."""

    short: Short
    write: str
    changes: tuple[tuple[str, str, str], ...]
    # The record's writes name their events, and its newest was owed nothing (its clean twin,
    # accepted, made nothing): not a record compared per record (``_newest.unowed_newest``).
    named: bool = False


@dataclass(frozen=True, slots=True)
class Created:
    """A record short of ``short``'s request where this run made ``made`` writes of the item,
    creations in its collection (``creation``) counted, and its clean twin ``clean``."""

    short: Short
    creation: Request
    made: int
    clean: int
    created: int  # this run's creations among ``made``
    clean_created: int  # the clean twin's
    # The short request removes the item (a DELETE) that the record created as often as its
    # clean twin: a deletion that found nothing to remove, or one lost (``_deleted_instead``).
    removal: bool = False


class Creator(enum.StrEnum):
    """What became, in this run, of the event whose clean twin created a record's item."""

    REFUSED = "refused"  # never accepted here
    RACED = "raced"  # accepted, and wrote the item another event had created
    FAILED = "failed"  # accepted, and made no creation of it


@dataclass(frozen=True, slots=True)
class Stood:
    """An event that wrote no ``request`` (an item's write its clean twin made) but created
    the item (``creation``), standing for the write.

    The first event of a record an automation sees creates its item, whichever it is: where
    the event whose clean twin created it made no creation here (``creator``: refused — its
    sender never redelivered —, accepted with its creation failed, or it came after this one
    and wrote the item it found), a later event creates it where its twin updated it. Only
    where this event made, answered 2xx, as many creations in the item's collection beyond
    its own twin's as it lacks writes, and the record got no more creations than its clean
    twin: a second creation is a resource made twice (``no_duplicate_effects``), and no
    creation at all stays a loss."""

    request: Request
    creation: Request
    creator: Creator
    later: bool  # the event's seq is after the creating event's


@dataclass(frozen=True, slots=True)
class Swapped:
    """An event owed ``request`` that made none of it, while ``by``, another event of its
    record owed none of it, made it: a record's work done once, by whichever of its events came
    first (tests/gallery/contact_once.py: one contact per customer). The record got its work;
    where two such events made it, it got it twice: a repeat, ``no_duplicate_effects``' to
    judge (``_creations``), no loss."""

    request: Request
    by: str  # the event id that made it instead


@dataclass(slots=True)
class Shortfalls:
    """What a run lacks of its expected effects, at each level."""

    judged: list[Event] = field(default_factory=list)  # the events owed their effects
    superseded: int = 0  # register: accepted events a newer one of their record supersedes
    events: dict[str, list[Short]] = field(default_factory=dict)  # event id -> its shorts
    records: list[Short] = field(default_factory=list)
    run: list[Short] = field(default_factory=list)
    # Record- or run-level expectations of the clean run left unjudged: not every event of
    # the record (or of the run) was accepted, so what the clean run made is not owed.
    unjudged: int = 0
    coarse: set[Request] = field(default_factory=set)  # requests compared per record or run
    owed: int = 0  # judged events that expect something
    others: int = 0  # writes of another run among the run's, not counted
    # (the request expected, the one made instead) -> how many events wrote the resource by
    # another method than their clean twins (``same_resource``): not loss, said.
    another_way: Counter[tuple[Request, Request]] = field(default_factory=Counter)
    # Records short of an item's writes that got as many writes of it, creations in its
    # collection counted, as their clean twin did (``created_in``): a find-or-create that
    # created where the clean run updated (a race) and a lost update cannot be told apart.
    created: list[Created] = field(default_factory=list)
    # Register records short of a request, some of whose events were never accepted, that got
    # other writes the clean twin made (``_written_in_part``): the twin's writes of that
    # request may have been for the events refused here — not lost, not known.
    partly: list[Short] = field(default_factory=list)
    # Ledger records short of a PUT whose last committed PUT came after their newest accepted
    # event was first sent: a PUT replaces the item whole, and that one may carry the state the
    # missing ones were for (a running balance) — not lost, not known.
    replaced: list[Short] = field(default_factory=list)
    # Register records written only before their newest event ("newest") whose clean twin got
    # no write after its own either, while the clean run stopped watching too soon: whether
    # the automation writes for such an update is not known (``_newest.owed_newest``).
    newest_unseen: list[Short] = field(default_factory=list)
    # Register records written only before their newest event, whose clean twin got no write
    # after its own either, where that newest event changes values the record's last write
    # holds: an update ignored by design and one dropped in every run alike cannot be told
    # apart — not known (``_newest.owed_newest``).
    newest_unwritten: list[Unwritten] = field(default_factory=list)
    # Register records whose last write came within the run's clock uncertainty of their
    # newest event's first send (a send a Locust worker stamped): whether it was that event's
    # write, or an older one's with the newest dropped, is not known (``_newest.timed_shortfalls``).
    newest_clocked: list[Short] = field(default_factory=list)

    # Event id -> how its item's write was made by creating the item, the record's creating
    # event having made no creation here (``Stood``): not loss, said.
    stood: dict[str, Stood] = field(default_factory=dict)
    # Event id -> the event of its record that made its request instead (``Swapped``): not
    # loss, said.
    swapped: dict[str, Swapped] = field(default_factory=dict)

    # Requests compared in the whole run whose count held only as a repeat elsewhere made up
    # records short of theirs (``Cancelled``): not passed.
    cancelled: list[Cancelled] = field(default_factory=list)

    @property
    def count(self) -> int:
        shorts = sum(len(s) for s in self.events.values())
        unknown = len(self.partly) + len(self.replaced) + len(self.newest_unseen)
        unknown += len(self.newest_unwritten)
        unknown += len(self.newest_clocked)
        return shorts + len(self.records) + len(self.run) + unknown


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A request compared in the whole run (some of its writes name no record) whose count
    there held, though the records it is owed per record got fewer writes naming them than
    they need, by more than the writes naming no record could make up: other records' writes
    beyond theirs (a repeat) made up the count, which cannot pass as no loss."""

    request: Request
    unnamed: int  # the run's writes of it naming no record
    short: list[Short]  # per record, the writes naming it against its need


def judged_events(
    model: Model, events: Sequence[Event], accepted: Collection[str]
) -> tuple[list[Event], int]:
    """The events owed their effects: ledger, every accepted one; register, each record's
    latest accepted one (older states may be coalesced). And how many were superseded."""
    if model is not Model.REGISTER:
        return [e for e in events if e.id in accepted], 0
    latest: dict[str, Event] = {}
    n = 0
    for e in events:
        if e.id in accepted:
            n += 1
            held = latest.get(e.key)
            if held is None or e.seq > held.seq:
                latest[e.key] = e
    return sorted(latest.values(), key=_seq), n - len(latest)


def _seq(e: Event) -> int:
    return e.seq


def acted_once(records: Iterable[tuple[int, int]]) -> bool:
    """Whether the clean run acted on each record once, by whichever of its events came first,
    given each record's (events of one type that acted, those that did not): no record had two
    act, and two records or more had one act among several. An automation that works every
    event, losing one in each run, is no such design — and one record is also just that. What
    ``_stand_ins`` (per request) and ``_expected._Learned._acting`` (per type) both ask."""
    shown = 0
    for acting, idle in records:
        if acting > 1:
            return False
        shown += acting == 1 and idle > 0
    return shown >= 2


def _stand_ins(
    exp: Expectation,
    judged: Sequence[Event],
    owes: Mapping[str, set[Request]],
    by_event: Counter[tuple[str, Request]],
    known: Mapping[str, Event],
) -> dict[tuple[str, str, Request], list[str]]:
    """(record, type, request) -> the judged events of that record and type that made the
    request here while owed none of it: their clean twins made nothing (``not_expected``), or
    made other requests only (a deal for every checkout, the contact for the first). Only for
    a request the clean run acted on each record once for (``acted_once``), its events of a
    record and type owing it the acting ones: a record's work, done once."""
    owing: Counter[tuple[str, str, Request]] = Counter()  # events of a record and type owing it
    for e in judged:
        for resource in owes[e.id]:
            owing[(e.key, e.type, resource)] += 1
    kinds = Counter((e.key, e.type) for e in judged)
    per_request: dict[tuple[str, Request], list[tuple[int, int]]] = {}
    for (key, kind, resource), n in owing.items():
        per_request.setdefault((kind, resource), []).append((n, kinds[(key, kind)] - n))
    once = {found for found, records in per_request.items() if acted_once(records)}
    found: dict[tuple[str, str, Request], list[str]] = {}
    for (eid, resource), n in by_event.items():
        if not n or eid not in owes or resource in owes[eid]:
            continue
        other = known[eid]  # judged: one of the run's events
        if (other.type, resource) in once and (eid in exp.not_expected or eid in exp.per_event):
            found.setdefault((other.key, other.type, resource), []).append(eid)
    return found


def shortfalls(
    exp: Expectation,
    events: Sequence[Event],
    accepted: Collection[str],
    writes: Sequence[Effect],
    first_sent: Mapping[str, float] | None = None,
) -> Shortfalls:
    """Compare the run's committed ``writes`` with what ``exp`` expects of its ``accepted``
    events, each request at the finest level its writes allow. Writes of one resource by
    different methods count for each other (``same_resource``); the events whose twin's
    method was not theirs are counted in ``another_way``. With ``first_sent`` (event id ->
    when its first delivery was sent), a register's record compared per record is short too
    where every write it got came before its newest accepted event was first sent: none of
    them can be that event's, and the record holds an older state (``Short.source``
    "newest")."""
    out = Shortfalls()
    out.judged, out.superseded = judged_events(exp.model, events, accepted)
    known = {e.id: e for e in events}
    keys = {e.key for e in events}
    # Flat counts: (event id or record key, resource) -> writes; one dict, not one per event.
    by_event: Counter[tuple[str, Request]] = Counter()
    by_record: Counter[tuple[str, Request]] = Counter()
    exact: Counter[tuple[str, Request]] = Counter()  # (event id, request): an item's writes
    any_write: set[str] = set()
    total: Counter[Request] = Counter()
    no_event: set[Request] = set()
    no_record: Counter[Request] = Counter()  # writes naming no record, per resource
    last_at: dict[tuple[str, Request], float] = {}  # (record key, resource) -> its last write
    resource_of = exp.routes.resource_of
    for w in writes:
        if exp.tag and of_another_run(w, exp.tag):
            out.others += 1
            continue
        made, request = resource_of(w)
        total[request] += 1
        named = [eid for eid in distinct(w.event_ids) if eid in known]
        for eid in named:
            by_event[(eid, request)] += 1
            any_write.add(eid)
            if request != made:
                exact[(eid, made)] += 1
        key = w.key if w.key in keys else (known[named[0]].key if named else None)
        if key is None:
            no_record[request] += 1
        else:
            by_record[(key, request)] += 1
            if last_at.get((key, request), w.at) <= w.at:
                last_at[(key, request)] = w.at
        if not named:
            no_event.add(request)
    # (record key or "" for the run, resource) -> (need, events, the request first expected)
    record_need: dict[tuple[str, Request], tuple[int, int, Request]] = {}
    run_need: dict[Request, tuple[int, int, Request]] = {}
    # (record key, resource) -> (need, events, the request first expected, source): what each
    # record is owed of the needs compared in the whole run, to tell a count that held only by
    # cancelling (``Cancelled``).
    held_by_record: dict[tuple[str, Request], tuple[int, int, Request, str]] = {}

    def hold(
        key: str, resource: Request, need: int, events: int, first: Request, source: str
    ) -> None:
        held, count, shown, was = held_by_record.get((key, resource), (0, 0, first, source))
        held_by_record[(key, resource)] = (held + need, count + events, shown, was)

    def cancelled(resource: Request) -> None:
        """Whether the whole-run count of ``resource``, which held, did only by cancelling."""
        short = [
            Short(Level.RECORD, key, first, need, by_record[(key, r)], source, n)
            for (key, r), (need, n, first, source) in held_by_record.items()
            if r == resource and by_record[(key, r)] < need
        ]
        if sum(s.need - s.made for s in short) > no_record[resource]:
            out.cancelled.append(
                Cancelled(short[0].request or resource, no_record[resource], short)
            )

    register = exp.model is Model.REGISTER
    newest: dict[str, str] = {}  # record key -> its newest accepted event
    for e in out.judged if first_sent else ():
        if e.key not in newest or e.seq > known[newest[e.key]].seq:
            newest[e.key] = e.id

    def after_newest(key: str, resource: Request) -> bool | None:
        """Whether the last write of ``resource`` the record ``key`` got came at or after its
        newest accepted event was first sent (a write before it cannot be that event's); None
        where not known (no send, or no write)."""
        sent = first_sent.get(newest[key]) if first_sent and key in newest else None
        last = last_at.get((key, resource))
        return None if sent is None or last is None else last >= sent

    def before_newest(key: str, resource: Request) -> bool:
        """A register record whose every write came before its newest event was sent."""
        return register and after_newest(key, resource) is False

    def replaced(key: str, resource: Request, first: Request) -> bool:
        """A ledger record short of PUTs whose last PUT came after its newest event was first
        sent (``Shortfalls.replaced``)."""
        return not register and first.method == "PUT" and after_newest(key, resource) is True

    grouped: dict[int, list[tuple[Request, list[tuple[Request, int]]]]] = {}

    def groups(wanted: Counter[Request]) -> list[tuple[Request, list[tuple[Request, int]]]]:
        found = grouped.get(id(wanted))  # most events share one Counter
        if found is None:
            found = grouped[id(wanted)] = _by_resource(wanted)
        return found

    made_ok: Counter[tuple[str, Request]] | None = None  # (event id, creation) -> 2xx ones
    of_record: dict[str, list[Event]] = {}
    # (record key, creation) -> what its clean twin created, and its earliest event that made
    # fewer than its twin: once per record, however many of its events ask.
    creators: dict[tuple[str, Request], tuple[int, Event | None]] = {}

    def stands(e: Event, request: Request, lack: int) -> Stood | None:
        """Whether ``e``, short of ``lack`` writes of ``request`` (an item's), created the item
        instead (``Stood``); what it reads found once, when first asked."""
        nonlocal made_ok
        resource = same_resource(request)
        creation = created_in(resource)
        if creation is None:
            return None
        if made_ok is None:
            made_ok = _created_ok(writes, exp.routes, known)
            for other in events:
                of_record.setdefault(other.key, []).append(other)
        own = exp.per_event.get(e.id)
        if made_ok[(e.id, creation)] - (own.get(creation, 0) if own else 0) < lack:
            return None
        found = creators.get((e.key, creation))
        if found is None:
            found = creators[(e.key, creation)] = _creator(
                of_record[e.key], creation, exp.per_event, by_event
            )
        clean, creator = found
        if creator is None or by_record[(e.key, creation)] > clean:
            return None
        if creator.id not in accepted:
            how = Creator.REFUSED
        elif by_event[(creator.id, resource)]:
            how = Creator.RACED
        else:
            how = Creator.FAILED
        return Stood(request, creation, how, e.seq > creator.seq)

    # (record, type, request) -> the events that may stand in
    stand_ins: dict[tuple[str, str, Request], list[str]] | None = None

    def swap(e: Event, request: Request) -> str | None:
        """The event of ``e``'s record that made ``request`` instead of it, owed none of it
        (``Swapped``); None where none did, and for a register, whose record must hold its
        newest event's state, not an older one's. What it reads found once, when first
        asked."""
        nonlocal stand_ins
        if register:
            return None
        if stand_ins is None:
            owes: dict[str, set[Request]] = {}
            for other in out.judged:
                wanted = exp.per_event.get(other.id)
                owes[other.id] = {resource for resource, _ in groups(wanted)} if wanted else set()
            stand_ins = _stand_ins(exp, out.judged, owes, by_event, known)
        found = stand_ins.get((e.key, e.type, request))
        return found.pop(0) if found else None

    def owe_coarse(key: str, resource: Request, requests: list[tuple[Request, int]]) -> None:
        """One event's need of ``resource``, owed per record or per run."""
        out.coarse.update(r for r, _ in requests)
        need, shown = sum(n for _, n in requests), _shown(requests)
        if resource in no_record:
            held, count, first = run_need.get(resource, (0, 0, shown))
            run_need[resource] = (held + need, count + 1, first)
            hold(key, resource, need, 1, shown, "events")
        else:
            held, count, first = record_need.get((key, resource), (0, 0, shown))
            record_need[(key, resource)] = (held + need, count + 1, first)

    for e in out.judged:
        if e.id in exp.nothing:
            continue
        out.owed += 1
        wanted = exp.per_event.get(e.id)
        if wanted is None:
            if e.id in exp.any_rule and e.id not in any_write:
                out.events[e.id] = [Short(Level.EVENT, e.id, None, 1, 0)]
            continue  # else judged per record or per run only
        for resource, requests in groups(wanted):
            if resource in no_event:
                owe_coarse(e.key, resource, requests)
                continue
            need = sum(n for _, n in requests)
            have = by_event[(e.id, resource)]
            if resource == requests[0][0]:  # not an item's: its own method only
                if have < need:
                    by = swap(e, resource) if have == 0 else None
                    if by is None:
                        out.events.setdefault(e.id, []).append(
                            Short(Level.EVENT, e.id, resource, need, have)
                        )
                    else:
                        out.swapped[e.id] = Swapped(resource, by)
                continue
            short = [
                Short(Level.EVENT, e.id, r, n, exact[(e.id, r)])
                for r, n in requests
                if exact[(e.id, r)] < n
            ]
            # The resource written by another method than its clean twin's stands for it
            # where the twin wrote it by one; where by several (a PATCH and a PUT), the event
            # did each, and one made twice is not the other made: each is owed.
            if have < need or (short and len(requests) > 1):
                stood = None if len(requests) > 1 else stands(e, requests[0][0], need - have)
                if stood is None:
                    out.events.setdefault(e.id, []).extend(short)
                else:
                    out.stood[e.id] = stood
            elif short:  # the resource written, by another method than the clean run's
                instead = _instead(e.id, resource, wanted, exact)
                out.another_way[(short[0].request or resource, instead)] += 1
    # What the clean run made per record or per run, owed when all its events were accepted.
    by_key: dict[str, list[Event]] = {}
    for e in events:
        by_key.setdefault(e.key, []).append(e)
    for key, wanted in exp.per_record.items():
        mine = by_key.get(key, [])
        if not _record_owed(mine, accepted, register):
            out.unjudged += 1
            continue
        for resource, requests in groups(wanted):
            first = _shown(requests)
            need = sum(n for _, n in requests)
            need = min(need, 1) if register else need
            out.coarse.update(r for r, _ in requests)
            if resource in no_record:
                held, n, _ = run_need.get(resource, (0, 0, first))
                run_need[resource] = (held + need, n + len(mine), first)
                hold(key, resource, need, len(mine), first, "clean")
                continue
            have = by_record[(key, resource)]
            if have < need:
                lack = Short(Level.RECORD, key, first, need, have, "clean", len(mine))
                twin = _twin_writes(wanted, exp, mine)
                created = _created_instead(lack, resource, twin, by_record)
                if created is None and key in exp.standing_counted:
                    created = _deleted_instead(lack, resource, twin, by_record)
                if created is not None:
                    out.created.append(created)
                elif register and _written_in_part(key, mine, accepted, wanted, by_record):
                    out.partly.append(lack)
                elif replaced(key, resource, first):
                    out.replaced.append(lack)
                else:
                    out.records.append(lack)
            elif before_newest(key, resource):
                out.records.append(Short(Level.RECORD, key, first, need, 0, NEWEST, len(mine)))
    # The records the clean run never saw, or lost (all but its first's): one of each request
    # its every record got.
    for source, owing in (
        ("type", exp.untwinned),
        ("hushed", exp.hushed),
        ("first", exp.first_records),
    ):
        for key, wanted in owing.items():
            mine = by_key.get(key, [])
            if not _record_owed(mine, accepted, register):
                continue
            for resource, requests in groups(wanted):
                if resource in no_record:
                    continue  # compared in the whole run
                out.coarse.update(r for r, _ in requests)
                if by_record[(key, resource)] < 1:
                    first = _shown(requests)
                    out.records.append(Short(Level.RECORD, key, first, 1, 0, source, len(mine)))
    if exp.per_run:
        owed = any(e.id in accepted for e in events) if register else len(accepted) == len(events)
        if owed:
            for resource, requests in groups(exp.per_run):
                first = _shown(requests)
                out.coarse.update(r for r, _ in requests)
                have = total[resource]
                need = sum(n for _, n in requests)
                need = min(need, 1) if register else need
                held, _, _ = run_need.get(resource, (0, 0, first))
                if have < need + held:
                    out.run.append(
                        Short(Level.RUN, "", first, need + held, have, "clean", len(events))
                    )
                elif held:
                    cancelled(resource)
                run_need.pop(resource, None)
        else:
            out.unjudged += len(exp.per_run)
    for (key, resource), (need, n, first) in record_need.items():
        have = by_record[(key, resource)]
        if have < need:
            lack = Short(Level.RECORD, key, first, need, have, "events", n)
            if replaced(key, resource, first):
                out.replaced.append(lack)
            else:
                out.records.append(lack)
        elif before_newest(key, resource):
            out.records.append(Short(Level.RECORD, key, first, need, 0, NEWEST, n))
    for resource, (need, n, first) in run_need.items():
        have = total[resource]
        if have < need:
            out.run.append(Short(Level.RUN, "", first, need, have, "events", n))
        else:
            cancelled(resource)
    return out


def _record_owed(events: Sequence[Event], accepted: Collection[str], register: bool) -> bool:
    """Whether a record of ``events`` is owed what its clean twin made: a register's once some
    event of it was accepted (its latest accepted one is owed), a ledger's once every one was."""
    if register:
        return any(e.id in accepted for e in events)
    return bool(events) and all(e.id in accepted for e in events)


def _written_in_part(
    key: str,
    events: Sequence[Event],
    accepted: Collection[str],
    wanted: Counter[Request],
    by_record: Counter[tuple[str, Request]],
) -> bool:
    """Whether record ``key`` (register) had some of its ``events`` never accepted and got
    some write of the resources its clean twin wrote (``wanted``): which of the twin's writes
    its latest accepted event made is not known, when they name the record only."""
    if all(e.id in accepted for e in events):
        return False
    return any(by_record[(key, resource)] for resource, _ in _by_resource(wanted))


def _twin_writes(
    wanted: Counter[Request], exp: Expectation, events: Sequence[Event]
) -> Counter[Request]:
    """What the clean twin of a record made: ``wanted`` (its writes naming the record only)
    and what its ``events``' twins made naming them (a creation whose body carries the
    event's values, where the updates name the record only)."""
    found = Counter(wanted)
    for e in events:
        found.update(exp.per_event.get(e.id, ()))
    return found


def _created_instead(
    short: Short,
    resource: Request,
    wanted: Counter[Request],
    by_record: Counter[tuple[str, Request]],
) -> Created | None:
    """``short`` (a record's) where the record got as many writes of the item as its clean
    twin made (``wanted``: ``_twin_writes``), creations in its collection counted, and more
    creations than its twin: written another way, or lost, which writes naming their record
    cannot tell. None where not (a loss, as before)."""
    creation = created_in(resource)
    if creation is None:
        return None
    key = short.subject
    clean_created = wanted.get(creation, 0)
    created = by_record[(key, creation)]
    made = by_record[(key, resource)] + created
    clean = clean_created + sum(n for r, n in wanted.items() if same_resource(r) == resource)
    if created <= clean_created or made < clean:
        return None
    return Created(short, creation, made, clean, created, clean_created)


def _deleted_instead(
    short: Short,
    resource: Request,
    wanted: Counter[Request],
    by_record: Counter[tuple[str, Request]],
) -> Created | None:
    """``short`` of a DELETE of an item (``DELETE /contacts/{id}``) where the record created
    it (``POST /contacts``) as often as its clean twin, which removed all but some of what it
    created — a replace by delete and create — and more of them stand here: simultaneous events
    each looked the item up before another had created it, found nothing to remove, and
    created it (the items left standing are ``no_duplicate_effects``' to judge), or a deletion
    was lost, which writes naming their record cannot tell. None where the clean twin removed
    all it created (a deletion owed: lost, as before) or the record created fewer."""
    if resource.method != "DELETE" or not is_item(resource.route):
        return None
    creation = Request(resource.downstream, "POST", resource.route.rpartition("/")[0])
    key = short.subject
    clean_created, clean_deleted = wanted.get(creation, 0), wanted.get(resource, 0)
    created, deleted = by_record[(key, creation)], by_record[(key, resource)]
    clean_standing = clean_created - clean_deleted
    if clean_standing < 1 or created < clean_created or created - deleted <= clean_standing:
        return None
    return Created(
        short, creation, created + deleted, clean_created + clean_deleted, created,
        clean_created, removal=True,
    )  # fmt: skip


def _created_ok(
    writes: Sequence[Effect], routes: Routes, known: Collection[str]
) -> Counter[tuple[str, Request]]:
    """(event id, creation) -> the creations (a POST to a collection) naming the event that
    were answered 2xx: a creation committed and then failed is not one the target knew made."""
    found: Counter[tuple[str, Request]] = Counter()
    for w in writes:
        request = routes.of(w)
        if request.method == "POST" and not is_item(request.route) and 200 <= w.status < 300:
            for eid in distinct(w.event_ids):
                if eid in known:
                    found[(eid, request)] += 1
    return found


def _creator(
    record: Sequence[Event],
    creation: Request,
    per_event: Mapping[str, Counter[Request]],
    by_event: Counter[tuple[str, Request]],
) -> tuple[int, Event | None]:
    """How many ``creation`` the clean twin of ``record`` (its events) made, and the earliest
    of its events that made fewer here than its twin did (None: each made its own)."""
    clean = 0
    creator: Event | None = None
    for e in record:
        wanted = per_event.get(e.id)
        twin_made = wanted.get(creation, 0) if wanted else 0
        clean += twin_made
        if by_event[(e.id, creation)] < twin_made and (creator is None or e.seq < creator.seq):
            creator = e
    return clean, creator


def _instead(
    event_id: str, resource: Request, wanted: Counter[Request], exact: Counter[tuple[str, Request]]
) -> Request:
    """The request an event made of ``resource`` beyond what its clean twin made: the method
    it wrote the resource by instead."""
    for method in ITEM_WRITES:
        request = Request(resource.downstream, method, resource.route)
        if exact[(event_id, request)] > wanted.get(request, 0):
            return request
    return resource
