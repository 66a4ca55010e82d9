"""harness: prove an event-driven automation holds before handoff.

The public API. Names are imported on first use, so ``import harness`` stays cheap (the pytest
plugin imports it in every project where the package is installed).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._api import run
    from ._console import print_verdicts
    from ._downstream import Downstream
    from ._errors import (
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
    from ._history import History, InvariantSpec, RunInfo, load, load_all
    from ._invariants import INVARIANTS, judge
    from ._model import (
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
    from ._report_json import write_report
    from ._run import PreparedRun, Recorder, RunOptions, RunResult, prepare, run_scenarios
    from ._scenario_yaml import load_scenario, resolve
    from ._spec import (
        DeliverySpec,
        DownstreamSpec,
        ObserverSpec,
        Perturbation,
        RecordedSource,
        Route,
        Scenario,
        Settle,
        SyntheticSource,
    )
    from ._target import is_loopback

_WHERE = {
    "is_loopback": "_target",
    "Downstream": "_downstream",
    "write_report": "_report_json",
    "print_verdicts": "_console",
    "prepare": "_run",
    "Recorder": "_run",
    "PreparedRun": "_run",
    "DeliverySpec": "_spec",
    "Delivery": "_model",
    "DownstreamBindError": "_errors",
    "DownstreamSpec": "_spec",
    "Effect": "_model",
    "Event": "_model",
    "Evidence": "_model",
    "FailureClass": "_model",
    "Fault": "_model",
    "HarnessError": "_errors",
    "History": "_history",
    "INVARIANTS": "_invariants",
    "InputError": "_errors",
    "InvariantSpec": "_history",
    "Model": "_model",
    "ObserverSpec": "_spec",
    "StateRecord": "_model",
    "Outcome": "_model",
    "Perturbation": "_spec",
    "RecordedSource": "_spec",
    "Route": "_spec",
    "RunAborted": "_errors",
    "RunError": "_errors",
    "RunInfo": "_history",
    "RunOptions": "_run",
    "RunResult": "_run",
    "Scenario": "_spec",
    "ScenarioError": "_errors",
    "Settle": "_spec",
    "SourceError": "_errors",
    "Status": "_model",
    "SyntheticSource": "_spec",
    "TargetUnreachableError": "_errors",
    "UnknownScenarioError": "_errors",
    "UnsafeTargetError": "_errors",
    "Verdict": "_model",
    "judge": "_invariants",
    "load": "_history",
    "load_all": "_history",
    "load_scenario": "_scenario_yaml",
    "resolve": "_scenario_yaml",
    "run": "_api",
    "run_scenarios": "_run",
}

__all__ = [
    "INVARIANTS",
    "Delivery",
    "DeliverySpec",
    "Downstream",
    "DownstreamBindError",
    "DownstreamSpec",
    "Effect",
    "Event",
    "Evidence",
    "FailureClass",
    "Fault",
    "HarnessError",
    "History",
    "InputError",
    "InvariantSpec",
    "Model",
    "ObserverSpec",
    "Outcome",
    "Perturbation",
    "PreparedRun",
    "RecordedSource",
    "Recorder",
    "Route",
    "RunAborted",
    "RunError",
    "RunInfo",
    "RunOptions",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Settle",
    "SourceError",
    "StateRecord",
    "Status",
    "SyntheticSource",
    "TargetUnreachableError",
    "UnknownScenarioError",
    "UnsafeTargetError",
    "Verdict",
    "is_loopback",
    "judge",
    "load",
    "load_all",
    "load_scenario",
    "prepare",
    "print_verdicts",
    "resolve",
    "run",
    "run_scenarios",
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
