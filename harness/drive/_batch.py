"""Batches: how a batching sender (HubSpot) groups planned deliveries into one request.

Pure planning, no network: ``Deliverer`` sends each batch as a JSON array of its events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._schedule import Slot


def batches(schedule: Sequence[Slot], size: int, window: float) -> list[tuple[int, ...]]:
    """Slot indices grouped into batches of at most ``size``: consecutive slots due within
    ``window`` s of their batch's first. A tampered slot is sent alone (an attacker's request)."""
    out: list[tuple[int, ...]] = []
    current: list[int] = []
    for n, slot in enumerate(schedule):
        if current and (
            slot.tamper
            or len(current) >= size
            or slot.at - schedule[current[0]].at > window
            or schedule[current[0]].tamper
        ):
            out.append(tuple(current))
            current = []
        current.append(n)
    if current:
        out.append(tuple(current))
    return out


@dataclass(frozen=True, slots=True)
class Batch:
    """One batched request: its planned slots (by index and slot), body and event ids."""

    members: tuple[int, ...]
    slots: tuple[Slot, ...]
    body: bytes
    event_ids: tuple[str, ...]
