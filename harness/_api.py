"""The one-call Python entry point: run scenarios against a target and get verdicts."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from pathlib import Path

from ._downstream import parse_address
from ._run import RunOptions, RunResult, run_scenarios
from ._scenario_yaml import resolve
from ._spec import Scenario
from ._target import parse_target


def run(
    scenarios: Sequence[str | Scenario] | str | Scenario,
    target: str,
    *,
    seed: int | None = None,
    downstream: str = "127.0.0.1:9100",
    journal: str | Path | None = None,
    target_name: str | None = None,
    allow_hosts: Sequence[str] = (),
) -> list[RunResult]:
    """Run scenarios (names, paths or Scenario objects) against ``target``; one result each.

    ``target`` is a URL or ``module:attr`` of an ASGI app. The journal defaults to a file in
    ``harness-runs/``. Raises HarnessError subclasses for bad input or an incomplete run.
    """
    items = [scenarios] if isinstance(scenarios, str | Scenario) else list(scenarios)
    resolved = [
        s for item in items for s in ([item] if isinstance(item, Scenario) else resolve([item]))
    ]
    parsed = parse_target(target, allow_hosts)
    host, port = parse_address(downstream)
    if journal is None:
        from .cli import default_journal

        journal = default_journal()
    options = RunOptions(
        target=parsed,
        target_name=target_name or parsed.label,
        seed=seed if seed is not None else random.SystemRandom().randrange(1, 2**31),
        journal=Path(journal),
        downstream_host=host,
        downstream_port=port,
    )
    return asyncio.run(run_scenarios(resolved, options))
