"""The minimal schedule written back as a scenario file that replays exactly that schedule."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..core._errors import InputError
from ..core._scenario import Scenario
from ..drive._drift import DRIFT_KINDS
from ..scenario._project import Project
from ..strategies import Exploration
from ._adapted import adapt, applied

_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9._-]")


def write_minimal(
    scenario: Scenario, exploration: Exploration, out: Path, project: Project | None = None
) -> Path:
    """``out``: ``scenario``'s own file with its schedule perturbations replaced by
    ``exploration``'s explicit ``schedule:`` and its fault windows added. Paths the file names
    (an example file, a recording) are written absolute, so it runs from anywhere. A built-in
    hazard ``project`` was applied to is written as it ran (``_adapted``): the project's
    events, signing, provider and retries, downstreams, expected effects and correlation."""
    origin = Path(scenario.origin)
    if not origin.is_file():
        raise InputError(
            f"scenario {scenario.name!r} was not read from a file ({scenario.origin}), so no "
            "minimal scenario file can be written from it",
            hint="explore a scenario file or a built-in scenario by name",
        )
    doc: dict[str, Any] = yaml.safe_load(origin.read_text(encoding="utf-8"))
    # A hazard over one of a project's several event sources is named hazard:type; a file's
    # name is of letters, digits, '.', '_' and '-'.
    doc["name"] = f"{_NOT_IN_NAME.sub('-', scenario.name)}-minimal"
    doc["description"] = (
        f"The minimal schedule harness explore found for {scenario.name}"
        + (f" as applied to {project.described}" if project and applied(scenario, project) else "")
        + ": "
        + "; ".join(_delivery_words(exploration))
    )
    _absolute_paths(doc, origin.parent)
    if project is not None and applied(scenario, project):
        adapt(doc, scenario, project, out)
    drift = [p for p in doc.get("perturbations", []) if _kind(p) in DRIFT_KINDS]
    if drift:
        doc["perturbations"] = drift
    else:
        doc.pop("perturbations", None)
    doc["schedule"] = [
        {"event": d.event + 1, "at": f"{d.at:g}s", **({"tamper": d.tamper} if d.tamper else {})}
        for d in exploration.schedule
    ]
    windows = [
        {"downstream": f.downstream, "mode": f.mode, "at": f"{f.at:g}s", "for": f"{f.duration:g}s"}
        for f in exploration.faults
    ]
    if windows:
        doc["faults"] = [*doc.get("faults", []), *windows]
    doc.pop("reset", None)  # a replay is one run: nothing to forget
    tracer = doc.setdefault("tracer", {})
    if isinstance(tracer, dict):
        tracer.setdefault("rewrite", True)  # as every example was run (``replayable``)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def _kind(entry: object) -> str:
    if isinstance(entry, dict) and len(entry) == 1:
        return str(next(iter(entry)))
    return str(entry)


def _absolute_paths(doc: dict[str, Any], base: Path) -> None:
    """The file paths a scenario names, relative to its own file, made absolute."""
    source = doc.get("source")
    places: list[tuple[object, str]] = []
    if isinstance(source, dict):
        places += [(source.get("synthetic"), "example_file")]
        places += [(source.get(kind), "file") for kind in ("recorded", "openapi", "schema")]
    for downstream in doc.get("downstreams") or []:
        if isinstance(downstream, dict):
            places.append((downstream.get("contract"), "file"))
    for mapping, key in places:
        if isinstance(mapping, dict) and isinstance(mapping.get(key), str):
            mapping[key] = str((base / mapping[key]).resolve())


def _delivery_words(exploration: Exploration) -> list[str]:
    """ "event 1 at 0s", "event 1 at 0s (at once with the one before)"."""
    words = []
    previous: float | None = None
    for d in exploration.schedule:
        text = f"event {d.event + 1} at {d.at:g}s"
        if previous is not None and d.at == previous:
            text += " (concurrently with the one before)"
        if d.tamper:
            text += f", {d.tamper}"
        words.append(text)
        previous = d.at
    return words
