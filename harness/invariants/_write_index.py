"""The write index of a run (``Facts``' first, second and later writes of each event, the
writes, the effects naming no event), found over the effects' columns.

Each effect's event is a number (``history.event_codes``): a stable sort of the writes' codes
puts each event's writes side by side in time order, so its first, second and later writes are
places in that order, with no Effect read. A loaded run's effects are made into objects only
where a consumer reads one (``Writes``, ``Rows``); a live run's are its own objects, indexed the
same way.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING, Any, overload

from ..core._batch_search import passing
from ..core._graphql import MARK as GRAPHQL_MARK
from ..core._graphql import graphql_read
from ..core._model import Effect, Event
from ..history import (
    SEVERAL,
    UNKNOWN,
    Effects,
    Events,
    effect_values,
    event_codes,
    event_column,
    event_ids_at,
    time_order,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# A read cannot change the downstream, so repeating or reordering one is never a fault. A
# GraphQL query is POSTed, and reads as well (graphql_read).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Rows(Sequence[Effect]):
    """Some of a run's effects, by their places in it, in order; each made when read."""

    __slots__ = ("_effects", "rows")

    def __init__(self, effects: Sequence[Effect], rows: npt.NDArray[np.int64]) -> None:
        self._effects = effects
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    @overload
    def __getitem__(self, index: int) -> Effect: ...

    @overload
    def __getitem__(self, index: slice) -> list[Effect]: ...

    def __getitem__(self, index: int | slice) -> Effect | list[Effect]:
        if isinstance(index, slice):
            return list(map(self._effects.__getitem__, self.rows[index].tolist()))
        return self._effects[int(self.rows[index])]

    def __iter__(self) -> Iterator[Effect]:
        return made(self._effects, self.rows.tolist())


class Writes(Mapping[str, Effect]):
    """Event id -> one of its writes (its first, or its second), in the order the writes were
    made; each effect made when read. ``rows``: the writes' places among the run's effects, in
    that order (an effect naming several events once per event); ``codes``: their events'
    places among the run's events. An id is looked up by its event's place (``places``, asked
    for when first needed: a loaded run's events hold theirs) and an array of each event's
    row, no dict of the writes made: a failing run has half a million first and second
    writes, and a dict of each was a tenth of a second of its check."""

    __slots__ = ("_effects", "_ids", "_place_of", "_places", "_row_of", "codes", "rows")

    def __init__(
        self,
        effects: Sequence[Effect],
        ids: list[str],
        rows: npt.NDArray[np.int64],
        codes: npt.NDArray[np.int64],
        places: Callable[[], Mapping[str, int]],
    ) -> None:
        self._effects = effects
        self._ids = ids  # each event once: an id is one code (the last of an id held twice)
        self._place_of = places
        self._places: Mapping[str, int] = {}
        self._row_of: list[int] | None = None
        self.rows = rows
        self.codes = codes

    def _row(self, event_id: object) -> int:
        """The row of ``event_id``'s write, -1 for none."""
        if self._row_of is None:
            import numpy as np

            self._places = self._place_of()
            rows = np.full(int(self.codes.max()) + 1 if len(self.codes) else 0, -1)
            rows[self.codes] = self.rows
            self._row_of = rows.tolist()  # read one by one: a list's items are cheaper
        code = self._places.get(event_id) if isinstance(event_id, str) else None
        if code is None or code >= len(self._row_of):
            return -1
        return self._row_of[code]

    def __getitem__(self, event_id: str) -> Effect:
        row = self._row(event_id)
        if row < 0:
            raise KeyError(event_id)
        return self._effects[row]

    def __contains__(self, event_id: object) -> bool:
        return self._row(event_id) >= 0

    def value(self, event_id: str, name: str) -> Any:
        """The field ``name`` of ``event_id``'s write, a loaded run's read off its columns (no
        Effect made: a cause looked for over every duplicate keeps none alive)."""
        row = self._row(event_id)
        if row < 0:
            raise KeyError(event_id)
        effects = self._effects
        if not isinstance(effects, Effects):
            return getattr(effects[row], name)
        order = time_order(effects)
        return effect_values(effects, name)[row if order is None else int(order[row])]

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def values(self) -> Iterator[Effect]:  # type: ignore[override]
        return made(self._effects, self.rows.tolist())

    def items(self) -> Iterator[tuple[str, Effect]]:  # type: ignore[override]
        return zip(self._ids, self.values(), strict=True)

    def without(self, other: Writes) -> set[str]:
        """The events of these writes that ``other`` (of the same run's effects) has none of,
        told by their codes: no id looked up."""
        import numpy as np

        ids = self._ids
        return {ids[i] for i in np.flatnonzero(~np.isin(self.codes, other.codes)).tolist()}


@dataclass(frozen=True, slots=True)
class Index:
    writes_in_order: Rows
    unattributed: list[Effect]  # effects naming no known event nor record, by time
    record_only: list[Effect]  # effects naming a record of the run and no event, by time
    attributed_writes: int
    several_events_writes: int  # naming two known events or more
    first_write: Writes
    second_write: Writes
    later_writes: dict[str, list[Effect]]  # an event's third write and those after it


def index_writes(
    effects: Sequence[Effect],
    events: Sequence[Event],
    known: Mapping[str, Event],
    records: Callable[[], Collection[str]],
) -> Index:
    """The write index of ``effects`` (in time order) of a run of ``events`` (``known``: by id);
    ``records``: the run's record keys, asked for only when some effect names no event."""
    import numpy as np

    write = write_mask(effects)
    codes = event_codes(effects, events)
    held: list[Mapping[str, int]] = []

    def event_places() -> Mapping[str, int]:
        """The run's events' places by id (the last of an id held twice), found once."""
        if not held:
            ids = event_column(events, "id")
            held.append(events.places if isinstance(events, Events) else dict(zip(ids, count())))
        return held[0]

    # Effects naming none or several events (a batch call, a few): their known events by id.
    pair_rows: list[int] = []
    pair_codes: list[int] = []
    lost: list[int] = np.flatnonzero(codes == UNKNOWN).tolist()
    attributed = several = 0
    several_rows = np.flatnonzero(codes == SEVERAL).tolist()
    if several_rows:
        for row, named in zip(several_rows, event_ids_at(effects, several_rows), strict=True):
            hits = [eid for eid in dict.fromkeys(named) if eid in known]
            if not hits:
                lost.append(row)
            elif write[row]:
                attributed += 1
                several += len(hits) > 1
                place = event_places()
                pair_rows += [row] * len(hits)
                pair_codes += [place[eid] for eid in hits]
        lost.sort()
    single = np.flatnonzero(write & (codes >= 0))
    attributed += len(single)
    rows, of = single, codes[single]
    if pair_rows:
        rows = np.concatenate([rows, np.array(pair_rows, dtype=np.int64)])
        of = np.concatenate([of, np.array(pair_codes, dtype=np.int64)])
        order = np.argsort(rows, kind="stable")  # in time order, a call's events as it names
        rows, of = rows[order], of[order]
    # Each event's writes side by side, in time order: the first of each run of one code is
    # its first write, the next its second.
    by_event = np.argsort(of, kind="stable")
    sorted_codes = of[by_event]
    starts = np.ones(len(of), dtype=bool)
    starts[1:] = sorted_codes[1:] != sorted_codes[:-1]
    places = np.arange(len(of))
    rank = np.empty(len(of), dtype=np.int64)
    rank[by_event] = places - np.maximum.accumulate(np.where(starts, places, 0))
    # The events' ids by code: a loaded run's as its effects were numbered, read off columns.
    numbered = effects.names if isinstance(effects, Effects) and effects.events is events else None
    ids_of = np.fromiter(
        event_column(events, "id") if numbered is None else numbered,
        dtype=object,
        count=len(events),
    )
    first, second, later_at = rank == 0, rank == 1, np.flatnonzero(rank >= 2)
    later: dict[str, list[Effect]] = {}
    for row, eid in zip(rows[later_at].tolist(), ids_of[of[later_at]].tolist(), strict=True):
        later.setdefault(eid, []).append(effects[row])
    unattributed = [effects[i] for i in lost]
    record_only: list[Effect] = []  # naming one record of the run, and no event
    if any(e.key is not None for e in unattributed):
        keys = records()
        record_only = [e for e in unattributed if e.key in keys]
        if record_only:
            unattributed = [e for e in unattributed if e.key not in keys]
    return Index(
        Rows(effects, np.flatnonzero(write)),
        unattributed,
        record_only,
        attributed,
        several,
        Writes(effects, ids_of[of[first]].tolist(), rows[first], of[first], event_places),
        Writes(effects, ids_of[of[second]].tolist(), rows[second], of[second], event_places),
        later,
    )


def made(effects: Sequence[Effect], rows: list[int]) -> Iterator[Effect]:
    """The effects at ``rows``, each made as it is reached: a loaded run's made all at once
    when most of them are (one by one, each costs three times as much), past the first few
    (what stops early, a search for a counterexample, makes few)."""
    if isinstance(effects, Effects) and len(rows) > _ONE_BY_ONE:
        yield from map(effects.__getitem__, rows[:_ONE_BY_ONE])
        if len(rows) * 8 > len(effects):
            effects.make_all()
        yield from map(effects.__getitem__, rows[_ONE_BY_ONE:])
    else:
        yield from map(effects.__getitem__, rows)


_ONE_BY_ONE = 1024


def write_mask(effects: Sequence[Effect]) -> npt.NDArray[np.bool_]:
    """Which effects could have changed a downstream (``_facts.is_write``): committed, by a
    method that is no read, and no GraphQL query; each method told once, the columns read as
    held and the answer put in time order."""
    import numpy as np

    methods = effect_values(effects, "method")
    upper = {m: m.upper() for m in set(methods)}
    unsafe = {m: u not in SAFE_METHODS for m, u in upper.items()}
    write = np.fromiter(map(unsafe.__getitem__, methods), dtype=bool, count=len(methods))
    write &= np.fromiter(effect_values(effects, "committed"), dtype=bool, count=len(methods))
    if "POST" in upper.values():  # a GraphQL query is POSTed; its bodies searched at once
        bodies = effect_values(effects, "body")
        for i in passing(bodies, _marked, [GRAPHQL_MARK], str):
            if write[i] and graphql_read(upper[methods[i]], bodies[i]):
                write[i] = False
    order = time_order(effects)
    return write if order is None else write[order]


def _marked(body: str) -> bool:
    return GRAPHQL_MARK in body
