"""The strategies: deliveries of a pool of events, fault windows opened at deliveries, and the
two together for a scenario (``explorations``)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from ..core._errors import ScenarioError
from ..core._scenario import FAULT_MODES, FaultSpec, PlannedDelivery, Scenario
from ..drive._perturb import TAMPER_MODES
from ..drive._sources import load_stream

# Seconds (run time) between two deliveries sent one after the other: long enough for a small
# automation to have answered the first, short enough for a run of a few deliveries to take
# about a second. A gap is 1 to MAX_GAPS of them.
SPACING = 0.3
MAX_GAPS = 3
MAX_DELIVERIES = 4
POOL = 4  # the source's first events an exploration draws from
POOL_REACH = 16  # how far the default pool looks for a second event of one record
# Tamper modes a schedule may draw; ``replayed`` is a second copy already (a delivery drawn again).
_TAMPERS = tuple(m for m in TAMPER_MODES if m != "replayed")


@dataclass(frozen=True, slots=True)
class Exploration:
    """One example: an explicit schedule and the fault windows open during it (scenario time)."""

    schedule: tuple[PlannedDelivery, ...]
    faults: tuple[FaultSpec, ...] = ()

    def __repr__(self) -> str:
        # What Hypothesis prints for a falsifying example: the schedule, readable.
        parts = [
            f"e{d.event + 1}@{d.at:g}s" + (f"[{d.tamper}]" if d.tamper else "")
            for d in self.schedule
        ]
        windows = [
            f"{f.mode} on {f.downstream} {f.at:g}-{f.at + f.duration:g}s" for f in self.faults
        ]
        return f"Exploration({', '.join(parts)}{'; ' if windows else ''}{', '.join(windows)})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis's "Failing test case" pretty-prints: the same compact schedule.
        printer.text(repr(self))


@st.composite
def deliveries(
    draw: st.DrawFn,
    keys: Sequence[str],
    *,
    max_deliveries: int = MAX_DELIVERIES,
    spacing: float = SPACING,
    tamper: bool = False,
) -> tuple[PlannedDelivery, ...]:
    """1 to ``max_deliveries`` deliveries of the events whose record keys are ``keys`` (event
    ``n`` is about record ``keys[n]``; an event may be drawn several times: copies). An event
    is drawn as a record, then one of its events, so that two events of one record are as
    likely as two of different records — and half the time the record from those with more
    than one event: a pool of nine records, one of them with two events, drew that pair in
    about one example in fifty, and reversed it in fewer (tests/gallery/member_sync under
    out-of-order: "no schedule broke an invariant" in 100 examples, where `harness run`
    failed per_key_order on 5 of 10 records). Each is sent ``spacing`` times 1..MAX_GAPS seconds
    after the one before it, or at the same instant (concurrently); with ``tamper`` some are
    forged, unsigned or stale. Shrinks toward one delivery of the first event, one after the
    other, genuine."""
    if not keys:
        raise ValueError("deliveries needs at least one event (keys is empty)")
    records: dict[str, list[int]] = {}
    for n, key in enumerate(keys):
        records.setdefault(key, []).append(n)
    groups = list(records.values())
    several = [g for g in groups if len(g) > 1]
    # The records with more than one event follow all the records, repeated twice as many times
    # as there are records: Hypothesis draws low indices more often, so about half the draws
    # land on them (nine records, one pair: 0.5 of 100 derandomized examples' deliveries). One
    # index, not a boolean that changes what the index means, so the shrinker still reaches the
    # simplest schedule (with the boolean it left a third delivery behind); a pool with no
    # record of several events draws exactly as before.
    pool = groups + several * (2 * len(groups) // len(several) if several else 0)

    @st.composite
    def step(draw: st.DrawFn) -> tuple[int, int | None, str]:
        # Every step draws alike, the first too (its timing ignored): the shrinker may then
        # delete any delivery and leave the others as they were.
        group = pool[draw(st.integers(0, len(pool) - 1))]
        event = group[draw(st.integers(0, len(group) - 1))]
        # Both always drawn, so a concurrent delivery is no shorter a choice sequence than a
        # later one: Hypothesis then prefers False, one after the other, as the simpler.
        concurrent = draw(st.booleans())
        gaps = draw(st.integers(1, MAX_GAPS))
        mode = draw(st.sampled_from(("", *_TAMPERS))) if tamper else ""
        return event, None if concurrent else gaps, mode

    steps = draw(st.lists(step(), min_size=1, max_size=max_deliveries))
    at = 0.0
    out = []
    for n, (event, gaps, mode) in enumerate(steps):
        if n > 0 and gaps is not None:
            at += spacing * gaps
        out.append(PlannedDelivery(event, round(at, 6), mode))
    return tuple(out)


@st.composite
def fault_windows(
    draw: st.DrawFn,
    schedule: Sequence[PlannedDelivery],
    downstreams: Sequence[str],
    *,
    modes: Sequence[str] = ("status",),
    spacing: float = SPACING,
) -> tuple[FaultSpec, ...]:
    """At most one window per delivery of ``schedule``: opened on one of ``downstreams`` as that
    delivery is sent, in one of ``modes``, for ``spacing`` times 1..MAX_GAPS seconds. Shrinks toward
    no window at all."""
    for mode in modes:
        if mode not in FAULT_MODES:
            raise ValueError(f"fault mode {mode!r} is not one of {', '.join(FAULT_MODES)}")
    if not downstreams or not modes:
        return ()
    windows = []
    for d in schedule:
        if not draw(st.booleans()):
            continue
        windows.append(
            FaultSpec(
                draw(st.sampled_from(tuple(downstreams))),
                draw(st.sampled_from(tuple(modes))),
                d.at,
                spacing * draw(st.integers(1, MAX_GAPS)),
            )
        )
    return tuple(windows)


def pool_keys(scenario: Scenario, seed: int, pool: int = POOL) -> tuple[str, ...]:
    """The record keys of the source's first ``pool`` events, as a run with ``seed`` makes
    them. Raises ScenarioError for a source without events."""
    events = load_stream(scenario.source, seed).events[: max(1, pool)]
    if not events:
        raise ScenarioError(
            f"scenario {scenario.name!r} has no events to explore",
            where=scenario.origin,
            hint="give the source at least one event",
        )
    return tuple(ev.key for ev in events)


def default_pool(scenario: Scenario, seed: int) -> int:
    """POOL, or as many of the source's first events as it takes to hold two of one record
    (within POOL_REACH): a pool of one event per record puts no two of a record together, and
    reordering, simultaneous updates and lost updates need two. POOL when none repeats."""
    seen: set[str] = set()
    for n, key in enumerate(pool_keys(scenario, seed, POOL_REACH)):
        if key in seen:
            return max(POOL, n + 1)
        seen.add(key)
    return POOL


def explorations(
    scenario: Scenario,
    *,
    seed: int = 0,
    pool: int | None = None,
    max_deliveries: int = MAX_DELIVERIES,
    spacing: float = SPACING,
    faults: Sequence[str] = (),
    tamper: bool = False,
) -> st.SearchStrategy[Exploration]:
    """Schedules of ``scenario``'s first ``pool`` events (None: ``default_pool``), as a run
    with ``seed`` makes them (a synthetic source's records follow the seed) (``deliveries``),
    in scenario seconds (``spacing`` is run seconds, divided by the scenario's time scale),
    with fault windows of the ``faults`` modes on its downstreams (``fault_windows``; none by
    default) and, with ``tamper``, forged, unsigned and stale deliveries. A scenario with fault
    windows of its own has its schedules start as the first of them opens."""
    scale = scenario.time_scale or 1.0
    step = spacing / scale
    names = [d.name for d in scenario.downstreams]
    # The scenario's own fault windows are kept (a fault hazard's outage): its schedules start
    # as the first of them opens. Drawn from 0 s, the simplest schedule sent its delivery a few
    # milliseconds before the window (downstream-outage's opens at 10 s, 50 ms of run time), the
    # automation's call racing the opening: a minimal file that failed on a busy day only.
    start = min((f.at for f in scenario.faults), default=0.0)

    # The pool's keys, made at the first draw and kept: making them makes the whole source
    # (0.18 CPU-s for duplicate-storm's 60 events), which every example paid before. A source
    # without events still raises at each draw, as it did (a raise is not cached).
    @functools.cache
    def keys() -> tuple[str, ...]:
        return pool_keys(scenario, seed, pool or default_pool(scenario, seed))

    @st.composite
    def exploration(draw: st.DrawFn) -> Exploration:
        drawn = draw(deliveries(keys(), max_deliveries=max_deliveries, spacing=step, tamper=tamper))
        schedule = tuple(replace(d, at=round(d.at + start, 6)) for d in drawn)
        windows = draw(fault_windows(schedule, names, modes=faults, spacing=step)) if faults else ()
        return Exploration(schedule, windows)

    return exploration()
