"""A loaded run's events held as the columns its journal's chunks decode to, an Event made only
when one is read; and ``event_column``, a field of any run's events.

Half a million loaded events made as objects are most of a second of ``load()``, and judging
reads few of them as objects: what scans them all (the events by id, their records and seqs,
their payloads' texts) reads their columns, and the few it names in evidence are made one by
one, each once (the same object when read again: invariants compare events by identity).
Whatever reads them all as objects makes each once, and keeps them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, KeysView, Mapping, Sequence
from operator import attrgetter
from typing import Any

from ..core._headers import LazyHeaders
from ..core._model import Event
from ..core._text_event import payload_texts as _payload_texts
from ..core._text_event import text_event
from ._history import NO_HEADERS
from ._made import Kept

# The columns as held, in Event's field order: ``payload`` and ``headers`` as JSON text.
FIELDS = ("id", "key", "seq", "type", "occurred_at", "payload", "headers")
_EMPTY = "{}"


class Events(Kept[Event]):
    """Events as columns (``FIELDS``), all of one length, in seq order.

    A read-only sequence of Event objects (each a ``TextEvent``, its payload JSON text until
    read), equal to the list of them; ``column(name)`` is one field of all of them, as held
    (``payload`` and ``headers`` as their JSON text)."""

    __slots__ = ("_columns", "_made", "_places", "_some")

    def __init__(self, columns: Mapping[str, Sequence[Any]]) -> None:
        self._columns = {name: columns[name] for name in FIELDS}
        self._made: list[Event] | None = None
        self._some: dict[int, Event] = {}  # made one by one, kept: read twice, the same
        self._places: dict[str, int] | None = None

    def column(self, name: str) -> Sequence[Any]:
        return self._columns[name]

    @property
    def places(self) -> dict[str, int]:
        """Each event's place by its id (the last of an id held twice), found once: what
        looks the events up by id (their deliveries' and effects' ids read back, ``by_id``)."""
        if self._places is None:
            ids = self._columns["id"]
            self._places = dict(zip(ids, range(len(ids)), strict=True))
        return self._places

    def __len__(self) -> int:
        return len(self._columns["id"])

    def _make(self, index: int) -> Event:
        return _event(*[c[index] for c in self._columns.values()])

    def _all(self) -> list[Event]:
        if self._made is None:
            self._made = self._kept(list(map(_event, *self._columns.values())))
        return self._made


def _event(id: str, key: str, seq: int, type: str, at: float, payload: str, headers: str) -> Event:
    return text_event(
        id, key, seq, type, at, payload, NO_HEADERS if headers == _EMPTY else LazyHeaders(headers)
    )


def event_column(events: Sequence[Event], name: str) -> Sequence[Any]:
    """The field ``name`` of each of ``events``, in order: a loaded run's column as it is held
    (``payload``, ``headers``: their JSON text), else read from each."""
    if isinstance(events, Events):
        return events.column(name)
    return list(map(attrgetter(name), events))


class _ById(Mapping[str, Event]):
    """A loaded run's events by id (the last of an id held twice), each made when looked up:
    the ids' places found once, by C code, no Event made for them."""

    __slots__ = ("_events", "_places")

    def __init__(self, events: Events) -> None:
        self._events = events
        self._places = events.places

    def __getitem__(self, id: str) -> Event:
        return self._events[self._places[id]]

    def __contains__(self, id: object) -> bool:
        return id in self._places

    def __iter__(self) -> Iterator[str]:
        return iter(self._places)

    def __len__(self) -> int:
        return len(self._places)

    def keys(self) -> KeysView[str]:
        return self._places.keys()


def events_by_id(events: Sequence[Event]) -> Mapping[str, Event]:
    """``events`` by id, the last of an id held twice: a loaded run's made only when looked up."""
    if isinstance(events, Events):
        return _ById(events)
    return {e.id: e for e in events}


def event_rows(events: Sequence[Event], *names: str) -> Iterator[tuple[Any, ...]]:
    """The fields ``names`` (two or more) of each of ``events``, in order, as a tuple: a loaded
    run's columns zipped, else read from each by one attrgetter; C code either way."""
    if isinstance(events, Events):
        return zip(*map(events.column, names), strict=True)
    fields: Callable[[Event], tuple[Any, ...]] = attrgetter(*names)
    return map(fields, events)


def payload_texts(events: Sequence[Event]) -> list[str | None]:
    """Each event's payload as the JSON text it is held as, None where it is held decoded: a
    loaded run's column, all of it text (``core._text_event.payload_texts`` else)."""
    if isinstance(events, Events):
        return list(events.column("payload"))
    return _payload_texts(events)


def headers_held(events: Sequence[Event]) -> list[Mapping[str, str] | str]:
    """The headers of those of ``events`` that have some, as held: a loaded run's as their
    JSON text."""
    if isinstance(events, Events):
        return [text for text in events.column("headers") if text != _EMPTY]
    return list(filter(None, map(_HEADERS, events)))


_HEADERS = attrgetter("headers")
