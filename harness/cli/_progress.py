"""The progress a run shows on a terminal while it goes: a consumer of the engine's events."""

from __future__ import annotations

import os
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..engine._events import (
    DeliveryDone,
    EffectRecorded,
    EngineEvent,
    RunFinished,
    RunStarted,
    Settling,
)
from ..history import History
from ..report._describe import newest_first
from ..report._redact import Redactor
from ._console import err, use


class ProgressView:
    """A listener that shows deliveries and effects as they happen (only on a terminal)."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._progress: Progress | None = None
        self._task: Any = None
        self._effects = 0
        self._told: set[str] = set()  # notes said once a command, not for every run

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, RunStarted):
            use(Redactor.for_runs([History(event.info, [], [], [])], os.environ))
            self._start(event)
        elif self._progress is None:
            return
        elif isinstance(event, DeliveryDone):
            self._progress.advance(self._task)
        elif isinstance(event, EffectRecorded):
            self._effects += 1
            self._progress.update(self._task, effects=self._effects)
        elif isinstance(event, Settling):
            self._progress.update(self._task, phase="settling")
        elif isinstance(event, RunFinished):
            self._progress.stop()
            self._progress = None

    def _start(self, event: RunStarted) -> None:
        for note in newest_first(event.info.settings):
            if note not in self._told:
                self._told.add(note)
                err.print(note, markup=False)
        if not err.is_terminal:
            err.print(
                f"running {event.info.scenario} against {event.info.target_name}: "
                + (
                    f"{event.planned} deliveries planned"
                    if event.planned is not None
                    else "deliveries planned as they are sent"
                )
            )
            return
        self._effects = 0
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("deliveries · {task.fields[effects]} effects · {task.fields[phase]}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        label = f"{self.label} " if self.label else ""
        self._task = self._progress.add_task(
            f"{label}{event.info.scenario}", total=event.planned, effects=0, phase="delivering"
        )
        self._progress.start()
