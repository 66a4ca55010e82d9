"""Perturbations: seeded, pure transforms of an event stream into a delivery schedule.

A schedule (``_schedule.Schedule``) is the planned deliveries — "deliver event #i at t
seconds" — sorted by time, held as columns. Each perturbation takes a schedule and returns a
new one, reading and writing its columns (a million slots, no Slot made); the same seed gives
the same schedule.
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..core._errors import ScenarioError
from ..core._model import Event
from ..core._scenario import Perturbation
from ._drift import DRIFT_KINDS, is_drift
from ._schedule import Mark, Schedule
from ._sources import Redelivery


def plan(
    events: Sequence[Event],
    perturbations: Sequence[Perturbation],
    seed: int,
    redeliveries: Sequence[Redelivery] = (),
) -> Schedule:
    """The delivery schedule of ``events`` after applying ``perturbations`` in order.

    ``redeliveries`` (a recording's later lines of one event, ``_sources``) are slots of their
    event from the start, at their recorded offsets: copies 1, 2, ... as a provider's retries
    would be, so ``duplicate`` and ``simultaneous`` (which pick originals) leave them be, and
    ``reorder``, ``burst`` and ``replay`` move them like any delivery.
    """
    schedule = Schedule.firsts([ev.occurred_at for ev in events], [ev.seq for ev in events])
    copies: dict[int, int] = {}
    for r in redeliveries:
        copies[r.event] = copies.get(r.event, 0) + 1
        schedule.add(r.at, r.event, copies[r.event], ("redelivered", "", 0.0))
    return perturbed(schedule, perturbations, seed, {ev.seq: ev.key for ev in events})


# Perturbations that place a slot by looking at the whole schedule: which records have two
# events (``simultaneous``) or its whole span (``replay``). The others look at slots near it.
WHOLE_PLAN = frozenset({"simultaneous", "replay"})


def perturbed(
    schedule: Schedule,
    perturbations: Sequence[Perturbation],
    seed: int,
    keys: Mapping[int, str] | None = None,
) -> Schedule:
    """``schedule`` (each event's first slot, at its time) after ``perturbations`` in order;
    ``keys`` (seq -> record key) only ``simultaneous`` reads: a plan without it needs none."""
    rng = random.Random(seed)
    for p in perturbations:
        if is_drift(p):
            continue  # changes payloads, not the schedule (``_drift``)
        apply = _KINDS.get(p.kind)
        if apply is None:
            kinds = ", ".join(sorted((*_KINDS, *DRIFT_KINDS)))
            raise ScenarioError(f"unknown perturbation {p.kind!r}", hint=f"use one of {kinds}")
        schedule = apply(schedule.by_time(), p.params, rng, keys)
    return schedule.by_time()


DUPLICATE_MARK: Mark = ("duplicate", "", 0.0)  # an extra copy's


def duplicate(s: Schedule, p: Mapping[str, Any], rng: random.Random, _: Any) -> Schedule:
    rate, copies, spread = (
        float(p.get("rate", 0.3)),
        int(p.get("copies", 2)),
        float(p.get("spread", 0)),
    )
    draw, uniform = rng.random, rng.uniform
    of: list[int] = []  # per copy: the slot it copies, its number, its lag
    numbers: list[int] = []
    lags: list[float] = []
    for n, copy in enumerate(s.copy):
        if copy or draw() >= rate:
            continue
        for k in range(1, copies):
            of.append(n)
            numbers.append(k)
            lags.append(uniform(0, spread) if spread else 0.0)
    extra = Schedule.firsts(
        [s.at[n] + lag for n, lag in zip(of, lags, strict=True)], [s.event[n] for n in of]
    )
    extra.copy = array("q", numbers)
    extra.mark = array("H", [extra.code(DUPLICATE_MARK)]) * len(of)
    return s.merged(extra)


def burst(s: Schedule, p: Mapping[str, Any], _: random.Random, __: Any) -> Schedule:
    within = float(p["within"])
    count = int(p.get("count", len(s)))
    head, tail = s.at[:count], s.at[count:]
    if not head:
        return s
    start, span = head[0], head[-1] - head[0]
    factor = within / span if span else 0.0
    squeezed = array("d", [start + (at - start) * factor for at in head])
    shift = (squeezed[-1] - head[-1]) if tail else 0.0
    squeezed.extend([at + shift for at in tail])
    out = s.like(squeezed, s.event, s.copy, s.mark[:])
    out.remark(_burst, 0, len(head))
    return out


def _burst(m: Mark) -> Mark:
    return (m[0] or "burst", m[1], m[2])


def simultaneous(s: Schedule, p: Mapping[str, Any], rng: random.Random, keys: Any) -> Schedule:
    records, per = int(p.get("records", 1)), int(p.get("events", 2))
    by_key: dict[str, list[int]] = {}
    for i, (event, copy) in enumerate(zip(s.event, s.copy, strict=True)):
        if copy == 0:
            by_key.setdefault(keys[event], []).append(i)
    eligible = sorted(k for k, idx in by_key.items() if len(idx) >= 2)
    chosen = rng.sample(eligible, min(records, len(eligible)))
    taken: set[int] = set()
    moved: list[int] = []
    instants: list[float] = []
    for key in chosen:
        group = by_key[key][:per]
        instants.extend([s.at[group[0]]] * len(group))
        taken.update(group)
        rng.shuffle(group)  # at one instant the send order is a race; make it one
        moved.extend(group)
    kept = [i for i in range(len(s)) if i not in taken]
    out = s.taken(kept + moved)
    out.at[len(kept) :] = array("d", instants)
    out.remark(_simultaneous, len(kept), len(out))
    return out


def _put_by(why: str) -> Callable[[Mark], Mark]:
    """A mark's change: put there by the perturbation ``why``, its tamper and age kept."""

    def change(m: Mark) -> Mark:
        return (why, m[1], m[2])

    return change


_simultaneous, reordered_mark = _put_by("simultaneous"), _put_by("reorder")


def reorder(s: Schedule, p: Mapping[str, Any], rng: random.Random, _: Any) -> Schedule:
    window, rate = int(p.get("window", 5)), float(p.get("rate", 1.0))
    out = s.like(s.at, s.event[:], s.copy[:], s.mark[:])
    codes = out.recoded(reordered_mark)
    for start in range(0, len(s), window):
        stop = min(start + window, len(s))
        if stop - start > 1 and rng.random() < rate:
            pairs = list(zip(s.event[start:stop], s.copy[start:stop], strict=True))
            shuffled = list(pairs)
            rng.shuffle(shuffled)
            if shuffled == pairs:
                shuffled.reverse()
            out.event[start:stop] = array("q", [e for e, _ in shuffled])
            out.copy[start:stop] = array("q", [c for _, c in shuffled])
            out.mark[start:stop] = array("H", [codes[c] for c in s.mark[start:stop]])
    return out


def replay(s: Schedule, p: Mapping[str, Any], _: random.Random, __: Any) -> Schedule:
    times, gap = int(p.get("times", 1)), float(p.get("gap", 1.0))
    if not s:
        return s
    start, end = s.at[0], s.at[-1]
    top = max(s.copy)
    extra = Schedule()
    replayed = array("H", [extra.code(("replay", "", 0.0))]) * len(s)
    for n in range(1, times + 1):
        shift = n * (end - start + gap)
        extra.at.extend([at + shift for at in s.at])
        extra.event.extend(s.event)
        extra.copy.extend([copy + n * (top + 1) for copy in s.copy])
        extra.mark.extend(replayed)
    return s.merged(extra)


TAMPER_MODES = ("forged", "unsigned", "stale", "replayed")
# What a tamper perturbation's params default to: a share, a signed age and a replay's lag (s).
TAMPER_DEFAULTS: Mapping[str, float] = {"rate": 0.2, "age": 3600.0, "after": 1.0}


def tamper(s: Schedule, p: Mapping[str, Any], rng: random.Random, _: Any) -> Schedule:
    """forged, unsigned, stale: that share of deliveries is sent so instead of genuinely;
    replayed: that share of genuine deliveries is sent again ``after`` s later, as captured."""
    mode = p.get("mode")
    if mode not in TAMPER_MODES:
        # YAML refuses this with its line; a Perturbation built in Python gets here.
        raise ScenarioError(
            f"perturbation 'tamper' needs a mode, one of {', '.join(TAMPER_MODES)}; "
            f"got {dict(p)!r}",
            hint="e.g. Perturbation('tamper', {'mode': 'forged', 'rate': 0.2})",
        )
    p = {**TAMPER_DEFAULTS, **p}
    rate, age, after = float(p["rate"]), float(p["age"]), float(p["after"])
    genuine = [not m[1] for m in s.marks]
    draw = rng.random
    if mode == "replayed":
        top = max(s.copy, default=0)
        extra = Schedule()
        for at, event, code in zip(s.at, s.event, s.mark, strict=True):
            if genuine[code] and draw() < rate:
                extra.add(at + after, event, top + 1, ("tamper", mode, age))
        return s.merged(extra)
    out = s[:]
    tampered = out.code(("tamper", mode, age))
    for n, code in enumerate(s.mark):
        if genuine[code] and draw() < rate:
            out.mark[n] = tampered
    return out


_KINDS: dict[str, Callable[[Schedule, Mapping[str, Any], random.Random, Any], Schedule]] = {
    "duplicate": duplicate,
    "burst": burst,
    "simultaneous": simultaneous,
    "reorder": reorder,
    "replay": replay,
    "tamper": tamper,
}
KINDS = tuple(sorted(_KINDS))
