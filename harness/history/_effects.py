"""A loaded run's effects held as columns, each row's event as a number, an Effect made only when
one is read; and ``effect_column``, a field of any run's effects.

A million Effect objects are a second of ``load()`` and 150 MB, and judging reads few of them
as objects: the write index (``invariants._facts``) and the scans over every effect read the
columns, and the few effects named in evidence are made one by one, each once (the same object
when read again: invariants compare effects by identity). Whatever reads them all as objects
makes each once, and keeps them.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Container, Mapping, Sequence
from itertools import repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from ..core._build import builder
from ..core._model import Effect, Event
from ..core._text_effect import TextEffect
from ._events import event_column
from ._made import Kept

if TYPE_CHECKING:  # numpy imported where an array is made: not every command makes one
    import numpy as np
    import numpy.typing as npt

# The columns as held, in Effect's field order but for its event ids: ``event_id`` (the one
# event an effect names, else None: as its number, ``Effects``) and ``event_ids`` (the JSON
# list of those it names when none or several, else None), as the journal holds them.
FIELDS = (
    "id",
    "downstream",
    "at",
    "method",
    "path",
    "headers",
    "body",
    "status",
    "event_id",
    "event_ids",
    "key",
    "committed",
)
# A row's event code when it names no single event, and when it names one the run lacks.
SEVERAL, UNKNOWN = -2, -1
_effect = builder(Effect, TextEffect)  # Effect(...) at a sixth of the cost, headers as text


class Effects(Kept[Effect]):
    """Effects as columns (``FIELDS``), all of one length, held in the order they were stored
    (nearly the order of time), read in the order of time (ties as stored).

    A read-only sequence of Effect objects in time order, equal to the list of them;
    ``column(name)`` is one field of all of them in that order, ``stored(name)`` as held (the
    same values in another order: what counts or searches them needs no order); ``codes``:
    each one's event as its place in ``events`` (the run's events it was coded against),
    SEVERAL or UNKNOWN, in time order.

    ``event_id`` is held as an array of numbers, each one's place in ``names`` (the ids of
    ``events``, in their order, then the other ids effects name), SEVERAL for None: the chunks'
    distinct ids numbered once each (``_chunks.Codes``), no object per row."""

    __slots__ = (
        "_columns",
        "_made",
        "_order",
        "_shared",
        "_some",
        "_stored",
        "codes",
        "events",
        "names",
    )

    def __init__(
        self, stored: Mapping[str, Any], events: Sequence[Event], names: Sequence[str]
    ) -> None:
        import numpy as np

        self._stored: dict[str, Any] = dict(stored)
        self.names = names
        held = self._stored["at"]
        times = (
            np.frombuffer(held, dtype=np.float64)
            if isinstance(held, array)
            else np.array(held, dtype=np.float64)
        )
        # Rows arrive nearly in time order; a stable sort keeps ties as they were recorded.
        # Where they are not in order, a column is put in order when first read in order:
        # a million values each cost more than the sort.
        self._order = (
            None
            if len(times) < 2 or bool(np.all(times[1:] >= times[:-1]))
            else np.argsort(times, kind="stable")
        )
        codes = np.asarray(self._stored["event_id"], dtype=np.int64)
        if len(names) > len(events):  # ids of no event of the run
            codes = np.where(codes >= len(events), UNKNOWN, codes)
        self.codes = codes if self._order is None else codes[self._order]
        self.events = events
        self._columns: dict[str, Sequence[Any]] = {}
        self._made: list[Effect] | None = None
        self._some: dict[int, Effect] = {}  # made one by one, kept: read twice, the same
        self._shared: dict[str, str] | None = None  # the events' ids, by themselves

    def column(self, name: str) -> Sequence[Any]:
        """The field ``name`` of each, in time order."""
        if name == "event_id":
            held = self._stored[name]
            return self._ids(held if self._order is None else held[self._order])
        if self._order is None:
            return self.stored(name)
        found = self._columns.get(name)
        if found is None:
            import numpy as np

            held = self._stored[name]
            if isinstance(held, array):
                found = array("d", np.frombuffer(held, dtype=np.float64)[self._order].tobytes())
            else:
                found = np.fromiter(held, dtype=object, count=len(held))[self._order].tolist()
            self._columns[name] = found
        return found

    def stored(self, name: str) -> Sequence[Any]:
        """The field ``name`` of each, as held: the values of ``column(name)`` in the order
        they were stored."""
        if name == "event_id":
            return self._ids(self._stored[name])
        held: Sequence[Any] = self._stored[name]
        return held

    def _ids(self, codes: Any) -> list[str | None]:
        """The event ids numbered ``codes``."""
        import numpy as np

        names = np.fromiter([*self.names, None], dtype=object, count=len(self.names) + 1)
        return list(names[np.where(codes == SEVERAL, len(self.names), codes)].tolist())

    def _event_ids(self, one: str | None, several: str | None) -> tuple[str, ...]:
        """An effect's event ids from its columns: ``several``, the JSON list of those it
        names when not one, holds ids shared with the run's events (as the one is)."""
        if one is not None:
            return (one,)
        if several is None:
            return ()
        if self._shared is None:
            ids = event_column(self.events, "id")
            self._shared = dict(zip(ids, ids, strict=True))
        shared = self._shared
        return tuple(shared.get(i, i) for i in json.loads(several))

    def _one(self, code: int) -> str | None:
        return None if code == SEVERAL else self.names[code]

    def event_ids_at(self, rows: Sequence[int]) -> list[tuple[str, ...]]:
        """The event ids of the effects at ``rows`` (a few, in time order), read off the
        columns."""
        one, several = self._stored["event_id"], self._stored["event_ids"]
        held = rows if self._order is None else self._order[list(rows)].tolist()
        return [self._event_ids(self._one(int(one[i])), several[i]) for i in held]

    @property
    def order(self) -> npt.NDArray[np.int64] | None:
        """Where each effect in time order is held (its place in ``stored``); None: the same
        place."""
        return self._order

    def __len__(self) -> int:
        return len(self._stored["id"])

    def parted(self, ids: Container[str]) -> tuple[Effects, list[Effect]]:
        """These effects without those whose id is in ``ids`` (a few), and those, made."""
        held = self._stored["id"]
        out = [i for i, eid in enumerate(self.column("id")) if eid in ids]
        if not out:
            return self, []
        dropped = {i for i, eid in enumerate(held) if eid in ids}
        kept = [i for i in range(len(held)) if i not in dropped]
        stored = {
            name: array("d", [values[i] for i in kept])
            if isinstance(values, array)
            else values[kept]
            if name == "event_id"
            else [values[i] for i in kept]
            for name, values in self._stored.items()
        }
        return Effects(stored, self.events, self.names), [self[i] for i in out]

    def _make(self, index: int) -> Effect:
        c = self._stored
        row = index if self._order is None else int(self._order[index])
        return _effect(
            c["id"][row],
            c["downstream"][row],
            c["at"][row],
            c["method"][row],
            c["path"][row],
            c["headers"][row],
            c["body"][row],
            c["status"][row],
            self._event_ids(self._one(int(c["event_id"][row])), c["event_ids"][row]),
            c["key"][row],
            c["committed"][row],
        )

    def make_all(self) -> None:
        """Make every effect now: what is about to read most of them one by one."""
        self._all()

    def _all(self) -> list[Effect]:
        if self._made is None:
            c = self._stored
            made = list(
                map(
                    _effect,
                    c["id"],
                    c["downstream"],
                    c["at"],
                    c["method"],
                    c["path"],
                    c["headers"],
                    c["body"],
                    c["status"],
                    map(self._event_ids, self.stored("event_id"), c["event_ids"]),
                    c["key"],
                    c["committed"],
                )
            )
            if self._order is not None:
                import numpy as np

                made = np.fromiter(made, dtype=object, count=len(made))[self._order].tolist()
            self._made = self._kept(made)
        return self._made


_COLUMN_OF = {"event_ids": attrgetter("event_ids")}


def effect_column(effects: Sequence[Effect], name: str) -> Sequence[Any]:
    """The field ``name`` of each of ``effects`` (an Effect's field: ``event_ids`` as tuples),
    in order: a loaded run's column (a list, or an array of reals for ``at``), else read from
    each."""
    if isinstance(effects, Effects) and name != "event_ids":
        return effects.column(name)
    if isinstance(effects, Effects):
        return list(
            map(effects._event_ids, effects.column("event_id"), effects.column("event_ids"))
        )
    return list(map(_COLUMN_OF.get(name) or attrgetter(name), effects))


def effect_values(effects: Sequence[Effect], name: str) -> Sequence[Any]:
    """The field ``name`` of each of ``effects`` in some order (what is counted or searched
    needs none): a loaded run's column as held, not put in time order; ``time_order`` says
    where each is."""
    if isinstance(effects, Effects) and name != "event_ids":
        return effects.stored(name)
    return effect_column(effects, name)


def time_order(effects: Sequence[Effect]) -> npt.NDArray[np.int64] | None:
    """Where each of ``effects`` is in ``effect_values``: None, in its own place."""
    return effects.order if isinstance(effects, Effects) else None


def event_ids_at(effects: Sequence[Effect], rows: Sequence[int]) -> list[tuple[str, ...]]:
    """The event ids of the effects at ``rows`` (a few), a loaded run's read off its columns."""
    if isinstance(effects, Effects):
        return effects.event_ids_at(rows)
    return [effects[i].event_ids for i in rows]


def event_codes(effects: Sequence[Effect], events: Sequence[Any]) -> npt.NDArray[np.int64]:
    """Each effect's event as its place in ``events`` (the last of an id held twice), SEVERAL
    where it names none or several, UNKNOWN where its one event is none of ``events``: a
    loaded run's codes as held when coded against these events."""
    if isinstance(effects, Effects) and effects.events is events:
        return effects.codes
    return _codes(one_event_ids(effects), events)


def one_event_ids(effects: Sequence[Effect]) -> Sequence[str | None]:
    """Each of ``effects``' one event id, in order, None where it names none or several
    (``event_ids_at`` reads those): a loaded run's read off its codes, no tuple made."""
    if isinstance(effects, Effects):
        return effects.column("event_id")
    return [ids[0] if len(ids) == 1 else None for ids in map(_EVENT_IDS, effects)]


def _codes(ones: Sequence[str | None], events: Sequence[Event]) -> npt.NDArray[np.int64]:
    """Each row's one event id as its event's place in ``events``, SEVERAL for None."""
    import numpy as np

    places: dict[str | None, int] = {i: n for n, i in enumerate(event_column(events, "id"))}
    places[None] = SEVERAL
    n = len(ones)
    return np.fromiter(map(places.get, ones, repeat(UNKNOWN, n)), np.int64, n)


_EVENT_IDS = attrgetter("event_ids")


def at_array(effects: Sequence[Effect]) -> npt.NDArray[np.float64]:
    """Each effect's time as an array of reals, in ``effect_values``' order: a loaded run's
    shared as held."""
    import numpy as np

    found = effect_values(effects, "at")
    if isinstance(found, array):
        return np.frombuffer(found, dtype=np.float64)
    return np.array(found, dtype=np.float64)
