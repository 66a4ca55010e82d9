"""The ``harness_run`` fixture: run a scenario from a Python test and get its verdicts."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from . import _drive
from ._failure import fail_plainly
from ._redaction import redacted
from ._result import HarnessResult
from ._routing import HttpxRouting
from ._state import State

if TYPE_CHECKING:
    from harness import Project, Scenario


class Runner:
    """``harness_run(scenario, target=None, seed=None)``: one run, judged, as a HarnessResult.

    ``scenario`` is a ``harness.Scenario`` built in Python, a built-in scenario name
    (``"duplicate-storm"``), or a ``pathlib.Path`` to a scenario file. ``target`` defaults to
    --harness-target (the test is skipped when neither is given), ``seed`` to the session's.
    A run that cannot be completed fails the test with the engine's message.
    """

    def __init__(self, state: State, selector: str, routing: HttpxRouting | None) -> None:
        self._state = state
        self._selector = selector  # the test's node id, for the reproduce line
        self._routing = routing  # harness_respx's, when the test asked for it

    def __call__(
        self,
        scenario: str | os.PathLike[str] | Scenario,
        *,
        target: str | None = None,
        seed: int | None = None,
    ) -> HarnessResult:
        __tracebackhide__ = True  # a skip or failure points at the test's line
        if _loop_running():
            raise RuntimeError(
                "harness_run(...) was called inside a running event loop (an async test): "
                "use `await harness_run.arun(...)` there"
            )
        with self._guard():
            loaded, plan = self._prepare(scenario, target, seed)
            with self._routing_for(plan.target) as routing:
                result = _drive.drive_blocking(loaded, plan, routing)
        self._state.record(result, plan.journal)
        return HarnessResult(result)

    async def arun(
        self,
        scenario: str | os.PathLike[str] | Scenario,
        *,
        target: str | None = None,
        seed: int | None = None,
    ) -> HarnessResult:
        """The same from an async test; the run shares the test's event loop."""
        __tracebackhide__ = True
        with self._guard():
            loaded, plan = self._prepare(scenario, target, seed)
            with self._routing_for(plan.target) as routing:
                result = await _drive.drive(loaded, plan, routing)
        self._state.record(result, plan.journal)
        return HarnessResult(result)

    def _prepare(
        self, scenario: str | os.PathLike[str] | Scenario, target: str | None, seed: int | None
    ) -> tuple[Scenario, _drive.RunPlan]:
        __tracebackhide__ = True
        settings = self._state.settings
        chosen = target or settings.target
        if chosen is None:
            pytest.skip(
                "no harness target: pass target= to harness_run, or --harness-target "
                "(harness_target in [tool.pytest.ini_options])"
            )
        loaded = _drive.adjusted(_load(scenario, settings.project, self._state), settings)
        run_seed = settings.seed if seed is None else seed
        return loaded, _drive.plan_for(settings, chosen, run_seed, self._selector)

    @contextlib.contextmanager
    def _routing_for(self, target: str) -> Iterator[HttpxRouting | None]:
        if self._routing is not None:  # started by the harness_respx fixture
            yield self._routing
            return
        with _drive.configured_routing(self._state.settings, target) as routing:
            yield routing

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """Bad input or an incomplete run fails the test with the engine's message alone."""
        __tracebackhide__ = True
        from harness import HarnessError

        try:
            yield
        except HarnessError as exc:
            if self._state.settings.traceback:
                raise
            fail_plainly(redacted(f"harness_run: {exc}"))


def _loop_running() -> bool:
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _load(
    scenario: str | os.PathLike[str] | Scenario, project: Project | None, state: State
) -> Scenario:
    """The scenario to run; a built-in name is applied to the project as a hazard (a hazard
    that does not apply skips the test, saying why; one not tried is kept for the reports)."""
    __tracebackhide__ = True
    import harness

    if isinstance(scenario, harness.Scenario):
        return scenario
    if isinstance(scenario, os.PathLike):
        return harness.load_scenario(Path(scenario))
    hazards = harness.resolve_hazards([scenario], project)
    for skipped in hazards.skipped:
        if skipped.not_tried:
            state.not_tried(skipped.name, skipped.reason)
    if hazards.skipped and not hazards.scenarios:
        pytest.skip(hazards.skipped[0].said)
    return hazards.one(scenario, "harness_run")
