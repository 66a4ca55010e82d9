"""The JSON report: ``harness.report/1``, a stable shape CI gates read. Extended, never broken.

Built, like every format, from the redacted report content (``harness.report``): the
members of the first version keep their names and meaning; later ones are only added.
``write_report`` picks the format from the file's extension (see ``harness.report._writers``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core._model import Verdict
from ..core._quantiles import Quantiles
from ..core._scenario import Skipped
from ..history import History
from ._answers import CommonAnswer
from ._content import RunInput, build_report, inputs, reproduce_command
from ._trends import Trend
from ._views import (
    AreaView,
    Comparison,
    PrincipleView,
    Report,
    ScenarioView,
    TargetView,
    VerdictView,
)
from ._year import MonthFigures, YearView

SCHEMA = "harness.report/1"

__all__ = [
    "SCHEMA",
    "document",
    "render_json",
    "report_dict",
    "reproduce_command",
    "run_dict",
    "verdict_dict",
    "write_report",
]


def run_dict(history: History, verdicts: Sequence[Verdict], journal: Path | None) -> dict[str, Any]:
    """One run as the report shows it (redacted)."""
    return _run(build_report([RunInput(history, verdicts, journal)]).scenarios[0])


def verdict_dict(v: Verdict) -> dict[str, Any]:
    """One verdict as its own data, unredacted: for callers that hold a bare Verdict."""
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
    return document(build_report(inputs(runs, journal)))


def render_json(report: Report) -> str:
    return json.dumps(document(report), indent=2, ensure_ascii=False) + "\n"


def document(report: Report) -> dict[str, Any]:
    """The whole ``harness.report/1`` document of a (redacted) report."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "passed": all(s.passed for s in report.scenarios),
        "runs": [_run(s) for s in report.scenarios],
        # Added with the readiness report:
        "ready": report.ready,
        "verdict": report.verdict,
        "headline": report.headline,
        "targets": [_target(t) for t in report.targets],
        "handoff": {
            "rerun": list(report.rerun),
            "advice": [
                {"key": a.key, "title": a.title, "text": a.text, "seen_in": list(a.seen_in)}
                for a in report.advice
            ],
        },
    }
    if report.comparison is not None:
        doc["comparison"] = _comparison(report.comparison)
    # Added with project files: hazards that did not apply, neither held nor failed; and those
    # not tried for want of a setting (``not_tried``), which keep the report from Ready.
    doc["skipped"] = [
        {"scenario": s.name, "reason": s.reason, "not_tried": s.not_tried} for s in report.skipped
    ]
    # Added with leave_out: invariants the project left out, not judged, each with its reason.
    doc["left_out"] = [
        {"invariant": x.invariant, "reason": x.reason, "scenarios": list(x.scenarios)}
        for x in report.left_out
    ]
    # Added with the twelve-month run (#17): only when the runs are month runs.
    if report.year is not None:
        doc["year"] = _year(report.year)
    return doc


def _year(y: YearView) -> dict[str, Any]:
    return {
        "survived": y.survived,
        "answer": y.answer,
        "broke": [
            {
                "month": b.index,
                "label": b.month,
                "what": b.what,
                "why": b.why,
                "cost": b.cost,
                "projected": b.projected,
            }
            for b in y.broke
        ],
        "untested": list(y.untested),
        "ack_limit": {"seconds": y.limit, "name": y.limit_name},
        "months": [_month(m) for m in y.months],
        "trends": [_trend(t) for t in y.trends],
    }


def _month(m: MonthFigures) -> dict[str, Any]:
    return {
        "month": m.index,
        "label": m.month,
        "run_id": m.run_id,
        "status": m.status,
        "passed": m.passed,
        "events": m.events,
        "deliveries": m.deliveries,
        "accepted": m.accepted,
        "ack_latency": _quantiles(m.ack),
        "effect_lag": _quantiles(m.lag),
        "errors": m.errors,
        "error_rate": m.error_rate,
        "refusals": m.refusals,
        "refusal_rate": m.refusal_rate,
        "lost": m.lost,
        "duplicated": m.duplicated,
        "late": m.late,
        "downstream_errors": m.downstream_errors,
        "memory_mb": m.memory_mb,
        "memory_samples": m.samples,
        "life": [
            {"kind": x.kind, "on": x.on, "title": x.title, "skipped": x.skipped or None}
            for x in m.life
        ],
        "failed": list(m.failed),
        "inconclusive": list(m.inconclusive),
    }


def _trend(t: Trend) -> dict[str, Any]:
    fit = t.fit
    return {
        "measure": t.measure,
        "status": t.status,
        "text": t.text,
        "unit": t.unit,
        "per_events": t.per,
        "rate": t.rate,
        "limit": t.limit if t.limit is not None and t.limit != float("inf") else None,
        "month": t.month,
        "label": t.month_label,
        "measured": t.observed_crossing,
        "fit": None
        if fit is None
        else {
            "method": "theil-sen",
            "slope": fit.slope,
            "intercept": fit.intercept,
            "slope_95": [fit.lower, fit.upper],
            "points": fit.points,
        },
        "points": [[round(x, 3), round(y, 6)] for x, y in t.points],
        "projected": [{"label": label, "value": v} for label, v in t.projected],
    }


def _run(s: ScenarioView) -> dict[str, Any]:
    c = s.counts
    return {
        "run_id": s.run_id,
        "scenario": s.scenario,
        "description": s.description,
        "seed": s.seed,
        "target": s.target,
        "target_name": s.target_name,
        "model": s.model,
        "started_at": s.started_at,
        "status": s.status,
        "passed": s.passed,  # every verdict passed and the run completed, as the top level's
        "journal": s.journal,
        "reproduce": s.reproduce,
        "counts": {
            "events": c.events,
            "deliveries": c.deliveries,
            "effects": c.effects,
            "deliveries_by_outcome": dict(c.by_outcome),
            "unattributed_effects": c.unattributed,
            "effects_naming_only_their_record": c.record_only,
            "records": c.records,
            "events_delivered_more_than_once": c.repeated,
            # Added with target_available:
            "deliveries_by_answer": {
                "accepted": c.answers.accepted,
                "rejected": c.answers.rejected,
                "failed": c.answers.failed,
                "unanswered": c.answers.unanswered,
            },
            "most_common_answer": _common(c.answers.most_common),
        },
        "verdicts": [_verdict(v) for v in s.verdicts],
        # When the target accepted fewer than half of the genuine deliveries (#13).
        "refused": s.refused or None,
        "likely_cause": s.cause or None,
        "done": list(s.done),
        "faults": list(s.faults),
        # Added with deploys in the year: each restart the run made (docs/report-json.md).
        "restarts": [d.as_json() for d in s.deploys],
        "ack_latency": _quantiles(s.latency),
        "effect_lag": _quantiles(s.lag),
        # Added with the workers' clocks: a distributed load test's only (docs/load-testing.md).
        **({"clocks": dict(s.clocks)} if s.clocks is not None else {}),
    }


def _verdict(v: VerdictView) -> dict[str, Any]:
    return {
        "invariant": v.invariant,
        "status": v.status,
        "class": v.failure_class,
        "summary": v.summary,
        "evidence": {
            "lines": list(v.lines),
            "events": list(v.event_ids),
            "deliveries": list(v.delivery_ids),
            "effects": list(v.effect_ids),
        },
        "title": v.title,
    }


def _common(common: CommonAnswer | None) -> dict[str, Any] | None:
    if common is None:
        return None
    return {"status": common.status, "body": common.body, "count": common.count}


def _quantiles(q: Quantiles) -> dict[str, Any]:
    def seconds(x: float | None) -> float | None:
        return None if x is None else round(x, 6)

    return {
        "count": q.count,
        "p50": seconds(q.p50),
        "p95": seconds(q.p95),
        "p99": seconds(q.p99),
        "max": seconds(q.max),
    }


def _target(t: TargetView) -> dict[str, Any]:
    return {
        "name": t.name,
        "target": t.target,
        "ready": t.ready,
        "headline": t.headline,
        "checks": t.checks,
        "held": t.held,
        "areas": {a.key: _area(a) for a in t.areas},
        "principles": [_principle(p) for p in t.principles],
    }


def _area(a: AreaView) -> dict[str, Any]:
    return {
        "title": a.title,
        "status": a.status,
        "held": a.held,
        "checks": a.checks,
        "failing": list(a.failing),
        "observed": a.observed,
    }


def _principle(p: PrincipleView) -> dict[str, Any]:
    return {"title": p.title, "status": p.status, "basis": p.basis, "failing": list(p.failing)}


def _comparison(c: Comparison) -> dict[str, Any]:
    return {
        "before": c.before,
        "after": c.after,
        "before_ready": c.before_ready,
        "after_ready": c.after_ready,
        "headline": c.headline,
        "changes": [
            {
                "target_name": ch.target_name,
                "scenario": ch.scenario,
                "invariant": ch.invariant,
                "kind": ch.kind,
                "before": ch.before,
                "after": ch.after,
                "summary": ch.summary,
            }
            for ch in c.changes
        ],
    }


def write_report(
    path: Path,
    runs: Sequence[tuple[History, Sequence[Verdict]]],
    journal: Path | None = None,
    *,
    fmt: str | None = None,
    skipped: Sequence[Skipped] = (),
) -> None:
    """Write the report of ``runs`` to ``path``, in ``fmt`` or the format its extension names;
    ``skipped``: the hazards that did not apply, and why.

    ``.json`` is this shape, ``.html``/``.htm`` the self-contained page, ``.md`` Markdown,
    ``.xml`` JUnit XML. Raises InputError for an extension (or ``fmt``) that names none.
    """
    write_inputs(path, inputs(runs, journal), fmt=fmt, skipped=skipped)


def write_inputs(
    path: Path,
    runs: Sequence[RunInput],
    *,
    fmt: str | None = None,
    skipped: Sequence[Skipped] = (),
) -> None:
    """``write_report`` for runs read from several journals, each RunInput naming its own."""
    from ._writers import write, writer_for

    writer = writer_for(path, fmt, where=f"--report {path}")
    write(path, writer.render(build_report(runs, skipped=skipped)))
