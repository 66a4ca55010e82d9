"""The CI job summary: when ``GITHUB_STEP_SUMMARY`` names a file (GitHub Actions sets it for
every step), ``run``, ``check`` and ``report`` append the verdict, the scenario-by-invariant
matrix, the refusals and the failures to it, in Markdown, redacted as every report is.

A summary that cannot be written is a warning, never a failed run: the verdicts and the exit
code are the run's, not the summary file's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..core._model import Verdict
from ..history import History

if TYPE_CHECKING:
    from ..report._views import Report

VARIABLE = "GITHUB_STEP_SUMMARY"


def append_runs(
    runs: Sequence[tuple[History, Sequence[Verdict]]],
    journal: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> None:
    """Append the summary of ``runs`` when the variable is set; build nothing otherwise."""
    env = os.environ if environ is None else environ
    if not env.get(VARIABLE):
        return
    from ..report._content import build_report, inputs

    append_report(build_report(inputs(runs, journal), environ=env), env)


def append_report(report: Report, environ: Mapping[str, str] | None = None) -> None:
    """Append the summary of a built (already redacted) ``report`` when the variable is set."""
    env = os.environ if environ is None else environ
    target = env.get(VARIABLE)
    if not target:
        return
    from ..report.markdown import render_summary
    from ._console import err

    try:
        with open(target, "a", encoding="utf-8") as f:
            f.write(render_summary(report))
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        err.print(
            f"[yellow]warning:[/] could not append the job summary to {target} ({why}); "
            "the verdicts and the exit code are not affected",
            markup=True,
            highlight=False,
        )
