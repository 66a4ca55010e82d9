"""The end of a session: one readiness line per scenario run and a total, and the reports."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ._state import Run

if TYPE_CHECKING:
    from harness import Verdict

_SHORT = 70  # characters of a verdict summary in the total line
_NAMED = 5  # failed runs the total line names; the lines above it name them all


def readiness_lines(runs: Sequence[Run]) -> list[tuple[str, bool]]:
    """(line, holds) for each run, then the total."""
    lines = [_run_line(history.info.scenario, history.info.target_name, v) for history, v in runs]
    held = [history.info.scenario for history, v in runs if _holds(v)]
    failed = [_failed_phrase(history.info.scenario, v) for history, v in runs if not _holds(v)]
    total = f"harness: {len(held)}/{len(runs)} scenarios hold"
    if failed:
        more = len(failed) - _NAMED
        total += (
            " — fails: " + ", ".join(failed[:_NAMED]) + (f", … (+{more} more)" if more > 0 else "")
        )
    return [*lines, (total, not failed)]


def write_reports(paths: Sequence[Path], runs: Sequence[Run], journal: Path | None) -> None:
    """Every report file; the engine's writer picks the format by extension."""
    from harness import write_report

    for path in paths:
        write_report(path, runs, journal)


def _holds(verdicts: Sequence[Verdict]) -> bool:
    return all(v.passed for v in verdicts)


def _run_line(scenario: str, target_name: str, verdicts: Sequence[Verdict]) -> tuple[str, bool]:
    held = sum(v.passed for v in verdicts)
    head = f"harness: {scenario} · {target_name}: {held}/{len(verdicts)} invariants hold"
    bad = [f"{v.invariant} [{v.failure_class.value}]" for v in verdicts if not v.passed]
    return (head + (" — fails " + ", ".join(bad) if bad else ""), not bad)


def _failed_phrase(scenario: str, verdicts: Sequence[Verdict]) -> str:
    """``duplicate-storm (silent: 30 of 60 events produced duplicate effects, +1 more)``."""
    bad = [v for v in verdicts if not v.passed]
    first = bad[0]
    summary = first.summary if len(first.summary) <= _SHORT else first.summary[: _SHORT - 1] + "…"
    more = f", +{len(bad) - 1} more" if len(bad) > 1 else ""
    return f"{scenario} ({first.failure_class.value}: {summary}{more})"
