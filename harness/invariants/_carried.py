"""Where a target carries an event's field into its effects, learned from the History itself.

The harness does not know the target's mapping (``$.data.account_id`` -> ``account_id`` in the
body of ``POST /invoices``). It learns it from reference events: a Location (method, route
shape, body path) carries a field when every reference effect that has that body path holds
the event's value there (or, for an integer beyond 2**53, the value rounded through a
double: see ``carries``), for at least MIN_REFERENCES events. A location that held one value
only (every event said "usd") is kept apart as ``constant``: it proves nothing about events
whose value differs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from ..core import _paths
from ..core._form import is_form, parse_form
from ..core._model import JSON, Effect, Event
from ..drive._drift import INTACT, ROUNDED, arrived, is_big, records_of
from ..history import History, decode_payloads

MIN_REFERENCES = 2
ABSENT: Any = object()  # a field or body path that is not there (JSON null is None)

Leaves = dict[tuple[_paths.Step, ...], JSON]
Path = tuple[_paths.Step, ...]
# (event type, payload path) -> the events and their values there.
Fields = dict[tuple[str, Path], list[tuple[Event, JSON]]]


@dataclass(frozen=True, slots=True)
class Location:
    """Where an effect carries a value: ``POST /invoices $.account_id``."""

    method: str
    route: str  # the effect's path, ids replaced by {} (``/contacts/{}``)
    body_path: tuple[_paths.Step, ...]  # (PATH_STEP, n): the n-th segment of the URL path

    def place(self) -> str:
        """``$.account_id``, or ``URL path segment 2``."""
        if self.body_path[:1] == (PATH_STEP,):
            return f"URL path segment {self.body_path[1]}"
        return _paths.render(self.body_path)

    def text(self) -> str:
        return f"{self.method} {self.route} {self.place()}"


class Segment(str):
    """A segment of an effect's URL path (``/contacts/<id>``): compared with values as text,
    so an id carried in the URL is found as well as one in the body."""

    __slots__ = ()


PATH_STEP = "@path"


@dataclass(frozen=True, slots=True)
class Learned:
    """What reference events show about one field: where it goes, and on how many events."""

    locations: tuple[Location, ...]  # each carried the value of at least two distinct values
    constant: tuple[tuple[Location, JSON], ...]  # carried one value, the same for all
    references: int  # reference events with effects that have a body


def same(a: JSON, b: JSON) -> bool:
    """JSON equality: a number equals a number of the same value (ints compared exactly with
    floats), never a bool or a string; containers compared member by member. A URL Segment
    equals a string or number whose text it is."""
    if isinstance(a, Segment) or isinstance(b, Segment):
        segment, other = (a, b) if isinstance(a, Segment) else (b, a)
        if isinstance(other, bool) or not isinstance(other, str | int | float):
            return False
        return str.__eq__(segment, str(other))
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def kept(leaf: JSON, value: JSON) -> bool:
    """``leaf`` holds ``value`` unchanged: the same JSON, or for an integer beyond 2**53 its
    exact digits in any form (``_drift.arrived``: a 64-bit id sent as a string is intact)."""
    return same(leaf, value) or (is_big(value) and arrived(leaf, value) == INTACT)


def carries(leaf: JSON, value: JSON) -> bool:
    """``leaf`` is ``value`` as a target passes it on: kept, or an integer beyond 2**53
    rounded through a double in any printed form. Learning with it keeps a target that rounds
    every id from looking as if it never carried the field at all."""
    return kept(leaf, value) or (is_big(value) and arrived(leaf, value) == ROUNDED)


def own(effects: Iterable[Effect]) -> list[Effect]:
    """The effects attributed to one event only. A batch (one call for several events) holds
    several events' values side by side; which one is an event's own cannot be told, so
    batches neither teach nor judge a location."""
    return [e for e in effects if len(set(e.event_ids)) <= 1]


class Bodies:
    """Effects' JSON bodies as leaves by path, parsed once per judge; route shapes by tag."""

    def __init__(self, tracer_tag: str) -> None:
        # By id and body: a batch call's items (``_batch_items``) keep their call's id, each
        # with its own element as its body.
        self._cache: dict[tuple[str, str], Leaves | None] = {}
        tag = re.escape(tracer_tag) if tracer_tag else r"(?!)"
        self._id_segment = re.compile(rf"[^/]*(?:\d|{tag})[^/]*")

    def leaves(self, effect: Effect) -> Leaves | None:
        """The body's leaves by path and the URL path's segments, None when there is neither."""
        key = (effect.id, effect.body)
        if key not in self._cache:
            body = effect.body
            form = body[:1] not in "{[" and is_form(effect.header("Content-Type"))
            leaves = _leaves_of(body, form) or {}
            path = effect.path.split("?", 1)[0]
            for n, segment in enumerate(path.split("/")):
                if segment:
                    leaves[(PATH_STEP, n)] = Segment(unquote(segment))
            self._cache[key] = leaves or None
        return self._cache[key]

    def route(self, effect: Effect) -> str:
        path = effect.path.split("?", 1)[0]
        return self._id_segment.sub("{}", path)

    def at(self, effect: Effect, location: Location) -> JSON:
        """The value ``effect`` holds at ``location``'s body path (ABSENT if none)."""
        leaves = self.leaves(effect) or {}
        return leaves.get(location.body_path, ABSENT)

    def routed(self, effects: Iterable[Effect], location: Location) -> list[Effect]:
        """The effects that went where ``location`` is (same method and route shape)."""
        return [
            e
            for e in effects
            if e.method.upper() == location.method and self.route(e) == location.route
        ]


def _leaves_of(body: str, form: bool) -> Leaves | None:
    """A JSON body's leaves, or a form body's (``core._form``: its values text)."""
    if not body:
        return None
    try:
        doc = parse_form(body) if form else json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict | list):
        return None
    return dict(_paths.leaves(doc))


def learn(
    bodies: Bodies,
    references: Sequence[tuple[JSON, Sequence[Effect]]],
    matches: Callable[[JSON, JSON], bool] = same,
) -> Learned:
    """The locations that carry a field, from (value, effects) of reference events.

    A location counts against itself when any reference effect there holds something else:
    one counter-example and it is not where the field goes.
    """
    support: dict[Location, int] = {}
    hits: dict[Location, int] = {}
    values: dict[Location, list[JSON]] = {}
    with_bodies = 0
    for value, effects in references:
        present: set[Location] = set()
        bad: set[Location] = set()
        for eff in effects:
            leaves = bodies.leaves(eff)
            if leaves is None:
                continue
            route = bodies.route(eff)
            for path, leaf in leaves.items():
                loc = Location(eff.method.upper(), route, path)
                present.add(loc)
                if not matches(leaf, value):
                    bad.add(loc)
        if present:
            with_bodies += 1
        for loc in present:
            support[loc] = support.get(loc, 0) + 1
            if loc not in bad:
                hits[loc] = hits.get(loc, 0) + 1
                found = values.setdefault(loc, [])
                if len(found) < 2 and not any(same(v, value) for v in found):
                    found.append(value)
    learned = sorted(
        (loc for loc, n in hits.items() if n == support[loc] >= MIN_REFERENCES),
        key=Location.text,
    )
    return Learned(
        tuple(loc for loc in learned if len(values[loc]) >= 2),
        tuple((loc, values[loc][0]) for loc in learned if len(values[loc]) == 1),
        with_bodies,
    )


def shown(value: JSON) -> str:
    """A value as the evidence names it: JSON, ``missing`` when absent."""
    if value is ABSENT:
        return "nothing (the field was missing)"
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def fields_of(history: History, wanted: Callable[[Path, JSON], bool]) -> Fields:
    """The leaves of the run's payloads that ``wanted`` picks, by event type and path; a field
    drifted in an event (renamed, dropped, retyped) is left out of it: ``drift_is_loud``'s."""
    drifted: set[tuple[str, Path]] = set()
    for r in records_of(history.info.settings):
        steps = _paths.parse(r.path)
        drifted.update((eid, steps) for eid in r.events)
    fields: Fields = {}
    decode_payloads(history.events)  # every one is read: in chunks, not one by one
    for ev in history.events:
        for path, value in _paths.leaves(ev.payload):
            if wanted(path, value) and (ev.id, path) not in drifted:
                fields.setdefault((ev.type, path), []).append((ev, value))
    return fields


@dataclass(frozen=True, slots=True)
class Carried:
    """What one effect holds (``got``: ABSENT if nothing) where the target carries a field, for
    the event whose value there is ``value``."""

    event: Event
    path: Path
    value: JSON
    effect: Effect
    location: Location
    got: JSON


def carried_values(
    bodies: Bodies,
    fields: Fields,
    effects_of: Callable[[list[tuple[Event, JSON]]], Mapping[str, Sequence[Effect]]],
    matches: Callable[[JSON, JSON], bool],
    where: list[str],
) -> Iterator[Carried]:
    """For each field, where the target carries it (``learn`` with ``matches``, from the
    events' effects ``effects_of`` gives), what each of its events' effects holds there;
    ``where`` gets each carried field's text (``$.data.total of 'invoice.paid' -> POST
    /invoices $.total_cents``)."""
    for (event_type, path), found in fields.items():
        effects = effects_of(found)
        refs = [(value, effects[ev.id]) for ev, value in found if effects.get(ev.id)]
        learned = learn(bodies, refs, matches)
        if not learned.locations:
            continue
        places = ", ".join(loc.text() for loc in learned.locations)
        where.append(f"{_paths.render(path)} of {event_type!r} -> {places}")
        for ev, value in found:
            for loc in learned.locations:
                for eff in bodies.routed(effects.get(ev.id, ()), loc):
                    yield Carried(ev, path, value, eff, loc, bodies.at(eff, loc))
