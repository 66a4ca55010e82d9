"""Scenario files as test items: file -> scenario -> one item per invariant.

``duplicate-storm.scenario.yaml::duplicate-storm::no_duplicate_effects``. The items of one
scenario share one run: the first to set up drives it, each judges from its verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import _drive
from ._failure import VerdictFailed, fail_plainly, run_error_message, verdict_failure
from ._settings import Settings, relative
from ._state import state_of

if TYPE_CHECKING:
    from harness import InvariantSpec, RunResult, Scenario

_NO_TARGET = (
    "no harness target: pass --harness-target URL (or module:attr of an ASGI app), "
    "or set harness_target in [tool.pytest.ini_options]"
)


class ScenarioError(Exception):
    """A scenario file that cannot be collected; its message says where and how to fix it."""


class ScenarioFile(pytest.File):
    """A scenario YAML file, validated at collection."""

    def collect(self) -> Iterator[ScenarioNode]:
        from harness import HarnessError, load_scenario

        try:
            scenario = load_scenario(Path(relative(self.path, self.config)))
        except HarnessError as exc:
            raise ScenarioError(str(exc)) from None
        yield _node(self, scenario)

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> Any:
        if isinstance(excinfo.value, ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ProjectFile(ScenarioFile):
    """The project file, harness.yaml: one node per hazard it names, applied to the project;
    a hazard that does not apply is one skipped item saying why."""

    def collect(self) -> Iterator[ScenarioNode | SkippedHazard]:  # type: ignore[override]
        from harness import HarnessError, resolve_hazards

        project = state_of(self.config).settings.project
        assert project is not None  # collected only as the session's project file
        try:
            hazards = resolve_hazards(project.hazards, project)
        except HarnessError as exc:
            raise ScenarioError(str(exc)) from None
        for scenario in hazards.scenarios:
            yield _node(self, scenario)
        for skipped in hazards.skipped:
            if skipped.not_tried:
                state_of(self.config).not_tried(skipped.name, skipped.reason)
            yield SkippedHazard.from_parent(self, name=skipped.name, said=skipped.said)


class SkippedHazard(pytest.Item):
    """A hazard that does not apply to the project, or is not tried for want of a setting:
    skipped, saying which and why."""

    def __init__(self, *, said: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker(pytest.mark.skip(reason=said))

    def runtest(self) -> None:
        raise AssertionError("a skipped hazard never runs")  # the skip mark stops it first

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"hazard {self.name} (does not apply)"


class LeftOutItem(pytest.Item):
    """An invariant the project leaves out (``leave_out:``): skipped, with the project's
    reason; never judged, so never a pass."""

    def __init__(self, *, reason: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_marker(pytest.mark.skip(reason=f"{self.name} left out by the project: {reason}"))

    def runtest(self) -> None:
        raise AssertionError("a left-out invariant is never judged")  # the skip mark stops it

    def reportinfo(self) -> tuple[Path, int, str]:
        assert self.parent is not None
        return self.path, 0, f"scenario {self.parent.name} · invariant {self.name} (left out)"


def _node(parent: pytest.File, scenario: Scenario) -> ScenarioNode:
    """The node of one scenario, with its marks (``harness`` and the scenario's own)."""
    node = ScenarioNode.from_parent(parent, name=scenario.name, scenario=scenario)
    for mark in ("harness", *scenario.marks):
        try:
            node.add_marker(mark)
        except pytest.fail.Exception as exc:  # --strict-markers and an unknown mark
            raise ScenarioError(
                f"{scenario.origin}: marks: {mark!r} is not a registered marker ({exc}) — "
                'register it in [tool.pytest.ini_options] markers = ["'
                f'{mark}: ..."], or run without --strict-markers'
            ) from None
    return node


class ScenarioNode(pytest.Collector):
    """One scenario: its items, and the run they share."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self._result: RunResult | None = None
        self._error: BaseException | None = None  # the run's failure, told by every item

    def collect(self) -> Iterator[ScenarioItem | LeftOutItem]:
        specs = _specs(self.scenario)
        names = [s.name for s in specs]
        no_target = state_of(self.config).settings.target is None
        for index, spec in enumerate(specs):
            name = spec.name if names.count(spec.name) == 1 else _with_params(spec)
            item = ScenarioItem.from_parent(self, name=name, index=index)
            # `-k duplicate-storm::no_duplicate_effects` selects it, as JUnit shows it.
            item.extra_keyword_matches.add(f"{self.scenario.name}::{name}")
            if no_target:  # a project with scenario files but no target configured still passes
                item.add_marker(pytest.mark.skip(reason=_NO_TARGET))
            yield item
        for name, reason in self.scenario.left_out:
            yield LeftOutItem.from_parent(self, name=name, reason=reason)

    @property
    def result(self) -> RunResult | None:
        """The scenario's run, once driven."""
        return self._result

    def run_once(self) -> RunResult:
        """The scenario's run, driven on the first call."""
        settings = state_of(self.config).settings
        assert settings.target is not None  # collect() marked the items skipped otherwise
        if self._error is not None:
            raise self._error
        if self._result is None:
            try:
                self._result = self._drive(settings, settings.target)
            except (Exception, pytest.fail.Exception) as exc:
                self._error = exc
                raise
        return self._result

    def _drive(self, settings: Settings, target: str) -> RunResult:
        from harness import HarnessError

        selector = relative(self.path, self.config) + "::" + self.name
        plan = _drive.plan_for(settings, target, settings.seed, selector)
        scenario = _drive.adjusted(self.scenario, settings)
        try:
            with _drive.configured_routing(settings, target) as routing:
                result = _drive.drive_blocking(scenario, plan, routing)
        except HarnessError as exc:
            if settings.traceback:
                raise
            fail_plainly(run_error_message(scenario.name, scenario.origin, exc))
        state_of(self.config).record(result, plan.journal)
        return result


class ScenarioItem(pytest.Item):
    """One invariant of one scenario: passes when its verdict is ``pass``."""

    def __init__(self, *, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.index = index

    @property
    def scenario_node(self) -> ScenarioNode:
        assert isinstance(self.parent, ScenarioNode)
        return self.parent

    def setup(self) -> None:
        self.scenario_node.run_once()

    def runtest(self) -> None:
        result = self.scenario_node.run_once()
        verdict = result.verdicts[self.index]
        info = result.history.info
        self.user_properties += [
            ("scenario", info.scenario),
            ("invariant", verdict.invariant),
            ("status", verdict.status.value),
            ("class", verdict.failure_class.value),
            ("seed", info.seed),
            ("run_id", info.run_id),
        ]
        if not verdict.passed:
            raise VerdictFailed(result.history, verdict)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        error = excinfo.value
        if not isinstance(error, VerdictFailed):
            return super().repr_failure(excinfo, style)
        failure = verdict_failure(error.history, error.verdict, str(self.path))
        if state_of(self.config).settings.traceback:
            # From this module on: pytest's own frames above it say nothing about the run.
            excinfo.traceback = excinfo.traceback.cut(path=Path(__file__))
            tb = str(excinfo.getrepr(style="long"))
            return type(failure)(failure.rows, failure.reprcrash, tb)
        return failure

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.scenario_node.name} · invariant {self.name}"


def _specs(scenario: Scenario) -> tuple[InvariantSpec, ...]:
    """The scenario's invariants, in the order the engine judges them (the defaults, when none
    named, and accepts_genuine where its deliveries are signed: ``run_invariants``), then those
    judged in every run (target_available): one item each."""
    from harness import INVARIANTS, InvariantSpec, judged_specs, run_invariants

    named = run_invariants(scenario) or tuple(
        InvariantSpec(name) for name, d in INVARIANTS.items() if d.by_default
    )
    return judged_specs(named)


def _with_params(spec: InvariantSpec) -> str:
    """``ack_within[seconds=1.5]``: tells apart one invariant named twice with other params."""
    params = ",".join(f"{k}={v}" for k, v in sorted(spec.params.items()))
    return f"{spec.name}[{params}]"
