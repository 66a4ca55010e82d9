"""A delivery schedule held as columns: a million planned deliveries in a few flat arrays.

A Slot per delivery costs about a hundred bytes (the object, its float and int); a streamed
run of a million events planned 1.1 million of them before its first delivery. A Schedule
keeps the same slots as columns — ``at`` (array of doubles), ``event`` and ``copy`` (arrays
of 64-bit ints), and ``mark``: the slot's (why, tamper, age), a few distinct values in any
schedule, as an index into ``marks`` — about 26 bytes a slot. It is a ``Sequence[Slot]``: a
Slot is made when one is asked for, so code that reads slots keeps working; code that reads
one field of every slot reads its column.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import le
from typing import TypeVar, overload

from ..core._build import builder


@dataclass(frozen=True, slots=True)
class Slot:
    """One planned delivery: event index ``event`` (its seq) at ``at`` seconds."""

    at: float
    event: int
    copy: int = 0  # 0 = the original, n = the n-th extra copy
    why: str = ""  # the perturbation that put it there, for the report
    tamper: str = ""  # a delivery-side fault of the signature (TAMPER_MODES); "" = genuine
    age: float = 0.0  # stale, replayed: seconds (real time) the signed timestamp lies back


def delivery_id(n: int) -> str:
    """The id of the delivery of slot ``n`` of a schedule: ``dlv_000001`` for the first. Every
    process that plans the same schedule names its deliveries alike (Locust workers)."""
    return f"dlv_{n + 1:06d}"


Mark = tuple[str, str, float]  # a slot's why, tamper and age
GENUINE: Mark = ("", "", 0.0)
# Consecutive slots as columns: their times, events, copy numbers and marks.
Block = tuple[list[float], list[int], list[int], list[Mark]]

T = TypeVar("T", int, float)

# A Slot per item asked for, of all its fields in order (``at`` a float): without the frozen
# __init__, 4x faster. The Slot a Schedule gives for a slot it holds as columns.
make_slot = builder(Slot)


class Schedule(Sequence[Slot]):
    """Planned deliveries in order, as columns. Slot ``n`` is delivery ``dlv_<n+1>``."""

    __slots__ = ("_attempts", "_codes", "_per_event", "at", "copy", "event", "mark", "marks")

    def __init__(self) -> None:
        self.at = array("d")
        self.event = array("q")
        self.copy = array("q")
        self.mark = array("H")  # index into marks
        self.marks: list[Mark] = [GENUINE]
        self._codes: dict[Mark, int] = {GENUINE: 0}
        self._attempts: array[int] | None = None
        self._per_event: array[int] | None = None

    @classmethod
    def of(cls, slots: Iterable[Slot]) -> Schedule:
        """A Schedule of ``slots``, in their order."""
        made = cls()
        for s in slots:
            made.add(s.at, s.event, s.copy, (s.why, s.tamper, s.age))
        return made

    @classmethod
    def firsts(cls, times: Iterable[float], seqs: Iterable[int] | None = None) -> Schedule:
        """One genuine slot per event, at its time: event ``seqs[i]`` (default ``i``) at
        ``times[i]``. A synthetic source's plan before its perturbations, made as whole arrays."""
        made = cls()
        made.at = array("d", times)
        n = len(made.at)
        made.event = array("q", range(n) if seqs is None else seqs)
        made.copy = array("q", bytes(8 * n))
        made.mark = array("H", bytes(2 * n))
        return made

    def code(self, mark: Mark) -> int:
        """The index of ``mark`` in ``marks``, added if new."""
        found = self._codes.get(mark)
        if found is None:
            found = self._codes[mark] = len(self.marks)
            self.marks.append(mark)
        return found

    def add(self, at: float, event: int, copy: int, mark: Mark = GENUINE) -> None:
        """Append one slot (what was counted over the slots is counted again when asked)."""
        self._attempts = self._per_event = None
        self.at.append(at)
        self.event.append(event)
        self.copy.append(copy)
        self.mark.append(self.code(mark))

    def like(
        self, at: array[float], event: array[int], copy: array[int], mark: array[int]
    ) -> Schedule:
        """A Schedule of these columns, their marks coded as this one's."""
        made = Schedule()
        made.at, made.event, made.copy, made.mark = at, event, copy, mark
        made.marks, made._codes = list(self.marks), dict(self._codes)
        return made

    def taken(self, order: Sequence[int]) -> Schedule:
        """The slots at positions ``order``, in that order."""
        return self.like(
            _taken(self.at, order),
            _taken(self.event, order),
            _taken(self.copy, order),
            _taken(self.mark, order),
        )

    def by_time(self) -> Schedule:
        """The slots sorted by time, those at one instant in their order (a stable sort);
        itself when they already are."""
        at = self.at
        if all(map(le, at, islice(at, 1, None))):
            return self
        return self.taken(sorted(range(len(at)), key=at.tolist().__getitem__))

    def merged(self, added: Schedule) -> Schedule:
        """This schedule (sorted by time) with the slots of ``added`` in their places, as
        ``by_time`` would place them after this one's: at one instant, this schedule's slots
        first, then ``added``'s in their order. A duplicate's tenth of copies goes into a
        million slots by slices, where sorting the lot took four times as long."""
        extra = added.by_time()
        times = self.at.tolist()  # searched at twice an array's speed
        places: list[int] = []  # each added slot goes before this one's slot places[i]
        done = 0
        for at in extra.at:
            done = bisect_right(times, at, done)
            places.append(done)
        out = self.like(
            _spliced(self.at, extra.at, places),
            _spliced(self.event, extra.event, places),
            _spliced(self.copy, extra.copy, places),
            self.mark,
        )
        codes = [out.code(m) for m in extra.marks]
        out.mark = _spliced(self.mark, array("H", [codes[c] for c in extra.mark]), places)
        return out

    def block(self, start: int, stop: int) -> Block:
        """Slots ``start`` to ``stop - 1`` as columns (lists), no Slot made."""
        marks = self.marks
        return (
            self.at[start:stop].tolist(),
            self.event[start:stop].tolist(),
            self.copy[start:stop].tolist(),
            [marks[c] for c in self.mark[start:stop]],
        )

    def recoded(self, change: Callable[[Mark], Mark]) -> list[int]:
        """Per code of ``marks``: the code of ``change(its mark)``."""
        return [self.code(change(m)) for m in list(self.marks)]

    def remark(self, change: Callable[[Mark], Mark], start: int, stop: int) -> None:
        """Slots ``start`` to ``stop`` marked ``change(their mark)``, in place."""
        codes = self.recoded(change)
        self.mark[start:stop] = array("H", [codes[c] for c in self.mark[start:stop]])

    def scaled(self, factor: float) -> Schedule:
        """The slots at ``factor`` times their time (a run's time scale); itself at 1."""
        if factor == 1:
            return self
        return self.like(
            array("d", [a * factor for a in self.at]), self.event, self.copy, self.mark
        )

    # Counted when first asked, each in its own pass: a streamed run asks only per_event.
    # In lists, then arrays: a list's small ints are counted twice as fast as an array's.

    @property
    def attempts(self) -> array[int]:
        """Per slot: which delivery of its event it is (1 for the first, 2 for the second...)."""
        if self._attempts is None:
            seen = self._counts()
            made: list[int] = []
            append = made.append
            for e in self.event:
                k = seen[e] + 1
                seen[e] = k
                append(k)
            self._attempts = array("I", made)
        return self._attempts

    @property
    def per_event(self) -> array[int]:
        """Per event (by seq, up to the last with a slot): how many slots deliver it."""
        if self._per_event is None:
            seen = self._counts()
            for e in self.event:
                seen[e] += 1
            self._per_event = array("I", seen)
        return self._per_event

    def _counts(self) -> list[int]:
        return [0] * (max(self.event, default=-1) + 1)

    def tampered(self) -> Iterator[tuple[int, str]]:
        """(slot number, tamper mode) of each tampered slot."""
        modes = [m[1] for m in self.marks]
        if any(modes):
            for n, c in enumerate(self.mark):
                if modes[c]:
                    yield n, modes[c]

    def __len__(self) -> int:
        return len(self.at)

    @overload
    def __getitem__(self, n: int) -> Slot: ...
    @overload
    def __getitem__(self, n: slice) -> Schedule: ...
    def __getitem__(self, n: int | slice) -> Slot | Schedule:
        if isinstance(n, slice):
            return self.like(self.at[n], self.event[n], self.copy[n], self.mark[n])
        why, tamper, age = self.marks[self.mark[n]]
        return make_slot(self.at[n], self.event[n], self.copy[n], why, tamper, age)

    def __iter__(self) -> Iterator[Slot]:
        marks = self.marks
        for at, event, copy, code in zip(self.at, self.event, self.copy, self.mark, strict=True):
            why, tamper, age = marks[code]
            yield make_slot(at, event, copy, why, tamper, age)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Schedule):
            return NotImplemented
        if (self.at, self.event, self.copy) != (other.at, other.event, other.copy):
            return False
        if self.marks == other.marks:
            return self.mark == other.mark
        return [self.marks[c] for c in self.mark] == [other.marks[c] for c in other.mark]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Schedule({list(self)!r})"


def _taken(column: array[T], order: Sequence[int]) -> array[T]:
    values = column.tolist()  # a list's items are read at twice an array's speed
    return array(column.typecode, [values[i] for i in order])


def _spliced(column: array[T], added: array[T], places: Sequence[int]) -> array[T]:
    """``column`` with ``added[i]`` put before its item ``places[i]`` (ascending)."""
    out = column[:0]
    extend, append = out.extend, out.append
    done = 0
    for place, value in zip(places, added, strict=True):
        extend(column[done:place])
        append(value)
        done = place
    extend(column[done:])
    return out
