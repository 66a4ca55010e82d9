"""The engine's event stream. Front ends (CLI progress, pytest, Locust, reports) consume it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..core._model import Delivery, Effect, Verdict
from ..history import History, RunInfo


@dataclass(frozen=True, slots=True)
class RunStarted:
    info: RunInfo
    planned: int | None  # deliveries in the schedule; None: planned as they are sent
    downstream_url: str


@dataclass(frozen=True, slots=True)
class DeliveryDone:
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class EffectRecorded:
    effect: Effect


@dataclass(frozen=True, slots=True)
class Settling:
    quiet: float
    deadline: float


@dataclass(frozen=True, slots=True)
class RunFinished:
    history: History
    verdicts: tuple[Verdict, ...]


EngineEvent = RunStarted | DeliveryDone | EffectRecorded | Settling | RunFinished
Listener = Callable[[EngineEvent], None]
