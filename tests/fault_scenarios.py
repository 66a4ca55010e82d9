"""Small fault scenarios for the run tests: one fault window of each mode, seconds of wall time.

Built in Python from the built-in ``downstream-outage`` (payouts to a downstream named api):
12 events over 30 s of scenario time, the fault from 2 s for 20 s, at time scale 0.02.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness.cli._processes import Service, free_port
from harness.core._scenario import FaultSpec, Perturbation, Scenario, Settle, SyntheticSource
from harness.engine import RunOptions, RunResult, run_side_by_side
from harness.history import merge_journals
from harness.scenario._load import resolve

from .conftest import SECRET, start_module

SCALE = 0.02


def fault_scenario(
    mode: str, *, replay: bool = False, quiet: float = 75.0, **params: Any
) -> Scenario:
    """``mode`` on the api downstream from 2 s for 20 s (0.04-0.44 s of wall time).

    The default quiet, 1.5 s of wall time, outlasts a one-second Retry-After wait of an
    automation that retries; one that never retries needs less.
    """
    base = resolve(["downstream-outage"])[0]
    assert isinstance(base.source, SyntheticSource)
    at, duration = (0.0, 30.0) if replay else (2.0, 20.0)
    return replace(
        base,
        name=f"compact-{mode}",
        source=replace(base.source, events=12, records=6, over=30.0),
        # The sender delivers everything again after the window: what a provider does after
        # failed acknowledgements.
        perturbations=(Perturbation("replay", {"times": 1, "gap": 10.0}),) if replay else (),
        faults=(FaultSpec("api", mode, at, duration, **params),),
        time_scale=SCALE,
        settle=Settle(quiet, 600.0),
    )


@contextmanager
def automation(module: str, *args: str, state: Path | None = None) -> Iterator[tuple[str, int]]:
    """A webhook receiver process on loopback: (its hook URL, the port of its downstream)."""
    port = free_port()
    extra = ["--state-dir", str(state)] if state is not None else []
    service: Service = start_module(
        module.rsplit(".", 1)[-1],
        module,
        ["--port", "0", "--downstream", f"http://127.0.0.1:{port}", *args, *extra],
        {"HARNESS_SECRET": SECRET},
    )
    try:
        yield service.url + "/hooks/orders", port
    finally:
        service.stop()


def run_side_by_side_on(
    module: str,
    scenarios: Sequence[str | Scenario],
    journal: Path,
    *args: str,
    seed: int,
    state: Path | None = None,
    instances: int = 3,
    settle_quiet: float | None = None,
) -> list[RunResult]:
    """``scenarios`` (names or Scenarios) shared out among ``instances`` processes of the
    automation ``module`` (``engine.run_side_by_side``), as ``harness demo`` shares its suite:
    each scenario runs once, against one instance, as it would alone. Their journals are merged
    into ``journal``; ``state``: the sound automation's state folder (one per instance);
    ``settle_quiet``: real seconds replacing the scenarios' settle quiet. At most one instance
    per scenario."""
    resolved = [
        s for item in scenarios for s in ([item] if isinstance(item, Scenario) else resolve([item]))
    ]
    instances = min(instances, len(resolved))
    parts = [journal.with_name(f"{journal.stem}-{k}.db") for k in range(instances)]
    with ExitStack() as stack:
        hooks = [
            stack.enter_context(
                automation(module, *args, state=state / str(k) if state is not None else None)
            )
            for k in range(instances)
        ]
        options = [
            RunOptions.create(
                hook,
                seed=seed,
                downstream=f"127.0.0.1:{port}",
                journal=part,
                settle_quiet=settle_quiet,
            )
            for (hook, port), part in zip(hooks, parts, strict=True)
        ]
        results = asyncio.run(run_side_by_side(resolved, options))
    merge_journals(journal, parts)
    return results
