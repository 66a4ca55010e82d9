"""The columnar Schedule (``drive/_schedule``): the Slots it is made of, read back alike —
by index, negative index, slice and iteration — and the plans made on its columns."""

from __future__ import annotations

import random
from array import array

import pytest

from harness.core._model import Event
from harness.core._scenario import Perturbation as P
from harness.drive._perturb import perturbed, plan
from harness.drive._schedule import Schedule, Slot
from harness.drive._tamper import tampered_ids

SLOTS = [
    Slot(0.0, 0),
    Slot(0.5, 1, 0, "reorder"),
    Slot(0.5, 0, 1, "duplicate"),
    Slot(1.25, 2, 0, "tamper", "stale", 3600.0),
    Slot(2.0, 1, 1, "tamper", "replayed", 60.0),
    Slot(2.0, 3, 0, "tamper", "stale", 3600.0),
]


def test_a_schedule_reads_back_the_slots_it_was_made_of() -> None:
    s = Schedule.of(SLOTS)
    assert len(s) == 6
    assert list(s) == SLOTS
    assert [s[n] for n in range(6)] == SLOTS
    assert [s[n] for n in range(-6, 0)] == SLOTS
    assert all(type(x) is Slot for x in s)
    with pytest.raises(IndexError):
        s[6]
    with pytest.raises(IndexError):
        s[-7]


@pytest.mark.parametrize(
    "cut", [slice(1, 4), slice(None, -2), slice(4, None), slice(None, None, 2)]
)
def test_a_slice_is_a_schedule_of_those_slots(cut: slice) -> None:
    part = Schedule.of(SLOTS)[cut]
    assert isinstance(part, Schedule)
    assert list(part) == SLOTS[cut]


def test_columns_hold_each_field_and_marks_are_coded_once() -> None:
    s = Schedule.of(SLOTS * 1000)
    assert s.at[:6] == array("d", [0.0, 0.5, 0.5, 1.25, 2.0, 2.0])
    assert s.event[:6] == array("q", [0, 1, 0, 2, 1, 3])
    assert s.copy[:6] == array("q", [0, 0, 1, 0, 1, 0])
    # Six thousand slots, five distinct (why, tamper, age): five entries, a small int a slot.
    assert len(s.marks) == 5 and s.mark.itemsize == 2
    assert s.marks[s.mark[3]] == ("tamper", "stale", 3600.0) == s.marks[s.mark[5]]


def test_equal_when_the_slots_are_whatever_order_the_marks_were_coded_in() -> None:
    forward = Schedule.of(SLOTS)
    coded_backwards = Schedule()
    for slot in reversed(SLOTS):  # codes the marks in another order
        coded_backwards.code((slot.why, slot.tamper, slot.age))
    for slot in SLOTS:
        coded_backwards.add(slot.at, slot.event, slot.copy, (slot.why, slot.tamper, slot.age))
    assert coded_backwards.marks != forward.marks
    assert coded_backwards == forward
    for n, changed in enumerate(
        [
            Slot(0.0, 0, 0, "x"),
            Slot(0.1, 0),
            Slot(0.0, 1),
            Slot(0.0, 0, 2),
            Slot(0.0, 0, 0, "", "", 1.0),
        ]
    ):
        other = Schedule.of([changed, *SLOTS[1:]])
        assert other != forward, n
    assert Schedule.of(SLOTS[:-1]) != forward
    assert forward != SLOTS  # a Schedule equals Schedules, not a list of the same slots


def test_attempts_count_each_events_deliveries_in_order() -> None:
    s = Schedule.of(SLOTS)
    assert list(s.attempts) == [1, 1, 2, 1, 2, 1]
    assert list(s.per_event) == [2, 2, 1, 1]


def test_tampered_slots_by_delivery_id() -> None:
    assert tampered_ids(Schedule.of(SLOTS)) == {
        "dlv_000004": "stale",
        "dlv_000005": "replayed",
        "dlv_000006": "stale",
    }
    assert tampered_ids(Schedule.of(SLOTS[:3])) == {}


def test_by_time_is_a_stable_sort() -> None:
    shuffled = [SLOTS[4], SLOTS[1], SLOTS[0], SLOTS[5], SLOTS[2], SLOTS[3]]
    s = Schedule.of(shuffled)
    assert list(s.by_time()) == sorted(shuffled, key=lambda x: x.at)
    ordered = Schedule.of(SLOTS)
    assert ordered.by_time() is ordered


@pytest.mark.parametrize("seed", range(40))
def test_merged_places_added_slots_as_a_stable_sort_would(seed: int) -> None:
    rng = random.Random(seed)
    times = [float(rng.randint(0, 8)) for _ in range(rng.randint(0, 30))]
    base = sorted((Slot(t, n) for n, t in enumerate(times)), key=lambda x: x.at)
    added = [
        Slot(float(rng.randint(-1, 9)), rng.randint(0, 5), rng.randint(1, 3), "duplicate")
        for _ in range(rng.randint(0, 12))
    ]
    merged = Schedule.of(base).merged(Schedule.of(added))
    assert list(merged) == sorted(base + added, key=lambda x: x.at)


def test_scaled_multiplies_times_only() -> None:
    s = Schedule.of(SLOTS)
    assert s.scaled(1.0) is s
    assert list(s.scaled(0.5)) == [
        Slot(x.at * 0.5, x.event, x.copy, x.why, x.tamper, x.age) for x in SLOTS
    ]


STREAMED = [
    P("duplicate", {"rate": 0.3, "copies": 3, "spread": 2.0}),
    P("reorder", {"window": 4, "rate": 0.5}),
    P("tamper", {"mode": "replayed", "rate": 0.2}),
    P("tamper", {"mode": "forged", "rate": 0.1}),
    P("burst", {"within": 1.0, "count": 50}),
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_plan_from_times_alone_is_the_plan_of_the_events(seed: int) -> None:
    """What a streamed run plans (``_prepare._fed``: its events' times, as whole arrays) is
    what a run prepared whole plans from its events."""
    events = [Event(f"e{i}", f"k{i % 7}", i, "t", i * 0.25, {}) for i in range(300)]
    streamed = perturbed(Schedule.firsts(ev.occurred_at for ev in events), STREAMED, seed)
    whole = plan(events, STREAMED, seed)
    assert streamed == whole and list(streamed) == list(whole)
    assert len(whole) > 300 and {x.why for x in whole} >= {"duplicate", "reorder", "tamper"}


@pytest.mark.parametrize(
    "kind",
    [
        P("duplicate", {"rate": 0.5, "spread": 1.0}),
        P("burst", {"within": 1.0, "count": 10}),
        P("simultaneous", {"records": 2, "events": 3}),
        P("reorder", {"window": 3}),
        P("replay", {"times": 2}),
        P("tamper", {"mode": "stale", "rate": 0.5}),
        P("tamper", {"mode": "replayed", "rate": 0.5}),
    ],
    ids=lambda p: f"{p.kind}-{p.params.get('mode', '')}",
)
def test_a_perturbation_leaves_the_schedule_it_was_given_alone(kind: P) -> None:
    s = Schedule.of(Slot(i * 0.5, i, 0, "", "stale" if i % 5 == 0 else "", 9.0) for i in range(40))
    before = list(s)
    out = perturbed(s, [kind], 4, {i: f"k{i % 4}" for i in range(40)})
    assert out != s
    assert list(s) == before
