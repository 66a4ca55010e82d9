"""Resources created more often than the clean run created them, per record.

A write naming only its record cannot show which of the record's events repeated it, and a
repeat of most writes may be harmless (a PATCH that merges, a PUT of the same state):
``no_duplicate_effects`` is inconclusive on more of them than the clean run made. A creation
is not: a ``POST`` to a collection answered ``201 Created`` makes a new resource each time, so
a record that got more of them than its clean twin, for the same events all accepted, holds a
resource made twice — whichever of its events made it (a redelivery not deduplicated, a retry
without an Idempotency-Key, simultaneous events racing a find-or-create). Only where every
write of the request in the clean run named its record (else the twin's count may be short)
and every one counted here was answered 201, or committed and then failed (an API that booked
it and answered 502: made all the same), one at least 201. A creation whose resource a
committed ``DELETE`` removed after it is not counted, in either run: an automation that
"upserts" by deleting the record's resource and creating it again (an API with no ``PUT``)
creates once per event in its clean run too, and only the resources left standing say whether
one was made twice (tests/gallery/delete_recreate.py) — where the clean twin created one at
least: a twin that created its one and deleted it (the record's deletion) left none, and one
left standing here is a twin made by a race, orphaned.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence, Set
from dataclasses import replace

from ..core._model import Effect
from ..history import History
from ._deferred import refused_for_now
from ._expected import expectation_of, shortfalls_of
from ._facts import Facts, is_write, plural
from ._idempotent import Repeats, mutation_fields
from ._requests import Request, Routes, is_item
from ._shortfalls import acted_once
from ._unattributed import Counted, Unattributed
from ._undone import bare_path, issued_ids

CREATED = 201


def created_more(facts: Facts, found: Unattributed) -> list[Counted]:
    """The records of ``found`` (its requests over what the clean run made) that got more
    creations than their clean twin for the same events, all accepted. A twin that created
    nothing shows nothing of what its events create (a clean run whose worker died with them
    queued): one creation here is not a resource made twice."""
    baseline = facts.history.baseline
    if baseline is None:
        return []
    candidates = [
        c
        for c in found.over
        if c.record is not None
        and c.here > c.clean >= 1
        and c.accepted == c.clean_accepted == c.events
        and _creation(c)
    ]
    if not candidates:
        return []
    routes = expectation_of(facts).routes
    wanted = {c.request for c in candidates}
    unkeyed = {
        request
        for e in baseline.effects
        if e.key is None and is_write(e) and (request := routes.of(e)) in wanted
    }
    return [c for c in candidates if c.request not in unkeyed]


def created_more_by_events(facts: Facts) -> tuple[list[Counted], list[Counted]]:
    """The records whose events made more creations of one request than their clean twin's
    events made, counted whether each names its event or only its record — the record's
    events as many in both runs, all accepted. Which of a customer's checkouts creates its
    account (a find-or-create) is the order's to say, and each event made one creation at
    most, no repeat; but three accounts where its clean twin made one are two made twice:
    simultaneous events racing a find-or-create (``Counted.unattributed`` holds the
    creations, here naming their events). A creation naming an event whose clean twin wrote
    nothing naming it is counted beyond the twin's only where the twin's record made as many
    other calls as here (``_alive_twins``), or where an event of the record made the request
    in place of the one owed it (``_shortfalls.Swapped``: the clean run acted on each record
    once, in two records or more — what lets ``no_lost_events`` count the work done, and
    makes the silent twins design, not loss); where neither made any, the record is in the
    second list: undecided (the clean run lost the event, or found its resource made
    without a call)."""
    baseline = facts.recorded.baseline
    if baseline is None:
        return [], []
    exp = expectation_of(facts)
    if exp.clean_run is None:
        return [], []
    routes = exp.routes
    repeats = Repeats(facts.history.info.settings)
    # Records of several events, all accepted in both runs, none drifted.
    standing, deleted = _creations_by_record(
        facts.recorded, routes, facts.comparable_records, repeats
    )
    # One left standing is one too many where the record's clean twin left none, having
    # created it and deleted it (a race's twin orphaned by the record's deletion).
    here = {found: made for found, made in standing.items() if len(made) > 1 or deleted[found]}
    if not here:
        return [], []
    twin, mine = facts.record_twins, facts.record_events
    wanted = {twin[key] for _, key in here}
    clean, clean_deleted = _creations_by_record(baseline, routes, wanted, repeats)
    out: list[Counted] = []
    doubtful: list[Counted] = []
    silent: set[str] | None = None  # found at the first record that needs it
    moved: set[tuple[str, Request]] = set()  # (record, request) made by a stand-in
    once: set[tuple[str, Request]] = set()  # (type, request) the clean run made once a record
    events = facts.events_by_id
    for (request, key), made in here.items():
        theirs = twin[key]
        n, yes = mine[key]
        made_clean = len(clean.get((request, theirs), ()))
        created_clean = made_clean + clean_deleted[(request, theirs)]  # its events create
        if len(made) > made_clean and created_clean >= 1:
            counted = Counted(request, key, len(made), made_clean, yes, yes, n, made)
            if deleted[(request, key)] or made_clean < created_clean:
                counted = replace(counted, standing=True)
            # Those naming an event whose clean twin wrote nothing naming it: found made there
            # (a find-or-create), or lost there (a worker killed mid-work)?
            if silent is None:
                silent = _silent_twins(facts.history, baseline)
                moved = _moved(facts)
                once = _once_per_record(baseline, routes)
            by_silent = [e for e in made if len(e.event_ids) == 1 and e.event_ids[0] in silent]
            designed = all((events[e.event_ids[0]].type, request) in once for e in by_silent)
            lost_there = 0 if (key, request) in moved or designed else len(by_silent)
            (out if len(made) - lost_there > made_clean else doubtful).append(counted)
    if not doubtful:
        return out, []
    alive, unknown = _alive_twins(facts, baseline, doubtful)
    return out + alive, unknown


def _alive_twins(
    facts: Facts, baseline: History, doubtful: list[Counted]
) -> tuple[list[Counted], list[Counted]]:
    """Of ``doubtful``, the records whose clean twin made as many other calls (reads too: a
    look-up that found the resource) as the record made here: its silent events were alive
    there and found what they would have made. A twin that made fewer lost them. Where
    neither made any other call, the journal cannot tell a twin that lost its events (a
    worker killed mid-work) from one that found the resource made without a call (a look-up
    in its own memory): those are the second list."""
    records = {c.record for c in doubtful if c.record is not None}
    twins = {facts.record_twins[r]: r for r in records if r is not None}
    contested = {c.record: c.request for c in doubtful}
    routes = expectation_of(facts).routes
    here = _other_calls(facts.history, records, contested, routes)
    there = _other_calls(baseline, set(twins), {t: contested[r] for t, r in twins.items()}, routes)
    alive, unknown = [], []
    for c in doubtful:
        if c.record is None:
            continue
        mine, theirs = here[c.record], there[facts.record_twins[c.record]]
        if mine and theirs >= mine:
            alive.append(c)
        elif not mine and not theirs:
            unknown.append(c)
    return alive, unknown


def _other_calls(
    history: History, records: set[str], contested: dict[str | None, Request], routes: Routes
) -> Counter[str]:
    """Per record of ``records``: the calls naming it or one of its events, but its
    ``contested`` request's, and but those the API refused for now (5xx, 429, no answer): a
    read retried after a downstream's failure is the same look-up once more, not a sign that
    more of the record's events were alive."""
    keys = {e.id: e.key for e in history.events if e.key in records}
    out: Counter[str] = Counter()
    for e in history.effects:
        if refused_for_now(e.status):
            continue
        key = keys.get(e.event_ids[0]) if e.event_ids else e.key
        if key in records and routes.of(e) != contested[key]:
            out[key] += 1
    return out


def _moved(facts: Facts) -> set[tuple[str, Request]]:
    """(record, request) where an event of the record made the request in place of the one
    owed it (``_shortfalls.Swapped``)."""
    known = facts.events_by_id
    return {(known[eid].key, s.request) for eid, s in shortfalls_of(facts).swapped.items()}


def _once_per_record(baseline: History, routes: Routes) -> set[tuple[str, Request]]:
    """(type, request) the clean run made once a record, by the first of the record's events
    of that type: ``_shortfalls.acted_once`` (two records or more showing it, none made twice),
    and every record of that type made it, by its first event (a clean run that lost most of
    its events — workers killed mid-work — can leave one act a record, but not the first of
    every record's). There an event whose twin made none of it was silent by design, not lost,
    and one that made it here made it once more."""
    made: dict[Request, set[str]] = {}  # request -> the events whose writes made it
    for e in baseline.effects:
        if is_write(e) and e.event_ids:
            made.setdefault(routes.of(e), set()).update(e.event_ids)
    records: dict[tuple[str, str], list[str]] = {}  # (record, type) -> its events, in seq order
    for ev in sorted(baseline.events, key=lambda ev: ev.seq):
        records.setdefault((ev.key, ev.type), []).append(ev.id)
    once = set()
    for request, ids in made.items():
        per_type: dict[str, list[tuple[int, int]]] = {}
        firsts: dict[str, bool] = {}  # type -> every record's act by its first event
        for (_, kind), mine in records.items():
            acted = [i for i in mine if i in ids]
            per_type.setdefault(kind, []).append((len(acted), len(mine) - len(acted)))
            firsts[kind] = firsts.get(kind, True) and acted == mine[:1]
        once |= {(kind, request) for kind, n in per_type.items() if firsts[kind] and acted_once(n)}
    return once


def _silent_twins(history: History, baseline: History) -> set[str]:
    """This run's events whose clean twin (the same seq and type) made no write naming it."""
    wrote = {eid for e in baseline.effects if is_write(e) for eid in e.event_ids}
    twins = {e.seq: e for e in baseline.events}
    return {
        e.id
        for e in history.events
        if (t := twins.get(e.seq)) is not None and t.type == e.type and t.id not in wrote
    }


def _creations_by_record(
    history: History, routes: Routes, records: Set[str], repeats: Repeats
) -> tuple[dict[tuple[Request, str], list[Effect]], Counter[tuple[Request, str]]]:
    """(request, record) -> the creations of ``history`` naming one of ``records`` (by their
    event, or the record alone) left standing: POSTs to a collection answered 201, not GraphQL
    nor a route declared ``merges:`` — each a new resource: where the double marks the ids it
    makes up, one it made up; not one under an ``Idempotency-Key`` its request met before (the
    API answers the first creation again), unless its downstream declares the key ignored;
    and, apart, how many such creations a committed ``DELETE`` removed since."""
    events = {e.id: e.key for e in history.events if e.key in records}
    out: dict[tuple[Request, str], list[Effect]] = {}
    deleted: Counter[tuple[Request, str]] = Counter()
    if not events:
        return out, deleted
    issued = issued_ids(history.marks)
    removed = _deleted_at(history) if issued else {}
    replayed: set[tuple[Request, str]] = set()  # the requests' Idempotency-Keys met
    for e in history.effects:
        if e.status != CREATED or e.method.upper() != "POST":
            continue
        if issued and e.id not in issued:
            continue
        gone = removed.get((e.downstream, f"{bare_path(e.path)}/{issued.get(e.id)}"))
        ids = e.event_ids
        key = (events.get(ids[0]) if len(ids) == 1 else _one(events, ids)) if ids else e.key
        if key is None or key not in records:
            continue
        request = routes.of(e)
        if is_item(request.route) or mutation_fields(e) or not repeats.may_harm_body(e):
            continue
        if gone is not None and gone > e.at:  # deleted since: not left standing
            deleted[(request, key)] += 1
            continue
        idempotency = repeats.key(e)
        if idempotency is not None:
            if (request, idempotency) in replayed:
                continue
            replayed.add((request, idempotency))
        out.setdefault((request, key), []).append(e)
    return out, deleted


def _deleted_at(history: History) -> dict[tuple[str, str], float]:
    """(downstream, path) -> when a committed ``DELETE`` of it was last made."""
    return {
        (e.downstream, bare_path(e.path)): e.at
        for e in sorted(history.effects, key=lambda e: e.at)
        if e.committed and e.method.upper() == "DELETE"
    }


def _one(events: dict[str, str], ids: tuple[str, ...]) -> str | None:
    """The one record the events ``ids`` name, else None."""
    keys = {events.get(i) for i in ids}
    return keys.pop() if len(keys) == 1 else None


def _creation(c: Counted) -> bool:
    """A POST to a collection (the route's last segment no parameter), each of this run's
    writes of it naming no event answered 201 or committed and then failed (the double booked
    it, then answered 5xx or dropped the connection: a resource made, its answer lost), one of
    them at least answered 201 (the route creates). Not a GraphQL mutation: a stateful double
    answers every POST 201, and whether ``tagsAdd`` or ``customerCreate`` makes something is
    the mutation's to say, not the path's."""
    return (
        c.request.method == "POST"
        and not is_item(c.request.route)
        and any(e.status == CREATED for e in c.unattributed)
        and all(e.status == CREATED or _failed_after_commit(e) for e in c.unattributed)
        and not any(mutation_fields(e) for e in c.unattributed)
    )


def _failed_after_commit(e: Effect) -> bool:
    return e.committed and not 200 <= e.status < 300


def created_text(
    created: Sequence[Counted], clean_run: str, several: bool, named: bool = False
) -> str:
    """``named``: the creations name their events (``created_more_by_events``), each made
    once: simultaneous events racing; else they name their record alone."""
    worst = max(created, key=lambda c: c.here - c.clean)
    request = f"{worst.request.method} {worst.request.route}"
    requests = sorted({c.request.text(several) for c in created})
    why = (
        "each of its events made one at most: events of one record each creating it — "
        "simultaneous events racing a find-or-create (each looked for the resource before "
        "another had made it), or a later event's look-up missing the earlier one's"
        if named
        else "a redelivery not deduplicated, a retry without an Idempotency-Key, or "
        "simultaneous events racing a find-or-create; those writes name their record, not "
        "their event"
    )
    return (
        f"{plural(len({c.record for c in created}), 'record')} got more resources created by "
        f"{', '.join(requests)} than the clean run {clean_run} created for the same events, "
        f"all accepted (record {worst.record}: {_counts(worst)}): a resource made twice, "
        "whichever of the record's events made "
        f"it — {why} (if the API upserts on this POST, declare it `merges: ['{request}']` on "
        f"downstream {worst.request.downstream})"
    )


def _counts(c: Counted) -> str:
    """``2 created, where its clean twin got 1``; ``1 created and left standing, where its
    clean twin left 0`` where deletions removed some."""
    if c.standing:
        return f"{c.here:,} created and left standing, where its clean twin left {c.clean:,}"
    return f"{c.here:,} created, where its clean twin got {c.clean:,}"
