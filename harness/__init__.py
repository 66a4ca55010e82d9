"""harness: prove an event-driven automation holds before handoff.

The public API. Names are imported on first use, so ``import harness`` stays cheap (the pytest
plugin imports it in every project where the package is installed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .cli._console import print_verdicts
    from .core._errors import (
        DownstreamBindError,
        HarnessError,
        InputError,
        RunAborted,
        RunError,
        ScenarioError,
        SourceError,
        TargetUnreachableError,
        UnknownScenarioError,
        UnsafeTargetError,
    )
    from .core._model import (
        Delivery,
        Effect,
        Event,
        Evidence,
        FailureClass,
        Fault,
        Model,
        Outcome,
        StateRecord,
        Status,
        Verdict,
    )
    from .core._scenario import (
        ContractSpec,
        CorrelationRule,
        DeliverySpec,
        DownstreamSpec,
        InvariantSpec,
        ObserverSpec,
        Perturbation,
        PlannedDelivery,
        RecordedSource,
        ResetSpec,
        RestartSpec,
        Route,
        Scenario,
        SchemaSource,
        Settle,
        Skipped,
        SyntheticSource,
        TracerSpec,
    )
    from .core._secret_env import check_secret_env
    from .double._downstream import Downstream
    from .drive._target import check_target, is_loopback
    from .engine import (
        PreparedRun,
        Recorder,
        RunOptions,
        RunResult,
        prepare,
        run_scenarios,
    )
    from .engine._api import run
    from .explore import (
        ExploreResult,
        ExploreSettings,
        explore_schedules,
        failure_lines,
        run_schedule,
        write_minimal,
    )
    from .history import History, RunInfo, check_journal_path, load, load_all
    from .invariants import INVARIANTS, judge, judged_specs, run_invariants
    from .report._answers import DeliveryAnswers, delivery_answers
    from .report._describe import with_recorded_ids
    from .report._redact import Redactor
    from .report._writers import check_report_path
    from .report.json import write_report
    from .scenario._hazards import Hazards, resolve_hazards
    from .scenario._load import load_scenario, resolve
    from .scenario._project import Project, find_project, load_project, without_own_ports

_WHERE = {
    "is_loopback": "drive._target",
    "check_target": "drive._target",
    "check_secret_env": "core._secret_env",
    "check_journal_path": "history",
    "check_report_path": "report._writers",
    "Downstream": "double._downstream",
    "write_report": "report.json",
    "print_verdicts": "cli._console",
    "prepare": "engine",
    "Recorder": "engine",
    "PreparedRun": "engine",
    "CorrelationRule": "core._scenario",
    "DeliverySpec": "core._scenario",
    "Delivery": "core._model",
    "DeliveryAnswers": "report._answers",
    "delivery_answers": "report._answers",
    "judged_specs": "invariants",
    "run_invariants": "invariants",
    "DownstreamBindError": "core._errors",
    "DownstreamSpec": "core._scenario",
    "ContractSpec": "core._scenario",
    "Effect": "core._model",
    "Event": "core._model",
    "Evidence": "core._model",
    "FailureClass": "core._model",
    "Fault": "core._model",
    "HarnessError": "core._errors",
    "History": "history",
    "INVARIANTS": "invariants",
    "InputError": "core._errors",
    "InvariantSpec": "core._scenario",
    "Model": "core._model",
    "ObserverSpec": "core._scenario",
    "StateRecord": "core._model",
    "Outcome": "core._model",
    "Perturbation": "core._scenario",
    "RecordedSource": "core._scenario",
    "Redactor": "report._redact",
    "Route": "core._scenario",
    "RunAborted": "core._errors",
    "RunError": "core._errors",
    "RunInfo": "history",
    "RunOptions": "engine",
    "RunResult": "engine",
    "Scenario": "core._scenario",
    "SchemaSource": "core._scenario",
    "ScenarioError": "core._errors",
    "Settle": "core._scenario",
    "Skipped": "core._scenario",
    "Hazards": "scenario._hazards",
    "resolve_hazards": "scenario._hazards",
    "Project": "scenario._project",
    "find_project": "scenario._project",
    "load_project": "scenario._project",
    "without_own_ports": "scenario._project",
    "SourceError": "core._errors",
    "Status": "core._model",
    "SyntheticSource": "core._scenario",
    "TargetUnreachableError": "core._errors",
    "TracerSpec": "core._scenario",
    "UnknownScenarioError": "core._errors",
    "UnsafeTargetError": "core._errors",
    "Verdict": "core._model",
    "judge": "invariants",
    "load": "history",
    "load_all": "history",
    "load_scenario": "scenario._load",
    "resolve": "scenario._load",
    "run": "engine._api",
    "run_scenarios": "engine",
    "explore_schedules": "explore",
    "ExploreSettings": "explore",
    "ExploreResult": "explore",
    "run_schedule": "explore",
    "failure_lines": "explore",
    "write_minimal": "explore",
    "PlannedDelivery": "core._scenario",
    "ResetSpec": "core._scenario",
    "RestartSpec": "core._scenario",
    "with_recorded_ids": "report._describe",
}

__all__ = [
    "INVARIANTS",
    "ContractSpec",
    "CorrelationRule",
    "Delivery",
    "DeliveryAnswers",
    "DeliverySpec",
    "Downstream",
    "DownstreamBindError",
    "DownstreamSpec",
    "Effect",
    "Event",
    "Evidence",
    "ExploreResult",
    "ExploreSettings",
    "FailureClass",
    "Fault",
    "HarnessError",
    "Hazards",
    "History",
    "InputError",
    "InvariantSpec",
    "Model",
    "ObserverSpec",
    "Outcome",
    "Perturbation",
    "PlannedDelivery",
    "PreparedRun",
    "Project",
    "RecordedSource",
    "Recorder",
    "Redactor",
    "ResetSpec",
    "RestartSpec",
    "Route",
    "RunAborted",
    "RunError",
    "RunInfo",
    "RunOptions",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SchemaSource",
    "Settle",
    "Skipped",
    "SourceError",
    "StateRecord",
    "Status",
    "SyntheticSource",
    "TargetUnreachableError",
    "TracerSpec",
    "UnknownScenarioError",
    "UnsafeTargetError",
    "Verdict",
    "check_journal_path",
    "check_report_path",
    "check_secret_env",
    "check_target",
    "delivery_answers",
    "explore_schedules",
    "failure_lines",
    "find_project",
    "is_loopback",
    "judge",
    "judged_specs",
    "load",
    "load_all",
    "load_project",
    "load_scenario",
    "prepare",
    "print_verdicts",
    "resolve",
    "resolve_hazards",
    "run",
    "run_invariants",
    "run_scenarios",
    "run_schedule",
    "with_recorded_ids",
    "without_own_ports",
    "write_minimal",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"harness.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
