"""The History of a run in memory, and the RunInfo that says what was run."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ..core._model import Delivery, Effect, Event, Fault, Model, StateRecord
from ..core._scenario import InvariantSpec
from ._schema import SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class RunInfo:
    """What was run: enough to reproduce it and to re-judge it offline."""

    run_id: str
    scenario: str
    seed: int
    target: str
    target_name: str
    model: Model
    invariants: tuple[InvariantSpec, ...]
    started_at: str
    tracer_tag: str
    description: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "run_id": self.run_id,
                "scenario": self.scenario,
                "seed": self.seed,
                "target": self.target,
                "target_name": self.target_name,
                "model": self.model.value,
                "invariants": [{"name": i.name, "params": dict(i.params)} for i in self.invariants],
                "started_at": self.started_at,
                "tracer_tag": self.tracer_tag,
                "description": self.description,
                "settings": dict(self.settings),
                "schema_version": SCHEMA_VERSION,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> RunInfo:
        d = json.loads(text)
        return cls(
            run_id=d["run_id"],
            scenario=d["scenario"],
            seed=d["seed"],
            target=d["target"],
            target_name=d["target_name"],
            model=Model(d["model"]),
            invariants=tuple(InvariantSpec(i["name"], i["params"]) for i in d["invariants"]),
            started_at=d["started_at"],
            tracer_tag=d["tracer_tag"],
            description=d.get("description", ""),
            settings=d.get("settings", {}),
        )


@dataclass(frozen=True, slots=True)
class Mark:
    at: float
    name: str
    detail: str = ""


# Most events, and effects without headers, share this one empty mapping.
NO_HEADERS: Mapping[str, str] = MappingProxyType({})


@dataclass(slots=True)
class History:
    """The record of one run, in memory. Invariants read it and nothing else.

    ``states``: the downstreams' final state, taken at the end of the run (stateful doubles,
    an observer). ``baseline``: the clean run this one is compared with, when it names one.
    ``late_effects``: effects that arrived after the final state was taken (while the next
    run of the journal went, or while the target quieted down before it): shown, never judged.
    """

    info: RunInfo
    events: Sequence[Event]
    deliveries: Sequence[Delivery]
    effects: Sequence[Effect]
    faults: list[Fault] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)
    status: str = "complete"
    ended_at: float | None = None
    states: list[StateRecord] = field(default_factory=list)
    baseline: History | None = None
    late_effects: list[Effect] = field(default_factory=list)
