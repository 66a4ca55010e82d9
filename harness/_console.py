"""What the CLI prints: progress while a run goes, then a table of verdicts with evidence."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ._events import DeliveryDone, EffectRecorded, EngineEvent, RunFinished, RunStarted, Settling
from ._history import History
from ._model import Status, Verdict

_STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.INCONCLUSIVE: "yellow"}

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False)


class ProgressView:
    """A listener that shows deliveries and effects as they happen (only on a terminal)."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._progress: Progress | None = None
        self._task: Any = None
        self._effects = 0

    def __call__(self, event: EngineEvent) -> None:
        if isinstance(event, RunStarted):
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
        if not err.is_terminal:
            err.print(
                f"running {event.info.scenario} against {event.info.target_name}: "
                f"{event.planned} deliveries planned"
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


def verdict_table(runs: Sequence[tuple[History, Sequence[Verdict]]], title: str = "") -> Table:
    table = Table(title=title or None, show_lines=False, expand=False)
    for col in ("target", "scenario", "invariant", "verdict", "class", "summary"):
        table.add_column(col, overflow="fold")
    for history, verdicts in runs:
        for v in verdicts:
            table.add_row(
                history.info.target_name,
                history.info.scenario,
                v.invariant,
                f"[{_STYLE[v.status]}]{v.status.value}[/]",
                v.failure_class.value if v.status is not Status.PASS else "",
                escape(v.summary),
            )
    return table


def print_verdicts(runs: Sequence[tuple[History, Sequence[Verdict]]], evidence: int = 3) -> None:
    out.print(verdict_table(runs))
    for history, verdicts in runs:
        for v in verdicts:
            if v.status is Status.FAIL and v.evidence.lines:
                out.print(
                    f"[bold red]✗[/] {history.info.target_name} · {history.info.scenario} · "
                    f"{v.invariant}:"
                )
                for line in v.evidence.lines[:evidence]:
                    out.print(f"    {escape(line)}")
                more = len(v.evidence.lines) - evidence
                if more > 0:
                    out.print(f"    … and {more} more in the report")


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.stderr.flush()
