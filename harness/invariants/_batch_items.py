"""Batch writes judged by their items: what ``final_state_matches_baseline`` compares for an
automation that batches.

An automation that batches (a Node-RED ``join`` then one upsert call; a sync flushing a buffer
every N events or T ms) writes many records in one call: ``POST /contacts/batch/upsert`` with
``{"inputs": [10 contacts]}``. Which events share a call depends on timing, so the call as a
whole differs between the clean run and a perturbed one although nothing was lost or stale:
each of its items is one record's write.

A route (``POST /contacts/batch/upsert``) is a **batch route** when a write to it, in either
run, names events of several records and holds a list (at one path of its JSON body) two or
more of whose elements each name an event, of two records or more (tracer tokens, ids carried
as sent). A write naming several events of one record is that record's state (a contact
holding the names its updates brought), judged whole. Every write to a batch route
in both runs, a batch of one included, is then judged as its items: one write per element of
that list, naming the events and the record the element names, its body the element. A batch
is taken as upserts, each record's last item its state — but in a ledger, whose state is its
entries, counted, each item is an entry of its record's: every committed item is kept, so the
final state compares how many entries each record holds, and which, whatever order the calls
carried them in; unless the route says it upserts (a path naming ``upsert``, a PUT or PATCH),
whose items replace their records' in a ledger too. A stateful double stores the call as one
resource, which is not the state a real batch API leaves, so that resource is set aside.

Set aside, with the records they name (not judged, and said): an element naming events of
several records, or none and no record; a write naming events of several records that holds no
such list (a batch whose items cannot be told apart).

``per_key_order`` reads one run's batch calls alike (``in_order``): each item a write of its
own, at its call's time, standing where it stands in the call (an upsert applies them in
order). What cannot be told apart record by record is kept whole there, one write naming the
events of several records, as such a write always was: judged by its oldest event per record
against what came before, its inside unseen; dropping it would move its events' first writes
to later ones.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from ..core._model import OBSERVER, Effect, Event, Model, StateRecord
from ..core._scenario import TracerSpec
from ..drive._correlate import Correlation
from ..drive._tracer import Tracer
from ..history import History
from ._facts import is_write, plural, route_of

_ITEMS = " (batch items)"  # a batch route's collection, as the final state names its items

Step = str | int  # a dict member's name or a list's index
_MIN_ITEMS = 2  # elements naming an event, of one list, that make a write a batch


@dataclass(slots=True)
class Aside:
    """What of one run's batches was set aside: the records they name (this run's keys), and
    the elements naming no record."""

    records: set[str] = field(default_factory=set)
    elements: int = 0  # elements naming no record, or several
    merged: int = 0  # of those, the elements naming events of several records
    writes: int = 0  # writes to a route with calls of several records and no list of items


@dataclass(frozen=True, slots=True)
class Split:
    """The run and its baseline with their batch writes as items; what was set aside in each."""

    history: History  # its ``baseline`` split alike (``split``)
    routes: tuple[str, ...]  # the batch routes, as ``route_of`` writes them
    aside: Aside
    baseline_aside: Aside
    # id() of each item -> (its place in its call, from 1; its call's items): the items are
    # made here and held by ``history``, so their ids stand as long as it does.
    positions: dict[int, tuple[int, int]] = field(default_factory=dict)

    def position(self, item: Effect) -> str:
        """``item 3 of 10`` for an item of a batch call, else ""."""
        found = self.positions.get(id(item))
        return f"item {found[0]:,} of {found[1]:,}" if found else ""

    def note(self, records: int) -> str:
        """What the summary says: the routes judged by their items, and the ``records`` (of
        both runs) named by what was set aside, with why."""
        text = ""
        if self.routes:
            text = (
                f"; the writes to {', '.join(self.routes)} judged by their items, each element "
                "of a call's list the write of the record it names (which events share a call "
                "differs from run to run)"
            )
        elements = self.aside.elements + self.baseline_aside.elements
        writes = self.aside.writes + self.baseline_aside.writes
        why = []
        if elements:
            items = plural(elements, "batch item")
            why.append(f"{items} naming events of several records, or none")
        if writes:
            why.append(
                f"{plural(writes, 'write')} to a route whose calls name events of several "
                "records without a list of one item per event in the body"
            )
        if why:
            whose = f"{plural(records, 'record')} not judged" if records else "not judged"
            text += (
                f"; {whose}, their state being in what could not be told apart record by "
                f"record ({' and '.join(why)} in the two runs): check that each "
                "item of a batch call carries its event's id or its record's key, or a value "
                "of its event (an email, a name), as sent"
            )
        return text


def split(history: History) -> Split | None:
    """``history`` (and its baseline) with its batch writes as items; None when neither run
    has a batch write."""
    baseline = history.baseline
    if baseline is None:
        return None
    runs = (_Run(history), _Run(baseline))
    found = _routes(runs)
    if found is None:
        return None
    lists, aside = found
    mine, theirs = (r.split(lists, aside) for r in runs)
    return Split(replace(mine, baseline=theirs), tuple(sorted(lists)), runs[0].aside, runs[1].aside)


def in_order(history: History) -> Split | None:
    """This run alone with its batch writes as items, for an order: each item where it stands
    in its call; what cannot be told apart record by record kept whole (counted in ``aside``).
    None when the run has no batch route: its writes of several records stand as they are."""
    run = _Run(history, whole=True)
    found = _routes((run,))
    if found is None or not found[0]:
        return None
    lists, aside = found
    mine = run.split(lists, aside)
    return Split(mine, tuple(sorted(lists)), run.aside, Aside(), run.positions)


def _routes(runs: Sequence[_Run]) -> tuple[dict[str, tuple[Step, ...]], set[str]] | None:
    """The batch routes of ``runs`` with where their items are, and the routes whose writes
    name several records with no list of items; None when there are neither."""
    lists: dict[str, tuple[Step, ...]] = {}
    several: set[str] = set()  # routes with a write of several records and no list of items
    for r in runs:
        for w in r.candidates:
            route = route_of(w)
            if route not in lists:
                path = r.item_list(w)
                if path is not None:
                    lists[route] = path
                    continue
            several.add(route)
    if not lists and not several:
        return None
    return lists, several - lists.keys()


class _Run:
    """One run's writes, read for batches."""

    def __init__(self, history: History, whole: bool = False) -> None:
        self.history = history
        self.aside = Aside()
        # What cannot be told apart kept as one write (``in_order``), not left out; and each
        # item's place in its call.
        self.whole = whole
        self.positions: dict[int, tuple[int, int]] = {}
        # A write naming events of several records: a batch. (One naming several events of one
        # record is that record's state: a contact holding the names its updates brought.) Or
        # a batch upsert carrying one event's item more than once (``_copies``).
        tag = history.info.tracer_tag
        self.candidates = [
            w
            for w in history.effects
            if is_write(w)
            and (
                (len(w.event_ids) > 1 and len(self.records_of(w.event_ids)) > 1)
                or (bool(tag) and _batch_upsert(w) and w.body.count(tag) >= _MIN_ITEMS)
            )
        ]

    @cached_property
    def events(self) -> dict[str, Event]:
        return {e.id: e for e in self.history.events}

    @cached_property
    def _correlation(self) -> Correlation:
        tag = self.history.info.tracer_tag  # none: ids carried as sent only
        tracer = Tracer(tag, self.history.events)
        return Correlation(tracer, spec=TracerSpec(rewrite=bool(tag)))

    def named(self, text: str) -> tuple[tuple[str, ...], str | None]:
        """The events and the record one element of a list (as JSON text) names."""
        ids, key = self._correlation.attribute_text(text)
        return tuple(i for i in ids if i in self.events), key

    def records_of(self, event_ids: Sequence[str]) -> set[str]:
        return {self.events[i].key for i in event_ids if i in self.events}

    def item_list(self, write: Effect) -> tuple[Step, ...] | None:
        """Where ``write``'s body holds its items: the first list (outermost first) two or
        more of whose elements name an event each, of two records or more — or, in a batch
        upsert, one event's item more than once (``_copies``)."""
        for path, items in _lists(_json(write.body)):
            named = [ids for ids in (self.named(_text(x))[0] for x in items) if ids]
            if len(named) < _MIN_ITEMS:
                continue
            if len(self.records_of([i for n in named for i in n])) > 1 or _copies(write, named):
                return path
        return None

    def split(self, lists: dict[str, tuple[Step, ...]], aside: set[str]) -> History:
        """The run with each write to a batch route (``lists``: where its items are) as its
        items; a write of several records with no items, and every write to its route
        (``aside``: in either run), set aside; a stateful double's resources those made
        replaced by each record's last item."""
        effects: list[Effect] = []
        places: set[tuple[str, str, str | None]] = set()  # (downstream, collection, id)
        items: list[Effect] = []
        for e in self.history.effects:
            route = route_of(e) if is_write(e) else ""
            path = lists.get(route)
            elements = _at(_json(e.body), path) if path is not None else None
            if elements is not None:
                places.add(_place(e))
                mine = list(self._items(e, elements))
                effects.extend(mine)
                items.extend(mine)
            elif route in aside or (route and len(self.records_of(e.event_ids)) > 1):
                places.add(_place(e))
                self.aside.records |= self.records_of(e.event_ids)
                self.aside.writes += 1
                if self.whole:
                    effects.append(e)
            else:
                effects.append(e)
        if self.whole:  # for an order: the final state is not read
            return replace(self.history, effects=effects)
        return replace(self.history, effects=effects, states=self._states(places, items))

    def _items(self, write: Effect, elements: list[Any]) -> Iterator[Effect]:
        w = write
        positions = self.positions if self.whole else None
        for n, element in enumerate(elements, 1):
            body = _text(element)
            ids, key = self.named(body)
            records = self.records_of(ids) | ({key} if key else set())
            if len(records) != 1:
                self.aside.records |= records
                self.aside.elements += 1
                self.aside.merged += len(records) > 1
                if not (self.whole and ids):
                    continue
                record = None  # kept whole: one write of several records (``in_order``)
            else:
                record = records.pop()
            # Not dataclasses.replace: a batch run splits a write per item, 3x as fast so.
            item = Effect(
                w.id, w.downstream, w.at, w.method, w.path, w.headers, body, w.status, ids,
                record, w.committed,
            )  # fmt: skip
            if positions is not None:
                positions[id(item)] = (n, len(elements))
            yield item

    def _states(
        self, places: set[tuple[str, str, str | None]], items: list[Effect]
    ) -> list[StateRecord]:
        """The final state with the resources batch writes made replaced by each record's last
        item (per stateful double and collection), written in time order; in a ledger, by
        every item, each an entry."""
        states = self.history.states
        if not states or not places:
            return states
        kept = [
            r
            for r in states
            if r.source == OBSERVER
            or (
                (r.source, r.collection, None) not in places
                and (r.source, r.collection, r.id) not in places
            )
        ]
        stateful = {r.source for r in states if r.source != OBSERVER}
        ledger = self.history.info.model is Model.LEDGER
        last: dict[tuple[str, str, str | None] | int, StateRecord] = {}
        for n, w in enumerate(sorted(items, key=_at_time)):
            if w.committed and w.downstream in stateful:
                collection = _place(w)[1] + _ITEMS
                body = json.loads(w.body)
                entry = ledger and not _upserts(w)
                last[n if entry else (w.downstream, collection, w.key)] = StateRecord(
                    w.downstream, collection, "", body, w.event_ids, w.key
                )
        return kept + list(last.values())


def _upserts(write: Effect) -> bool:
    """Whether a batch route says its items replace their records' (``POST …/batch/upsert``,
    HubSpot's; a PUT or PATCH, Attio's assert): an item written twice is then one state, even
    in a ledger (the Node-RED join flow under import-run-twice: every contact upserted twice,
    each as in the clean run)."""
    return write.method.upper() in ("PUT", "PATCH") or "upsert" in write.path.lower()


def _batch_upsert(write: Effect) -> bool:
    """A POST to a route naming upsert (``POST /contacts/batch/upsert``): its list's items
    replace their records', whichever call carries them."""
    return write.method.upper() == "POST" and "upsert" in write.path.lower()


def _copies(write: Effect, named: Sequence[tuple[str, ...]]) -> bool:
    """Whether ``write``, a batch upsert, carried an event's item more than once, each item
    naming one event: two copies of the event side by side in one call, which upsert one
    record as one does (Node-RED's join with a 2 s timeout, a checkout delivered twice 0.3 s
    apart, under harness explore: the call stood whole, one record, and final_state failed
    "1 of 1 record end in another state …: 1 differ" where the contact ended as in the clean
    run). A list naming several events of one record stays that record's state."""
    return (
        _batch_upsert(write)
        and all(len(ids) == 1 for ids in named)
        and len({ids[0] for ids in named}) < len(named)
    )


def _at_time(effect: Effect) -> float:
    return effect.at


def _place(write: Effect) -> tuple[str, str, str | None]:
    """Where a stateful double keeps what ``write`` wrote: (downstream, collection, resource
    id), the id None for a POST, which creates a resource of its own in the collection."""
    path = "/" + write.path.partition("?")[0].strip("/")
    if write.method.upper() == "POST":
        return write.downstream, path, None
    parent, _, rid = path.rpartition("/")
    return write.downstream, parent or "/", rid


def _text(element: Any) -> str:
    """An element as JSON text (what is attributed, and its write's body: parsed again before
    anything shows it, so ASCII escapes are harmless, and the default encoder the fastest)."""
    return json.dumps(element)


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except (ValueError, RecursionError):
        return None


def _lists(doc: Any) -> Iterator[tuple[tuple[Step, ...], list[Any]]]:
    """Every list in a JSON document with its path, outermost first; a list's elements are
    searched by their index (a list of lists is rare in a request)."""
    todo: deque[tuple[tuple[Step, ...], Any]] = deque([((), doc)])
    while todo:
        path, node = todo.popleft()
        if isinstance(node, list):
            yield path, node
            todo.extend(((*path, i), v) for i, v in enumerate(node))
        elif isinstance(node, dict):
            todo.extend(((*path, k), v) for k, v in node.items())


def _at(doc: Any, path: tuple[Step, ...]) -> list[Any] | None:
    """The list at ``path`` in ``doc``, or None."""
    for step in path:
        if isinstance(step, str) and isinstance(doc, dict):
            doc = doc.get(step)
        elif isinstance(step, int) and isinstance(doc, list) and step < len(doc):
            doc = doc[step]
        else:
            return None
    return doc if isinstance(doc, list) else None
