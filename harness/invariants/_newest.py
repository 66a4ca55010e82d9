"""A register's record written only before its newest event was sent: left on an older state.

Where a record's writes name only the record (no event), a register's record is owed the writes
its newest accepted event makes, and counting them does not show which event each was for: a
record whose older update was written and whose newest was refused and dropped got as many
writes as a register owes, and passed. A write made before the newest event was first sent
cannot be that event's (``_shortfalls.shortfalls`` flags such a record, ``Short.source``
"newest"). Not where the clean run's twin record got no write after its own newest event
either: the automation writes nothing for such an update (no change to write), by design —
unless that event changes what the record's last write holds: then not known (``Unwritten``).
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import replace

from ..core import _paths
from ..core._model import Effect, Event, Model
from ..history import History, event_column, event_rows
from ._derived import leaf_text
from ._expected import Expectation, expectation_of, shortfalls_of
from ._facts import Facts, accepted_in, first_sent, is_write
from ._requests import Request, same_resource
from ._shortfalls import NEWEST, Level, Short, Shortfalls, Unwritten, shortfalls
from ._unfinished import unfinished


def newest_of(
    events: Sequence[Event], accepted: Collection[str], keys: Collection[str]
) -> dict[str, str]:
    """Record key (of ``keys``) -> its newest accepted event's id."""
    newest: dict[str, tuple[int, str]] = {}
    for key, eid, seq in event_rows(events, "key", "id", "seq"):
        if key in keys and eid in accepted and (key not in newest or seq > newest[key][0]):
            newest[key] = (seq, eid)
    return {key: eid for key, (_, eid) in newest.items()}


def newest_sent(facts: Facts, keys: Collection[str]) -> dict[str, tuple[str, float]]:
    """Record key -> its newest accepted event and when that event was first sent."""
    if not keys:
        return {}
    newest = newest_of(facts.history.events, facts.accepted, keys)
    found = facts.deliveries_of(list(newest.values()))
    sent = first_sent([d for ds in found.values() for d in ds], facts.tampered)
    return {key: (eid, sent[eid]) for key, eid in newest.items() if eid in sent}


_TIMED: weakref.WeakKeyDictionary[Facts, Shortfalls] = weakref.WeakKeyDictionary()


def timed_shortfalls(facts: Facts) -> Shortfalls:
    """The run's ``shortfalls`` as ``no_lost_events`` judges them (and ``recovers_after_outage``
    reads them): writes naming only their record timed against each record's newest event, a
    register's written only before it ("newest"), a ledger's PUT after it (``replaced``). Made
    once per ``judge()``; shared, never changed by its readers."""
    found = _TIMED.get(facts)
    if found is None:
        found = _TIMED[facts] = _timed(facts, expectation_of(facts))
    return found


def _timed(facts: Facts, exp: Expectation) -> Shortfalls:
    history = facts.history
    sent = first_sent(history.deliveries, facts.tampered) if facts.record_only else None
    # Sends stamped by Locust workers are on the run's clock only to within the uncertainty
    # of each worker's measured offset (settings ``clocks``, 0 elsewhere). Taken as early as
    # they may have been, a record still written only before its newest send surely was, and
    # a ledger's PUT that may have come after it is ``replaced`` (not known).
    margin = clock_margin(history)
    found = _newest_shortfalls(facts, exp, sent, -margin)
    if sent is None or margin <= 0 or not _near_newest(facts, sent, margin):
        return found
    # Taken as late as they may have been, the records written only before it besides those:
    # their last write came within the uncertainty of the send, and may be an older event's
    # with the newest dropped — not known, never passed.
    sure = {(s.subject, s.request) for s in (*found.records, *found.newest_unseen)}
    late = _newest_shortfalls(facts, exp, sent, margin)
    clocked = [
        s
        for s in (*late.records, *late.newest_unseen)
        if s.source == NEWEST and (s.subject, s.request) not in sure
    ]
    return replace(found, newest_clocked=clocked)


def clock_margin(history: History) -> float:
    """How far, in seconds, a send's time may be from the run's clock: the Locust workers'
    largest clock uncertainty (settings ``clocks``), 0 where one clock timed everything."""
    return float(history.info.settings.get("clocks", {}).get("uncertainty", 0.0))


def _near_newest(facts: Facts, sent: dict[str, float], margin: float) -> bool:
    """Whether any write of a record came within ``margin`` of its newest accepted event's
    first send: only then may the sends taken as late as they may have been find another
    record, and ``shortfalls`` (the judge's costliest pass) is worth making again."""
    events = facts.history.events
    newest = newest_of(events, facts.accepted, set(event_column(events, "key")))
    when = {key: sent[eid] for key, eid in newest.items() if eid in sent}
    known = facts.events_by_id
    for w in facts.writes_in_order:
        at = when.get(w.key) if w.key is not None else None
        if at is None:  # a write naming its event, not its record
            named = next((known[i] for i in w.event_ids if i in known), None)
            at = when.get(named.key) if named is not None else None
        if at is not None and abs(w.at - at) <= margin:
            return True
    return False


def _newest_shortfalls(
    facts: Facts, exp: Expectation, sent: dict[str, float] | None, shift: float
) -> Shortfalls:
    """``shortfalls`` with each first send moved by ``shift`` seconds, and ``owed_newest``."""
    if sent is None:
        found = shortfalls_of(facts)
    else:
        if shift:
            sent = {eid: at + shift for eid, at in sent.items()}
        found = shortfalls(exp, facts.history.events, facts.accepted, facts.writes_in_order, sent)
    return unowed_newest(facts, exp, owed_newest(facts, exp, found))


def owed_newest(facts: Facts, exp: Expectation, found: Shortfalls) -> Shortfalls:
    """``found`` without the "newest" records whose clean twin got no write of the request
    after its own newest event was first sent either: what the automation does for an update
    with nothing new, not a loss — not known (``newest_unseen``) where the clean run stopped
    watching before its target was done."""
    flagged = [s for s in found.records if s.source == NEWEST]
    clean = facts.history.baseline
    if not flagged or clean is None:
        return found
    twins = facts.record_twins
    wanted = {
        twins[s.subject]: same_resource(s.request)
        for s in flagged
        if s.subject in twins and s.request
    }
    silent = _silent_after_newest(clean, exp, wanted)
    keep = [s for s in found.records if s.source != NEWEST or twins.get(s.subject) not in silent]
    both = [s for s in flagged if twins.get(s.subject) in silent]
    # Silent in both runs, but the newest event changes what the record's writes hold: not an
    # update with nothing new — dropped alike in both runs, or ignored by design (unknown).
    unwritten = _unwritten(facts, exp, both)
    left = {u.short.subject for u in unwritten}
    if not unfinished(clean).any:
        return replace(found, records=keep, newest_unwritten=unwritten)
    # The clean run stopped watching before its target was done: its twin's silence after
    # the newest event may be a write it did not see, and teaches nothing.
    unseen = [s for s in both if s.subject not in left]
    return replace(found, records=keep, newest_unseen=unseen, newest_unwritten=unwritten)


# Values too common to tell one event's state from another's in a write's body.
_PLAIN = frozenset({"None", "True", "False", ""})


def _unwritten(facts: Facts, exp: Expectation, both: Sequence[Short]) -> list[Unwritten]:
    """Those of ``both`` ("newest" records whose clean twin was silent after its newest event
    too) where that event changes a value the record's last write holds: a value of an older
    event of the record, at a payload path other than the source's id, key, type, sequence and
    time, written, where the newest event has another that is not (tests/gallery/dst_orders:
    an order's last PUT holds its note "paid by card", its newest update says "shipped" — an
    update a staleness check read as older, in the clean run too)."""
    if not both:
        return []
    history = facts.history
    wanted = {s.subject: same_resource(s.request) for s in both if s.request is not None}
    last: dict[str, Effect] = {}  # each record's last write of its resource
    for key, w in _writes_of(history.effects, exp, wanted):
        if w.committed and (key not in last or w.at >= last[key].at):
            last[key] = w
    events = _accepted_by_record(facts, wanted)
    skip = _source_paths(history)
    found = []
    for s in both:
        theirs = events.get(s.subject, [])
        write = last.get(s.subject)
        if write is None or len(theirs) < 2:
            continue
        changes = _changes(write, theirs, skip, history.info.tracer_tag)
        if changes:
            found.append(Unwritten(s, write.id, changes))
    return found


def unowed_newest(facts: Facts, exp: Expectation, found: Shortfalls) -> Shortfalls:
    """``found`` with the register records whose newest accepted event made nothing and was
    owed nothing — its clean twin, accepted, made nothing — whose writes, naming their events,
    all came before it was first sent, where that event changes a value the record's last
    write holds (``_changes``): an update ignored by design and one dropped in every run alike
    look the same — not known (``Unwritten``, ``named``), never passed
    (tests/gallery/updates_once.py: a create's dedup by order id reused for updates, each
    order's copy kept on its first state, in the clean run too)."""
    if exp.model is not Model.REGISTER:
        return found
    held = {u.short.subject for u in found.newest_unwritten}
    quiet = {
        e.key: e
        for e in found.judged
        if e.id in exp.not_expected
        and e.id not in facts.first_write
        and e.key not in held
        and e.id not in exp.tied  # its clean twin tied with another: said so (``_ties``)
    }
    if not quiet:
        return found
    history = facts.history
    known = facts.events_by_id
    last: dict[str, Effect] = {}  # each such record's last write
    for w in facts.writes_in_order:
        key = w.key if w.key in quiet else None
        if key is None:
            key = next((known[i].key for i in w.event_ids if i in known), None)
        if key in quiet and w.committed and (key not in last or w.at >= last[key].at):
            last[key] = w
    found_sent = facts.deliveries_of([e.id for e in quiet.values()])
    sent = first_sent([d for ds in found_sent.values() for d in ds], facts.tampered)
    events = _accepted_by_record(facts, quiet)
    skip = _source_paths(history)
    unwritten = []
    for key, newest in quiet.items():
        write = last.get(key)
        theirs = events.get(key, [])
        if write is None or len(theirs) < 2 or write.at >= sent.get(newest.id, write.at):
            continue
        changes = _changes(write, theirs, skip, history.info.tracer_tag)
        if changes:
            short = Short(Level.RECORD, key, exp.routes.of(write), 1, 0, NEWEST, len(theirs))
            unwritten.append(Unwritten(short, write.id, changes, named=True))
    return replace(found, newest_unwritten=[*found.newest_unwritten, *unwritten])


def _accepted_by_record(facts: Facts, keys: Collection[str]) -> dict[str, list[Event]]:
    """Record key (of ``keys``) -> its accepted events, by seq."""
    events: dict[str, list[Event]] = {}
    for e in facts.history.events:
        if e.key in keys and e.id in facts.accepted:
            events.setdefault(e.key, []).append(e)
    return {key: sorted(theirs, key=lambda e: e.seq) for key, theirs in events.items()}


def _source_paths(history: History) -> set[str]:
    """The source's id, key, type, sequence and time paths: not a state's values."""
    return {p for p in history.info.settings.get("paths", {}).values() if isinstance(p, str)}


def _changes(
    write: Effect, events: Sequence[Event], skip: Collection[str], tag: str
) -> tuple[tuple[str, str, str], ...]:
    """(path, value written, the newest event's) where ``write`` holds an older event's value
    that ``events``' newest (the last) changes to one it does not hold anywhere — beyond the
    run's tracer token of each event (``tag``): an issue's title "Checkout fails zq…e6" and
    "Checkout fails zq…e52" are one title (tests/test_gallery_payloads.py). The older value
    held is text the write has anywhere, or a number or a flag under the same name (a schema
    version 1 is no note count of 1)."""
    token = re.compile(re.escape(tag) + r"e\d+", re.IGNORECASE) if tag else None
    try:
        body = json.loads(write.body) if write.body else None
    except ValueError:
        return ()
    leaves = list(_paths.leaves(body))
    held = {leaf_text(v) for _, v in leaves}
    named = {(_name(k), leaf_text(v)) for k, v in leaves}
    newest = {_paths.render(k): leaf_text(v) for k, v in _paths.leaves(events[-1].payload)}
    changes: dict[str, tuple[str, str, str]] = {}
    for older in events[:-1]:
        for steps, value in _paths.leaves(older.payload):
            path, was = _paths.render(steps), leaf_text(value)
            now = newest.get(path)
            if path in skip or now is None or now == was or was in _PLAIN or now in held:
                continue
            if token is not None and token.sub("", now) == token.sub("", was):
                continue
            if (was in held and isinstance(value, str)) or (_name(steps), was) in named:
                changes[path] = (path, was, now)
    return tuple(changes.values())


def _name(steps: tuple[_paths.Step, ...]) -> str:
    """The name a leaf is held under: its last key (``$.items[0].qty`` -> ``qty``)."""
    return next((s for s in reversed(steps) if isinstance(s, str)), "")


def _silent_after_newest(clean: History, exp: Expectation, wanted: dict[str, Request]) -> set[str]:
    """The clean run's records of ``wanted`` (key -> resource, ``same_resource``) that got no
    write of it after their newest event was first sent."""
    newest = newest_of(clean.events, accepted_in(clean), wanted.keys())
    sent = first_sent(clean.deliveries)
    last: dict[str, float] = {}
    for key, w in _writes_of(clean.effects, exp, wanted):
        last[key] = max(last.get(key, w.at), w.at)
    return {
        key
        for key, eid in newest.items()
        if eid in sent and last.get(key, float("-inf")) < sent[eid]
    }


def _writes_of(
    effects: Iterable[Effect], exp: Expectation, wanted: dict[str, Request]
) -> Iterator[tuple[str, Effect]]:
    """(record key, write) for each write of ``effects`` to the resource ``wanted`` names for
    its record (key -> resource, ``same_resource``)."""
    resource_of = exp.routes.resource_of
    for w in effects:
        key = w.key
        if key is not None and key in wanted and is_write(w) and resource_of(w)[1] == wanted[key]:
            yield key, w
