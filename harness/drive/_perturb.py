"""Perturbations: seeded, pure transforms of an event stream into a delivery schedule.

A schedule is a list of Slots — "deliver event #i at t seconds" — sorted by time. Each
perturbation takes a schedule and returns a new one; the same seed gives the same schedule.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..core._errors import ScenarioError
from ..core._model import Event
from ..core._scenario import Perturbation
from ._drift import DRIFT_KINDS, is_drift
from ._sources import Redelivery


@dataclass(frozen=True, slots=True)
class Slot:
    """One planned delivery: event index ``event`` (its seq) at ``at`` seconds."""

    at: float
    event: int
    copy: int = 0  # 0 = the original, n = the n-th extra copy
    why: str = ""  # the perturbation that put it there, for the report
    tamper: str = ""  # a delivery-side fault of the signature (TAMPER_MODES); "" = genuine
    age: float = 0.0  # stale, replayed: seconds (real time) the signed timestamp lies back


Schedule = list[Slot]


def delivery_id(n: int) -> str:
    """The id of the delivery of slot ``n`` of a schedule: ``dlv_000001`` for the first. Every
    process that plans the same schedule names its deliveries alike (Locust workers)."""
    return f"dlv_{n + 1:06d}"


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
    schedule = [Slot(ev.occurred_at, ev.seq) for ev in events]
    copies: dict[int, int] = {}
    for r in redeliveries:
        copies[r.event] = copies.get(r.event, 0) + 1
        schedule.append(Slot(r.at, r.event, copies[r.event], "redelivered"))
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
        schedule = apply(sorted(schedule, key=_time), p.params, rng, keys)
    return sorted(schedule, key=_time)


def _time(s: Slot) -> float:
    return s.at


def duplicate(s: Schedule, p: Mapping[str, Any], rng: random.Random, _: Any) -> Schedule:
    rate, copies, spread = (
        float(p.get("rate", 0.3)),
        int(p.get("copies", 2)),
        float(p.get("spread", 0)),
    )
    out = list(s)
    for slot in s:
        if slot.copy or rng.random() >= rate:
            continue
        for n in range(1, copies):
            lag = rng.uniform(0, spread) if spread else 0.0
            out.append(Slot(slot.at + lag, slot.event, n, "duplicate"))
    return out


def burst(s: Schedule, p: Mapping[str, Any], _: random.Random, __: Any) -> Schedule:
    within = float(p["within"])
    count = int(p.get("count", len(s)))
    head, tail = s[:count], s[count:]
    if not head:
        return s
    start, span = head[0].at, head[-1].at - head[0].at
    factor = within / span if span else 0.0
    squeezed = [replace(x, at=start + (x.at - start) * factor, why=x.why or "burst") for x in head]
    shift = (squeezed[-1].at - head[-1].at) if tail else 0.0
    return squeezed + [replace(x, at=x.at + shift) for x in tail]


def simultaneous(s: Schedule, p: Mapping[str, Any], rng: random.Random, keys: Any) -> Schedule:
    records, per = int(p.get("records", 1)), int(p.get("events", 2))
    by_key: dict[str, list[int]] = {}
    for i, slot in enumerate(s):
        if slot.copy == 0:
            by_key.setdefault(keys[slot.event], []).append(i)
    eligible = sorted(k for k, idx in by_key.items() if len(idx) >= 2)
    chosen = rng.sample(eligible, min(records, len(eligible)))
    taken: set[int] = set()
    moved: list[Slot] = []
    for key in chosen:
        idx = by_key[key][:per]
        instant = s[idx[0]].at
        group = [replace(s[i], at=instant, why="simultaneous") for i in idx]
        rng.shuffle(group)  # at one instant the send order is a race; make it one
        taken.update(idx)
        moved.extend(group)
    return [x for i, x in enumerate(s) if i not in taken] + moved


def reorder(s: Schedule, p: Mapping[str, Any], rng: random.Random, _: Any) -> Schedule:
    window, rate = int(p.get("window", 5)), float(p.get("rate", 1.0))
    out: Schedule = []
    for start in range(0, len(s), window):
        block = s[start : start + window]
        if len(block) > 1 and rng.random() < rate:
            events = [(x.event, x.copy) for x in block]
            shuffled = list(events)
            rng.shuffle(shuffled)
            if shuffled == events:
                shuffled.reverse()
            block = [
                replace(x, event=e, copy=c, why="reorder")
                for x, (e, c) in zip(block, shuffled, strict=True)
            ]
        out.extend(block)
    return out


def replay(s: Schedule, p: Mapping[str, Any], _: random.Random, __: Any) -> Schedule:
    times, gap = int(p.get("times", 1)), float(p.get("gap", 1.0))
    if not s:
        return s
    start, end = s[0].at, s[-1].at
    top = max(x.copy for x in s)
    out = list(s)
    for n in range(1, times + 1):
        shift = n * (end - start + gap)
        out.extend(Slot(x.at + shift, x.event, x.copy + n * (top + 1), "replay") for x in s)
    return out


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
    if mode == "replayed":
        top = max((x.copy for x in s), default=0)
        extra = [
            Slot(x.at + after, x.event, top + 1, "tamper", mode, age)
            for x in s
            if not x.tamper and rng.random() < rate
        ]
        return s + extra
    return [
        replace(x, why="tamper", tamper=mode, age=age)
        if not x.tamper and rng.random() < rate
        else x
        for x in s
    ]


_KINDS: dict[str, Callable[[Schedule, Mapping[str, Any], random.Random, Any], Schedule]] = {
    "duplicate": duplicate,
    "burst": burst,
    "simultaneous": simultaneous,
    "reorder": reorder,
    "replay": replay,
    "tamper": tamper,
}
KINDS = tuple(sorted(_KINDS))
