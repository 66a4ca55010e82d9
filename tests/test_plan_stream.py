"""A schedule planned as it is sent (``drive._plan_stream``) is the schedule planned whole: the
same slots in the same order, times, copies and marks, for the same seed — and what it cannot
plan so is left to the whole plan."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core._scenario import Perturbation, SyntheticSource
from harness.drive._perturb import perturbed
from harness.drive._plan_stream import PlanStream, streamed
from harness.drive._schedule import Schedule, Slot
from harness.drive._sources import synthetic_times


def source(events: int, over: float = 10.0, times: tuple[float, ...] = ()) -> SyntheticSource:
    return SyntheticSource({"id": "x", "key": "k"}, events, max(1, events // 3), over, times=times)


def whole(src: SyntheticSource, perturbations: tuple[Perturbation, ...], seed: int, scale: float):
    firsts = Schedule.firsts(synthetic_times(src))
    return perturbed(firsts, perturbations, seed).scaled(scale)


def taken(plan: PlanStream, most: int) -> list[Slot]:
    """The plan's next ``most`` slots as a Feed takes them (a block of columns), as Slots."""
    at, event, copy, mark = plan.rows(most)
    return [Slot(a, e, c, *m) for a, e, c, m in zip(at, event, copy, mark, strict=True)]


def as_sent(plan: PlanStream) -> Schedule:
    """The plan's slots as a Feed takes them, 7 at a time (not ``finish``): counted, not
    held."""
    slots: list[Slot] = []
    while block := taken(plan, 7):
        slots += block
    assert plan.planned == len(slots) and not plan.schedule
    return Schedule.of(slots)


def let_go(plan: PlanStream) -> list[int]:
    """Where each event's last slot is, as ``given`` tells it of the slots given 7 at a time."""
    found: list[int] = []
    n = 0
    while events := plan.rows(7)[1]:
        done = plan.given(events)
        found += sorted(n + max(i for i, e in enumerate(events) if e == seq) for seq in done)
        n += len(events)
    return found


def planned(
    src: SyntheticSource, perturbations: tuple[Perturbation, ...], seed: int, scale: float = 1.0
) -> PlanStream:
    plan = streamed(src, perturbations, seed, scale, math.inf)
    assert plan is not None
    return plan


# Times with ties: copies at an instant go after that instant's slots, in the order drawn.
TIED = (0.0, 0.0, 0.0, 0.5, 0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 3.5, 3.5, 4.0)


@pytest.mark.parametrize(
    "perturbation",
    [
        Perturbation("duplicate", {"rate": 0.3}),
        Perturbation("duplicate", {"rate": 0.5, "copies": 4, "spread": 2.5}),
        Perturbation("duplicate", {"rate": 1.0, "copies": 3, "spread": 0.001}),
        Perturbation("reorder", {"window": 5}),
        Perturbation("reorder", {"window": 3, "rate": 0.5}),
        Perturbation("reorder", {"window": 1}),
    ],
    ids=str,
)
@pytest.mark.parametrize("times", [(), TIED], ids=["evenly", "tied"])
def test_a_plan_streamed_is_the_plan_made_whole(
    perturbation: Perturbation, times: tuple[float, ...]
) -> None:
    src = source(len(times) or 500, times=times)
    for seed in range(8):
        for scale in (1.0, 0.25):
            expected = whole(src, (perturbation,), seed, scale)
            assert as_sent(planned(src, (perturbation,), seed, scale)) == expected
    assert as_sent(planned(src, (), 1)) == whole(src, (), 1, 1.0)


@settings(max_examples=60, deadline=None)
@given(
    gaps=st.lists(st.sampled_from([0.0, 0.0, 0.1, 0.7, 3.0]), max_size=60),
    rate=st.sampled_from([0.0, 0.2, 0.9, 1.0]),
    copies=st.integers(1, 4),
    spread=st.sampled_from([0.0, 0.05, 1.0, 10.0]),
    seed=st.integers(0, 2**32),
)
def test_a_duplicate_streamed_draws_and_places_as_the_whole_plan(
    gaps: list[float], rate: float, copies: int, spread: float, seed: int
) -> None:
    times = tuple(sum(gaps[: i + 1]) for i in range(len(gaps)))
    params: dict[str, Any] = {"rate": rate, "copies": copies, "spread": spread}
    perturbations = (Perturbation("duplicate", params),)
    src = source(len(times), times=times)
    assert as_sent(planned(src, perturbations, seed)) == whole(src, perturbations, seed, 1.0)


def test_a_streamed_plan_plans_its_first_slots_alone() -> None:
    """A million events: the first slots are planned without the others' times or draws."""
    plan = planned(source(1_000_000, 1000.0), (Perturbation("duplicate", {"rate": 0.1}),), 1)
    first = taken(plan, 10)
    assert [s.event for s in first if not s.copy][:3] == [0, 1, 2]
    assert plan.planned == 10 and not plan.schedule


def test_each_event_is_let_go_after_its_last_slot() -> None:
    """``given`` says when an event's last slot is given: its copies planned or still held."""
    perturbations = (Perturbation("duplicate", {"rate": 0.5, "copies": 3, "spread": 4.0}),)
    src = source(300)
    plan = planned(src, perturbations, 2)
    last: dict[int, int] = {}
    for n, slot in enumerate(whole(src, perturbations, 2, 1.0)):
        last[slot.event] = n
    assert let_go(plan) == sorted(last.values())
    assert let_go(PlanStream.of(whole(src, perturbations, 2, 1.0))) == sorted(last.values())


@pytest.mark.parametrize(
    "perturbations",
    [
        # Its tampered ids are the run's settings before the first send.
        (Perturbation("tamper", {"mode": "forged"}),),
        # Squeezed by the last slot's time.
        (Perturbation("burst", {"within": 1.0}),),
        (Perturbation("simultaneous", {}),),
        (Perturbation("replay", {}),),
        # Two that draw: the second's draws start where the first's end.
        (Perturbation("duplicate", {}), Perturbation("reorder", {})),
        # A copy earlier than its original; an empty window.
        (Perturbation("duplicate", {"spread": -1.0}),),
        (Perturbation("reorder", {"window": 0}),),
    ],
    ids=str,
)
def test_what_cannot_be_planned_as_sent_is_planned_whole(
    perturbations: tuple[Perturbation, ...],
) -> None:
    assert streamed(source(50), perturbations, 1, 1.0, math.inf) is None


def test_times_out_of_order_and_a_run_too_long_are_planned_whole() -> None:
    assert streamed(source(3, times=(0.0, 2.0, 1.0)), (), 1, 1.0, math.inf) is None
    assert streamed(source(3, over=-3.0), (), 1, 1.0, math.inf) is None
    duplicate = (Perturbation("duplicate", {"spread": 5.0}),)
    # Its last event at 9 s, a copy up to 5 s later, twice as slow: 28 s at most.
    assert streamed(source(10, 10.0), duplicate, 1, 2.0, 28.0) is not None
    assert streamed(source(10, 10.0), duplicate, 1, 2.0, 27.9) is None


def test_a_plan_finished_counts_the_whole_plan_after_the_slots_given() -> None:
    """What the Recorder does as a run stops: the rest planned and counted, none of it given
    nor held."""
    perturbations = (Perturbation("duplicate", {"rate": 0.4, "spread": 1.5}),)
    plan = planned(source(200), perturbations, 4)
    given = taken(plan, 17)
    everything = whole(source(200), perturbations, 4, 1.0)
    assert plan.finish() == plan.planned == len(everything) > 200
    assert given == list(everything[:17]) and not plan.schedule


@pytest.mark.parametrize(
    "perturbation",
    [Perturbation("duplicate", {"rate": 0.5, "copies": 3, "spread": 2.0}), Perturbation("reorder")],
    ids=str,
)
def test_a_plan_finished_keeps_no_count_per_event_it_planned(perturbation: Perturbation) -> None:
    """A run cut short at its first delivery plans the rest as it stops: none of it is given,
    so no count of an event's slots left is kept for it (10M events: a gigabyte held)."""
    plan = planned(source(5_000), (perturbation,), 2)
    given = taken(plan, 3)
    assert plan.finish() >= 5_000 and not plan.schedule
    assert set(plan._live) <= {slot.event for slot in given} | set(range(10))


@pytest.mark.parametrize(
    "perturbations",
    [(), (Perturbation("reorder", {"window": 4}),), (Perturbation("duplicate", {"rate": 0.5}),)],
    ids=["none", "reorder", "duplicate"],
)
@pytest.mark.parametrize("times", [(), TIED], ids=["evenly", "tied"])
def test_a_plan_without_copies_is_counted_before_it_is_planned(
    perturbations: tuple[Perturbation, ...], times: tuple[float, ...]
) -> None:
    """One slot an event: the run's planned count (the progress bar's total) from the start;
    a duplicate's copies are drawn as it goes, its count known at its end."""
    src = source(len(times) or 40, times=times)
    plan = planned(src, perturbations, 5)
    duplicated = any(p.kind == "duplicate" for p in perturbations)
    assert plan.count == (None if duplicated else len(whole(src, perturbations, 5, 1.0)))
    assert plan.finish() == len(whole(src, perturbations, 5, 1.0))
    assert PlanStream.of(whole(src, perturbations, 5, 1.0)).finish() == plan.planned
