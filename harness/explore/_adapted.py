"""A built-in hazard applied to a project, written back as the scenario it ran as.

``harness explore duplicate-storm`` in a project folder searches the hazard over the project's
events, signed and retried as its provider does, against its downstreams (``scenario._hazards``).
The minimal file starts from the built-in's own file; ``adapt`` puts back into it what the
project changed, from the Scenario the search ran — its source (the example payload inline, a
recording's file, a schema written beside the minimal file), its model, its signing, secret
variable and provider (with the retries the run sent), its drift on the fields chosen — and,
from the project file as written, its downstreams, expected effects and correlation rules, with
the faults opened on those downstreams. Run again, the file tests what failed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from ..core._providers import PROVIDERS, Provider
from ..core._scenario import (
    FaultSpec,
    Perturbation,
    RecordedSource,
    Scenario,
    SchemaSource,
    Source,
)
from ..drive._sources import given_paths
from ..scenario._hazards import is_builtin
from ..scenario._project import Project


def applied(scenario: Scenario, project: Project | None) -> bool:
    """Whether ``scenario`` is a built-in hazard that ``project`` changed."""
    return project is not None and project.gives_anything and is_builtin(scenario)


def adapt(doc: dict[str, Any], scenario: Scenario, project: Project, out: Path) -> None:
    """Put into ``doc`` (the built-in's file, read) what ``project`` made of it in
    ``scenario``; a schema source's schema is written beside ``out``."""
    doc["source"] = _source(scenario.source, out)
    doc["model"] = scenario.model.value
    delivery = doc.setdefault("delivery", {})
    delivery["signing"] = scenario.delivery.signing
    delivery["secret_env"] = scenario.delivery.secret_env
    provider = scenario.delivery.provider
    if provider is None:
        doc.pop("provider", None)
    else:
        doc["provider"] = _provider(provider)
    doc["perturbations"] = [_perturbation(p) for p in scenario.perturbations]
    written = _project_doc(project)
    for key in ("downstreams", "expect", "correlate"):
        if getattr(project, key) and key in written:
            doc[key] = written[key]
    if project.downstreams:
        doc["faults"] = [_fault(f) for f in scenario.faults]


def _source(source: Source, out: Path) -> dict[str, Any]:
    if isinstance(source, RecordedSource):
        recorded: dict[str, Any] = {
            "file": str(Path(source.path).resolve()),
            "id": source.id_path,
            "key": source.key_path,
            "type": source.type_path,
            "redeliveries": source.redeliveries,
        }
        if source.over is not None:
            recorded["over"] = source.over
        if source.format is not None:
            recorded["format"] = source.format
        har = {"url": source.har_url, "path": source.har_path}
        if any(har.values()):
            recorded["har"] = {k: v for k, v in har.items() if v is not None}
        return {"recorded": recorded}
    made: dict[str, Any] = {
        "events": source.events,
        "records": source.records,
        "over": source.over,
        "types": list(source.types),
    }
    # A path at its default is left out, as the project left it: one given is checked against
    # the example (Attio's record.updated has no $.id, which its events are given there).
    made.update(given_paths(source))
    if isinstance(source, SchemaSource):
        schema = out.with_name(f"{out.stem}.schema.json")
        schema.parent.mkdir(parents=True, exist_ok=True)
        schema.write_text(json.dumps(source.schema, indent=2), encoding="utf-8")
        return {"schema": {"file": str(schema.resolve()), **made}}
    if source.same:
        made["same"] = list(source.same)
    return {"synthetic": {"example": source.example, **made}}


def _provider(provider: Provider) -> dict[str, Any]:
    """``{name, retries}``: the retries as a count where they are the profile's first ones,
    else as the delays; its ack timeout and batch window where they are not the profile's."""
    profile = PROVIDERS[provider.name]
    found: dict[str, Any] = {"name": provider.name}
    sent = provider.retries
    found["retries"] = len(sent) if sent == profile.retries[: len(sent)] else list(sent)
    if provider.timeout is not None and provider.timeout != profile.timeout:
        found["timeout"] = provider.timeout
    if provider.batch_window != profile.batch_window:
        found["batch_window"] = provider.batch_window
    return found


def _perturbation(p: Perturbation) -> dict[str, Any]:
    return {p.kind: {k: list(v) if isinstance(v, tuple) else v for k, v in p.params.items()}}


_FAULT_DEFAULTS = {f.name: f.default for f in fields(FaultSpec)}
_FAULT_KEYS = {"duration": "for"}


def _fault(f: FaultSpec) -> dict[str, Any]:
    """The fault as a file writes it: its downstream, mode and window, and the parameters
    that are not their defaults."""
    found: dict[str, Any] = {"downstream": f.downstream, "mode": f.mode, "at": f.at}
    found["for"] = f.duration
    for name, default in _FAULT_DEFAULTS.items():
        value = getattr(f, name)
        if name not in ("downstream", "mode", "at", "duration") and value != default:
            found[_FAULT_KEYS.get(name, name)] = value
    return found


def _project_doc(project: Project) -> Mapping[str, Any]:
    """The project file as written (its downstreams, expected effects and correlation rules
    are written as a scenario writes them), the files its downstreams name made absolute;
    nothing for a project made of flags (they give none of those)."""
    path = Path(project.origin)
    if not path.is_file():
        return {}
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        return {}
    for downstream in doc.get("downstreams") or []:
        contract = downstream.get("contract") if isinstance(downstream, dict) else None
        if isinstance(contract, dict) and isinstance(contract.get("file"), str):
            contract["file"] = str((path.parent / contract["file"]).resolve())
    return doc
