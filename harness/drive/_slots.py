"""What the Deliverer is handed: consecutive slots of a schedule as columns, with their events.

A Slot and a Planned made for every slot cost a streamed run about 2 µs a slot before its first
byte was sent: the plan made a Slot, the Feed looked each one up, counted it and made a Planned
of it, one Python step each. ``Slots`` hands the Deliverer a run of consecutive slots at once —
their times, events, copy numbers and marks as lists, each slot's event's body, id, type and own
headers beside it — made by the Feed (or, for a schedule prepared whole, by ``of_schedule``) a
few list passes at a time. The Deliverer makes a slot's Planned (``rows``) only as it sends it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ._schedule import Mark, Schedule, Slot, make_slot

# An event as a slot sends it: its body, id, type and own headers.
Held = tuple[bytes, str, str, dict[str, str]]


class Planned(NamedTuple):
    """One planned delivery as the Deliverer sends it: slot ``n`` of the schedule, its event's
    body, id, type and own headers."""

    n: int
    slot: Slot
    body: bytes
    event_id: str
    event_type: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Slots:
    """Slots ``first``, ``first + 1``, ... of a schedule: item ``i`` of each column is one
    slot's (its time, event seq, copy number, mark, and its event as ``Held``)."""

    first: int
    at: Sequence[float]
    event: Sequence[int]
    copy: Sequence[int]
    mark: Sequence[Mark]
    held: Sequence[Held]

    @classmethod
    def of_schedule(
        cls,
        schedule: Schedule,
        start: int,
        stop: int,
        held: Callable[[int], Held],
    ) -> Slots:
        """Slots ``start`` to ``stop - 1`` of ``schedule``, each event's as ``held(seq)``."""
        at, events, copies, marks = schedule.block(start, stop)
        return cls(start, at, events, copies, marks, list(map(held, events)))

    def __len__(self) -> int:
        return len(self.event)

    def rows(self) -> Iterator[Planned]:
        """Each slot as the Deliverer sends it, in order."""
        new = tuple.__new__
        for n, at, event, copy, mark, held in zip(
            range(self.first, self.first + len(self.event)),
            self.at,
            self.event,
            self.copy,
            self.mark,
            self.held,
            strict=True,
        ):
            yield new(Planned, (n, make_slot(at, event, copy, *mark), *held))
