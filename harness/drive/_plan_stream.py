"""A streamed run's schedule planned as it is sent, a block of slots at a time, in order.

Planned whole (``_perturb.perturbed``), a million events' schedule costs about a second before
its first delivery: the events' times as an array, every draw of the perturbation, its copies
merged into the schedule, the slots of every event counted — each a pass over every slot. A
PlanStream plans the same slots (in the same order, at the same times, the same copies and
marks) as the Feed asks for them: the events' times read one by one, a ``duplicate``'s draws
made in the order the whole plan makes them, its copies held in a heap until their time comes,
a ``reorder``'s window of slots shuffled when it is reached. Its first slot costs what the first
event's draws cost, whatever the count. The Feed takes them as columns (``rows``), no Slot made.

It plans so only what it can plan exactly as the whole plan does (``streamed``): the events'
times in order, and at most one perturbation, a ``duplicate`` (a spread of 0 or more) or a
``reorder``. Two that draw share one generator: the second's draws start where the first's end,
which only the whole first plan tells. ``tamper`` is planned whole: the run's settings name
every tampered delivery before the first is sent (what ``rejects_forged`` judges, even a run
cut short). ``burst`` squeezes its slots by the last one's time, ``simultaneous`` and
``replay`` look at the whole schedule; the rest is planned whole, as before.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from heapq import heappop, heappush
from itertools import count as numbers
from itertools import islice, repeat
from operator import le
from typing import Any

from ..core._scenario import Perturbation, SyntheticSource
from ._drift import is_drift
from ._perturb import DUPLICATE_MARK, reordered_mark
from ._schedule import GENUINE, Block, Mark, Schedule
from ._sources import synthetic_times

Row = tuple[float, int, int, Mark]  # a slot's time, event, copy and mark
Rows = Iterator[Row]
# Per event given more than one slot: its slots planned and not yet sent (an event planned and
# not in it has one left, until it is sent).
Live = dict[int, int]
Stage = Callable[[Rows, Mapping[str, Any], random.Random, Live], Rows]


class PlanStream:
    """A schedule's slots in order, each planned when it is asked for (once), a block at a
    time (``rows``). Planned as it is sent, it holds none of them (a slot given is the Feed's:
    26 bytes a slot, 28 MiB at a million events, were held until the run ended), only how many
    it has planned (``planned``); ``schedule`` is then empty. Planned whole (``of``),
    ``schedule`` is that schedule."""

    def __init__(
        self, rows: Rows, live: Live, schedule: Schedule | None = None, count: int | None = None
    ) -> None:
        self._rows = rows
        self._live = live
        self.schedule = schedule if schedule is not None else Schedule()
        self.planned = len(self.schedule)  # slots planned so far
        # How many slots it plans, when known before they are (no ``duplicate``: one an event).
        self.count = len(schedule) if schedule is not None else count
        # A schedule planned whole, given a few slots at a time: its slots left per event,
        # counted, and the next slot to give.
        self._per_event = schedule.per_event.tolist() if schedule is not None else None
        self._next = 0

    @classmethod
    def of(cls, schedule: Schedule) -> PlanStream:
        """The slots of ``schedule``, planned whole before."""
        return cls(iter(()), {}, schedule)

    def rows(self, most: int) -> Block:
        """The next ``most`` slots (fewer at the end, none once all are given), planned now, as
        columns: their times (floats, as a schedule holding them gives them), events, copy
        numbers and marks."""
        if self._per_event is not None:
            start = self._next
            self._next = min(start + most, len(self.schedule))
            return self.schedule.block(start, self._next)
        block = list(islice(self._rows, most))
        if not block:
            return [], [], [], []
        self.planned += len(block)
        at, event, copy, mark = zip(*block, strict=True)
        return list(map(float, at)), list(event), list(copy), list(mark)

    def given(self, events: Iterable[int]) -> list[int]:
        """One slot of each of ``events`` is given, in order: those whose last slot it was."""
        per = self._per_event
        if per is not None:
            done = []
            for seq in events:
                per[seq] -= 1
                if not per[seq]:
                    done.append(seq)
            return done
        live = self._live
        return [seq for seq in events if seq not in live or self._last(seq)]

    def _last(self, seq: int) -> bool:
        """One slot of event ``seq`` (given more than one) is given: True when it was its last."""
        left = self._live[seq] - 1
        if left:
            self._live[seq] = left
            return False
        del self._live[seq]
        return True

    def finish(self) -> int:
        """How many slots the whole schedule has: the slots not asked for yet planned and
        counted (none given, nor kept). The slots left per event are not kept for what it
        plans: none of them is given, and a run cut short at its first delivery would hold an
        entry per event (a gigabyte at 10M)."""
        drop = self._live.pop
        for _, event, _, _ in self._rows:
            self.planned += 1
            drop(event, None)
        return self.planned


def streamed(
    source: SyntheticSource,
    perturbations: Sequence[Perturbation],
    seed: int,
    scale: float,
    within: float,
) -> PlanStream | None:
    """The PlanStream of ``source``'s events after ``perturbations`` on the run's clock
    (``scale``); None when it is planned whole (the module's docstring), or when a slot of it
    might come later than ``within`` seconds (a run's limit: the whole plan refuses it exactly;
    a schedule planned as it is sent is never refused halfway)."""
    shaping = [p for p in perturbations if not is_drift(p)]
    if len(shaping) > 1 or not _in_order(source):
        return None
    live: Live = {}
    # Each event's genuine slot at its time, in seq order.
    rows: Rows = zip(synthetic_times(source), numbers(), repeat(0), repeat(GENUINE))
    last = _last_time(source)
    rng = random.Random(seed)
    # One slot an event, unless a duplicate adds copies (drawn as it goes).
    count = None if shaping and shaping[0].kind == "duplicate" else _event_count(source)
    for p in shaping:
        stage = _STAGES.get(p.kind)
        lag = None if stage is None else _lag(p)
        if stage is None or lag is None:
            return None
        rows, last = stage(rows, p.params, rng, live), last + lag
    if last * scale > within:
        return None
    if scale != 1:
        rows = ((at * scale, event, copy, mark) for at, event, copy, mark in rows)
    return PlanStream(rows, live, count=count)


def _in_order(source: SyntheticSource) -> bool:
    """Are ``source``'s events' times in their seq order (as a whole plan would sort them)?"""
    if not source.times:
        return source.over >= 0
    return all(map(le, source.times, islice(source.times, 1, None)))


def _event_count(source: SyntheticSource) -> int:
    """How many events ``synthetic_times`` times: the slots of a plan without copies."""
    return len(source.times) if source.times else max(source.events, 0)


def _last_time(source: SyntheticSource) -> float:
    """The time of ``source``'s last event (its events in time order)."""
    if source.times:
        return source.times[-1]
    step = source.over / source.events if source.events else 0.0
    return (source.events - 1) * step if source.events else 0.0


def _lag(p: Perturbation) -> float | None:
    """How much later than its event's time a slot of ``p`` can come; None when ``p`` is
    planned whole: a copy before its original, an empty window."""
    if p.kind == "duplicate":
        spread = float(p.params.get("spread", 0))
        return spread if spread >= 0 else None
    return 0.0 if int(p.params.get("window", 5)) >= 1 else None


def _duplicated(rows: Rows, p: Mapping[str, Any], rng: random.Random, live: Live) -> Rows:
    """``_perturb.duplicate``, slot after slot: an original drawn, its copies held until
    their time, each placed after the slots at its instant and before the later ones."""
    rate, copies, spread = (
        float(p.get("rate", 0.3)),
        int(p.get("copies", 2)),
        float(p.get("spread", 0)),
    )
    draw, uniform = rng.random, rng.uniform
    later: list[tuple[float, int, int, int]] = []  # (time, order made, event, copy number)
    made = 0
    for row in rows:
        at, event, copy, _ = row
        while later and later[0][0] < at:
            due, _, of, number = heappop(later)
            yield due, of, number, DUPLICATE_MARK
        # Drawn before the original is given: its copies are counted before it is sent.
        if not copy and draw() < rate:
            for number in range(1, copies):
                lag = uniform(0, spread) if spread else 0.0
                heappush(later, (at + lag, made, event, number))
                live[event] = live.get(event, 1) + 1
                made += 1
        yield row
    while later:
        due, _, of, number = heappop(later)
        yield due, of, number, DUPLICATE_MARK


def _reordered(rows: Rows, p: Mapping[str, Any], rng: random.Random, _: Live) -> Rows:
    """``_perturb.reorder``, window after window: the times and marks stay in their places,
    the events (with their copy numbers) shuffled among them."""
    window, rate = int(p.get("window", 5)), float(p.get("rate", 1.0))
    while chunk := list(islice(rows, window)):
        if len(chunk) > 1 and rng.random() < rate:
            pairs = [(event, copy) for _, event, copy, _ in chunk]
            shuffled = list(pairs)
            rng.shuffle(shuffled)
            if shuffled == pairs:
                shuffled.reverse()
            chunk = [
                (at, event, copy, reordered_mark(mark))
                for (at, _, _, mark), (event, copy) in zip(chunk, shuffled, strict=True)
            ]
        yield from chunk


_STAGES: dict[str, Stage] = {"duplicate": _duplicated, "reorder": _reordered}
