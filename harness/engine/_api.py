"""The one-call Python entry point: run scenarios against a target and get verdicts."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from ..core._scenario import Scenario
from ..scenario._load import resolve
from ._baseline import without_baseline
from ._execute import run_scenarios
from ._options import RunOptions
from ._recorder import RunResult


def run(
    scenarios: Sequence[str | Scenario] | str | Scenario,
    target: str,
    *,
    seed: int | None = None,
    downstream: str = "127.0.0.1:9100",
    journal: str | Path | None = None,
    target_name: str | None = None,
    allow_hosts: Sequence[str] = (),
    time_scale: float | None = None,
    settle_quiet: float | None = None,
    settle_deadline: float | None = None,
    baseline: bool = True,
) -> list[RunResult]:
    """Run scenarios (names, paths or Scenario objects) against ``target``; one result each.

    ``target`` is a URL or ``module:attr`` of an ASGI app. The journal defaults to a file in
    ``harness-runs/``. ``time_scale`` compresses the scenario's timeline (default: the
    scenario's own ``time_scale``, else 1). ``settle_quiet`` and ``settle_deadline`` are real
    seconds that replace every scenario's settle times: how long the target must be quiet
    before a run ends, and how long a run waits at most. ``baseline=False`` never drives a
    clean run first (for a target that cannot take a second run). Raises HarnessError
    subclasses for bad input or an incomplete run.
    """
    items = [scenarios] if isinstance(scenarios, str | Scenario) else list(scenarios)
    resolved = [
        s for item in items for s in ([item] if isinstance(item, Scenario) else resolve([item]))
    ]
    if not baseline:
        resolved = without_baseline(resolved, "baseline=False")
    options = RunOptions.create(
        target,
        seed=seed,
        downstream=downstream,
        journal=journal,
        target_name=target_name,
        allow_hosts=allow_hosts,
        time_scale=time_scale,
        settle_quiet=settle_quiet,
        settle_deadline=settle_deadline,
    )
    return asyncio.run(run_scenarios(resolved, options))
