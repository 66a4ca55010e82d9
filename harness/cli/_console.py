"""What the CLI prints: progress while a run goes, then a table of verdicts with evidence."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..core._model import Status, Verdict
from ..engine._events import (
    DeliveryDone,
    EffectRecorded,
    EngineEvent,
    RunFinished,
    RunStarted,
    Settling,
)
from ..history import History

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


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


_MARK = {
    Status.PASS: "[green]✓[/]",
    Status.FAIL: "[bold red]✗[/]",
    Status.INCONCLUSIVE: "[yellow]?[/]",
}


def print_verdicts(runs: Sequence[tuple[History, Sequence[Verdict]]], evidence: int = 3) -> None:
    """Each run's verdicts with their summaries and, for failures, the first witnesses."""
    for history, verdicts in runs:
        info = history.info
        out.print(
            f"\n[bold]{escape(info.target_name)} · {escape(info.scenario)}[/] "
            f"({info.model.value}, seed {info.seed}): {len(history.events)} events, "
            f"{len(history.deliveries)} deliveries, {len(history.effects)} effects"
        )
        for v in verdicts:
            cls = f" [dim]\\[{v.failure_class.value}][/]" if v.status is not Status.PASS else ""
            out.print(f"  {_MARK[v.status]} {v.invariant}{cls}  {escape(v.summary)}")
            if v.status is Status.FAIL:
                for line in v.evidence.lines[:evidence]:
                    out.print(f"      {escape(line)}")
                more = len(v.evidence.lines) - evidence
                if more > 0:
                    out.print(f"      … and {more} more in the report")
    out.print()
    out.print(summary_table(runs))


def summary_table(runs: Sequence[tuple[History, Sequence[Verdict]]]) -> Table:
    """One row per run: how many invariants hold, and which failed."""
    table = Table(show_lines=False)
    for col in ("target", "scenario", "holds", "failed"):
        table.add_column(col)
    for history, verdicts in runs:
        held = sum(v.passed for v in verdicts)
        bad = [v.invariant for v in verdicts if not v.passed]
        style = "green" if not bad else "red"
        table.add_row(
            escape(history.info.target_name),
            escape(history.info.scenario),
            f"[{style}]{held}/{len(verdicts)}[/]",
            ", ".join(bad),
        )
    return table


def error(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    sys.stderr.flush()
