"""An explicit schedule (``schedule:``): exactly the listed deliveries of the listed events,
instead of the perturbations' plan — what ``harness explore`` writes to replay a shrunk failure.

Only the events a schedule names are sent (and driven in the clean run): a run of one event
delivered twice is a run of one event, whatever the source holds besides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ..core._errors import ScenarioError
from ..core._model import Event
from ..core._scenario import PlannedDelivery
from ._perturb import TAMPER_DEFAULTS, TAMPER_MODES
from ._schedule import Schedule, Slot


def explicit(
    events: Sequence[Event], planned: Sequence[PlannedDelivery], where: str = "<python>"
) -> tuple[tuple[Event, ...], Schedule]:
    """The events ``planned`` names (renumbered 0.. in source order) and their schedule."""
    for n, p in enumerate(planned):
        if not 0 <= p.event < len(events):
            raise ScenarioError(
                f"schedule[{n}].event: {p.event + 1} is not an event of the source, which has "
                f"{len(events)}",
                where=where,
                hint=f"number events from 1 to {len(events)}",
            )
        if p.tamper and p.tamper not in TAMPER_MODES:
            raise ScenarioError(
                f"schedule[{n}].tamper: {p.tamper!r} is not a tamper mode",
                where=where,
                hint=f"use one of {', '.join(TAMPER_MODES)}, or leave it out for a genuine one",
            )
    used = sorted({p.event for p in planned})
    index = {old: new for new, old in enumerate(used)}
    kept = tuple(replace(events[old], seq=new) for new, old in enumerate(used))
    copies: dict[int, int] = {}
    slots: list[Slot] = []
    for p in planned:
        n = index[p.event]
        copy = copies.get(n, -1) + 1
        copies[n] = copy
        age = TAMPER_DEFAULTS["age"] if p.tamper in ("stale", "replayed") else 0.0
        slots.append(Slot(p.at, n, copy, "schedule", p.tamper, age))
    # Stable: deliveries at one instant keep the listed order.
    return kept, Schedule.of(sorted(slots, key=lambda s: s.at))
