"""The JSON report: ``harness.report/1``, a stable shape CI gates read. Extended, never broken."""

from __future__ import annotations

import json
import shlex
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._errors import InputError
from ._history import History
from ._model import Verdict

SCHEMA = "harness.report/1"


def reproduce_command(history: History) -> str:
    """One line that runs the same scenario, seed and target again."""
    info = history.info
    if info.settings.get("reproduce"):
        return str(info.settings["reproduce"])
    args = ["harness", "run", info.scenario, "--target", info.target, "--seed", str(info.seed)]
    downstream = info.settings.get("downstream")
    if downstream:
        args += ["--downstream", str(downstream)]
    return shlex.join(args)


def run_dict(history: History, verdicts: Sequence[Verdict], journal: Path | None) -> dict[str, Any]:
    info = history.info
    outcomes = Counter(d.outcome.value for d in history.deliveries)
    return {
        "run_id": info.run_id,
        "scenario": info.scenario,
        "description": info.description,
        "seed": info.seed,
        "target": info.target,
        "target_name": info.target_name,
        "model": info.model.value,
        "started_at": info.started_at,
        "status": history.status,
        "passed": all(v.passed for v in verdicts),
        "journal": str(journal) if journal else None,
        "reproduce": reproduce_command(history),
        "counts": {
            "events": len(history.events),
            "deliveries": len(history.deliveries),
            "effects": len(history.effects),
            "deliveries_by_outcome": dict(sorted(outcomes.items())),
            "unattributed_effects": sum(1 for e in history.effects if not e.event_ids),
        },
        "verdicts": [verdict_dict(v) for v in verdicts],
    }


def verdict_dict(v: Verdict) -> dict[str, Any]:
    return {
        "invariant": v.invariant,
        "status": v.status.value,
        "class": v.failure_class.value,
        "summary": v.summary,
        "evidence": {
            "lines": list(v.evidence.lines),
            "events": list(v.evidence.event_ids),
            "deliveries": list(v.evidence.delivery_ids),
            "effects": list(v.evidence.effect_ids),
        },
    }


def report_dict(
    runs: Sequence[tuple[History, Sequence[Verdict]]], journal: Path | None = None
) -> dict[str, Any]:
    items = [run_dict(h, v, journal) for h, v in runs]
    return {"schema": SCHEMA, "passed": all(r["passed"] for r in items), "runs": items}


def write_report(
    path: Path, runs: Sequence[tuple[History, Sequence[Verdict]]], journal: Path | None = None
) -> None:
    if path.suffix.lower() != ".json":
        raise InputError(
            f"cannot write a report as {path.suffix or 'a file without extension'!r}",
            where=f"--report {path}",
            hint="name the report file *.json",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report_dict(runs, journal), indent=2) + "\n", encoding="utf-8")
