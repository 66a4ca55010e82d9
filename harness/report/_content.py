"""What a report says, assembled from histories and verdicts only, then redacted as a whole."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core._flag_text import exact
from ..core._form import is_form
from ..core._model import UNAVAILABLE, Effect, Verdict
from ..core._scenario import InvariantSpec, Skipped
from ..history import (
    History,
    delivery_column,
    effect_column,
    event_column,
    event_ids_at,
    one_event_ids,
)
from ..invariants import ALWAYS_INVARIANTS, judge
from ..invariants._facts import Facts, nones, route_of
from ..invariants._timing import compression, time_scale
from . import _advice, _describe, _left_out, _matrix, _readiness, _sequence, _stats, _year
from ._answers import delivery_answers
from ._deploys import deploys
from ._describe import with_recorded_ids
from ._redact import Redactor
from ._views import (
    Counts,
    LeftOutView,
    RefusalView,
    Report,
    RequestView,
    ScenarioView,
    TargetView,
    VerdictView,
)

# Witness requests shown per failing verdict: enough to see the repeat, not a request log.
MAX_REQUESTS = 2
MAX_EXAMPLE_CHARS = 1500


@dataclass(frozen=True, slots=True)
class RunInput:
    """One judged run and the journal it was read from."""

    history: History
    verdicts: Sequence[Verdict]
    journal: Path | None = None


def inputs(
    runs: Sequence[tuple[History, Sequence[Verdict]]], journal: Path | None = None
) -> list[RunInput]:
    return [RunInput(h, v, journal) for h, v in runs]


def reproduce_command(history: History) -> str:
    """One line that runs the same scenario, seed and target again."""
    info = history.info
    if info.settings.get("reproduce"):
        return str(info.settings["reproduce"])
    args = ["harness", "run", info.scenario, "--target", info.target, "--seed", str(info.seed)]
    downstream = info.settings.get("downstream")
    if downstream:
        args += ["--downstream", str(downstream)]
    if time_scale(history) != 1:
        args += ["--time-scale", exact(time_scale(history))]
    return shlex.join(args)


def build_report(
    runs: Sequence[RunInput],
    *,
    before: Sequence[RunInput] | None = None,
    environ: Mapping[str, str] | None = None,
    skipped: Sequence[Skipped] = (),
) -> Report:
    """The report of ``runs`` (compared with ``before`` when given), redacted; ``skipped``:
    the hazards that did not apply, and why.

    ``environ`` is where the signing secrets are read from (default: this process's
    environment), so that their values can be kept out of the report.
    """
    from .compare import compare

    runs = [_with_always(r) for r in runs]
    before = None if before is None else [_with_always(r) for r in before]
    histories = [r.history for r in (*runs, *(before or ()))]
    redactor = Redactor.for_runs(histories, os.environ if environ is None else environ)
    scenarios = [_scenario(r, redactor, i) for i, r in enumerate(runs)]
    targets = _targets(scenarios)
    year = _year.year([(r.history, r.verdicts) for r in runs], skipped)
    # A year that breaks (a trend past the ack timeout too) is not ready, whatever held; nor
    # is a target a hazard it will meet was not tried on (a rotation without a second secret).
    untried = [s for s in skipped if s.not_tried]
    ready = (
        bool(targets)
        and all(t.ready for t in targets)
        and (year is None or year.survived)
        and not untried
    )
    left = _left_out.left_out(r.history for r in runs)
    report = Report(
        title="Production readiness of " + _describe.join_words([t.name for t in targets]),
        ready=ready,
        verdict="Ready" if ready else "Not ready",
        headline=_headline(targets)
        + _left_out_headline(left)
        + _year_headline(year)
        + _untried_headline(untried),
        started_at=min((s.started_at for s in scenarios), default=""),
        journals=tuple(dict.fromkeys(s.journal for s in scenarios if s.journal)),
        targets=targets,
        rerun=_rerun(scenarios),
        advice=_advice.advice(scenarios),
        matrix=_matrix.matrix(scenarios),
        refusals=_refusals(scenarios),
        comparison=compare(before, runs) if before is not None else None,
        skipped=tuple(skipped),
        left_out=left,
        year=year,
    )
    redacted: Report = redactor.tree(report)
    return redacted


def _with_always(run: RunInput) -> RunInput:
    """``run`` with a verdict for each invariant judged in every run (target_available) that its
    verdicts lack — they come from ``judge(history, specs)`` with specs of the caller's: a
    report never calls Ready a target whose answers nobody looked at."""
    judged = {v.invariant for v in run.verdicts}
    missing = [InvariantSpec(n) for n in ALWAYS_INVARIANTS if n not in judged]
    if not missing:
        return run
    return RunInput(run.history, (*run.verdicts, *judge(run.history, missing)), run.journal)


def _scenario(run: RunInput, redactor: Redactor, index: int) -> ScenarioView:
    h, info = run.history, run.history.info
    pictures = _stats.pictures(h, run.verdicts)
    counts = _counts(h, redactor)
    # What the target said when it accepted nothing (or little) is shown beside the verdicts.
    refused = counts.answers.common_text() or counts.answers.refused_text()
    anchor = f"run-{index + 1}-" + re.sub(r"[^a-z0-9]+", "-", info.scenario.lower()).strip("-")
    return ScenarioView(
        anchor=anchor,
        run_id=info.run_id,
        scenario=info.scenario,
        description=info.description,
        target=info.target,
        target_name=info.target_name,
        model=info.model.value,
        seed=info.seed,
        started_at=info.started_at,
        status=h.status,
        journal=str(run.journal) if run.journal else None,
        reproduce=reproduce_command(h),
        passed=all(v.passed for v in run.verdicts) and h.status == "complete",
        done=tuple(_describe.what_was_done(h)),
        faults=tuple(_describe.fault(f, time_scale(h)) for f in h.faults),
        counts=counts,
        verdicts=_verdicts(h, run.verdicts, redactor, anchor),
        example=_example(h, redactor),
        latency=pictures.latency.figures,
        lag=pictures.lag.figures,
        pictures=pictures,
        deploys=deploys(h),
        compression=compression(h),
        refused=refused,
        cause=counts.answers.cause,
        sequence=_sequence.diagram(h) if _drawn_per_event(info.settings) else None,
        clocks=info.settings.get("clocks"),
    )


def _drawn_per_event(settings: Mapping[str, Any]) -> bool:
    """A run of an explicit schedule (``schedule:``, what explore writes) is drawn per event;
    not a month of a year, whose schedule is the planner's — hundreds of events a month, each a
    column of the diagram (a January of 649 events made a Markdown report of 9.9 MB)."""
    return bool(settings.get("explicit_schedule")) and "calendar" not in settings


def _counts(h: History, redactor: Redactor) -> Counts:
    """Read off the run's columns; of its effects, only those naming no event are made."""
    per_event = Counter(delivery_column(h.deliveries, "event_id"))
    outcomes = {o.value: n for o, n in Counter(delivery_column(h.deliveries, "outcome")).items()}
    records = set(event_column(h.events, "key"))
    # Named by the advice on effects naming no event: the routes a correlate: rule is needed
    # for. Those naming a record of the run are counted apart: the verdicts judge them per
    # record, they are not unattributed.
    unattributed: Counter[str] = Counter()
    record_only: Counter[str] = Counter()
    nameless = _naming_no_event(h.effects)
    for e in nameless:
        (record_only if e.key in records else unattributed)[route_of(e)] += 1
    if record_only:  # less those the verdicts took as their record's single event's
        taken = Facts(h).single_event.effects
        for e in nameless:
            if id(e) in taken:
                record_only[route_of(e)] -= 1
        record_only = +record_only
    return Counts(
        events=len(h.events),
        records=len(records),
        deliveries=len(h.deliveries),
        effects=len(h.effects),
        unattributed=unattributed.total(),
        repeated=sum(1 for n in per_event.values() if n > 1),
        by_outcome=tuple(sorted(outcomes.items())),
        unattributed_routes=_largest(unattributed),
        answers=delivery_answers(h, redactor),
        record_only=record_only.total(),
        record_only_routes=_largest(record_only),
    )


def _naming_no_event(effects: Sequence[Effect]) -> list[Effect]:
    """The effects naming no event, in order, each made (the same object as read elsewhere)."""
    several = nones(one_event_ids(effects))  # none or several named
    named = event_ids_at(effects, several)
    return [effects[row] for row, ids in zip(several, named, strict=True) if not ids]


def _largest(routes: Counter[str]) -> tuple[str, ...]:
    """``("POST /deals (16)", ...)``: the three routes with most effects, the largest first."""
    return tuple(f"{r} ({n:,})" for r, n in routes.most_common(3))


def _verdicts(
    h: History, verdicts: Sequence[Verdict], redactor: Redactor, anchor: str
) -> tuple[VerdictView, ...]:
    wanted = {eid for v in verdicts if not v.passed for eid in v.evidence.effect_ids[:MAX_REQUESTS]}
    found = {}
    if wanted:
        ids = effect_column(h.effects, "id")
        found = {ids[i]: h.effects[i] for i, eid in enumerate(ids) if eid in wanted}
    return tuple(
        VerdictView(
            invariant=v.invariant,
            title=_describe.title(v.invariant),
            status=v.status.value,
            failure_class=v.failure_class.value,
            summary=v.summary,
            lines=with_recorded_ids(v.evidence.lines, h.info.settings),
            event_ids=v.evidence.event_ids,
            delivery_ids=v.evidence.delivery_ids,
            effect_ids=v.evidence.effect_ids,
            requests=tuple(
                _request(found[eid], redactor)
                for eid in (() if v.passed else v.evidence.effect_ids[:MAX_REQUESTS])
                if eid in found
            ),
            anchor=f"{anchor}-{v.invariant}",
        )
        for v in verdicts
    )


# Headers every HTTP client sends: noise in a witness, never evidence.
_NOISE = frozenset(
    {"host", "accept", "accept-encoding", "user-agent", "content-length", "connection"}
)


def _request(e: Effect, redactor: Redactor) -> RequestView:
    shown = {k: v for k, v in e.headers.items() if k.lower() not in _NOISE}
    return RequestView(
        effect_id=e.id,
        at=e.at,
        downstream=e.downstream,
        method=e.method.upper(),
        path=e.path,
        status=e.status,
        headers=redactor.headers(shown),
        body=_clip(redactor.body(e.body, form=is_form(e.header("Content-Type"))), 400),
    )


def _example(h: History, redactor: Redactor) -> str:
    if not h.events:
        return ""
    payload = redactor.payload(h.info.run_id, h.events[0].payload)
    return _clip(json.dumps(payload, indent=2, ensure_ascii=False), MAX_EXAMPLE_CHARS)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _targets(scenarios: Sequence[ScenarioView]) -> tuple[TargetView, ...]:
    grouped: dict[str, list[ScenarioView]] = {}
    for s in scenarios:
        grouped.setdefault(s.target_name, []).append(s)
    out = []
    for i, (name, mine) in enumerate(grouped.items()):
        verdicts = [v for s in mine for v in s.verdicts]
        held = sum(v.passed for v in verdicts)
        out.append(
            TargetView(
                anchor=f"target-{i + 1}",
                name=name,
                target=mine[0].target,
                ready=all(s.passed for s in mine),
                headline=_target_headline(mine, held, len(verdicts)),
                held=held,
                checks=len(verdicts),
                areas=_readiness.areas(mine),
                principles=_readiness.principles(mine),
                scenarios=tuple(mine),
            )
        )
    return tuple(out)


def _target_headline(scenarios: Sequence[ScenarioView], held: int, checks: int) -> str:
    """The counts, then which kinds of failure showed in which scenarios."""
    text = _counts_headline(scenarios, held, checks)
    phrases = _readiness.failing_phrases([(s, v) for s in scenarios for v in s.verdicts])
    return text + (": " + "; ".join(phrases) if phrases else "")


def _headline(targets: Sequence[TargetView]) -> str:
    """The counts only: the matrix under it shows which scenario and which check."""
    if not targets:
        return "nothing was run"
    if len(targets) == 1:
        t = targets[0]
        return _capital(_counts_headline(t.scenarios, t.held, t.checks)) + "."
    return " ".join(
        f"{t.name}: {_counts_headline(t.scenarios, t.held, t.checks)}." for t in targets
    )


def _counts_headline(scenarios: Sequence[ScenarioView], held: int, checks: int) -> str:
    """``35 of 40 checks held, 3 failed, 2 could not be judged in 18 scenarios; the target
    accepted no event in 1 run (likely cause: signature scheme or secret)``."""
    failed = sum(1 for s in scenarios for v in s.verdicts if v.status == "fail")
    unjudged = checks - held - failed
    runs = f"{len(scenarios)} scenario{'s' if len(scenarios) != 1 else ''}"
    if held == checks:
        text = f"all {checks} checks held in {runs}"
    else:
        text = f"{held} of {checks} checks held"
        text += f", {failed} failed" if failed else ""
        text += f", {unjudged} could not be judged" if unjudged else ""
        text += f" in {runs}"
    refused = [s.counts.answers.refusals for s in scenarios]
    untested = [r for r in refused if r is not None and r.nothing_accepted]
    if untested:
        causes = _describe.join_words(list(dict.fromkeys(r.short for r in untested)))
        n = len(untested)
        text += (
            f"; the target accepted no event in {n} run{'s' if n != 1 else ''} "
            f"(likely cause: {causes})"
        )
    stopped = [s.scenario for s in scenarios if s.status == UNAVAILABLE]
    if stopped:
        text += f"; stopped, the target answering nothing: {_describe.join_words(stopped)}"
    aborted = [s.scenario for s in scenarios if s.status not in ("complete", UNAVAILABLE)]
    if aborted:
        text += f"; interrupted: {_describe.join_words(aborted)}"
    return text


def _refusals(scenarios: Sequence[ScenarioView]) -> tuple[RefusalView, ...]:
    """The runs most deliveries of were refused, grouped by likely cause: a suite of eighteen
    runs against a receiver with the wrong secret is one line at the top, not eighteen."""
    groups: dict[str, list[ScenarioView]] = {}
    for s in scenarios:
        if s.refused:
            groups.setdefault(s.cause, []).append(s)
    return tuple(
        RefusalView(cause, mine[0].refused, tuple((s.scenario, s.anchor) for s in mine))
        for cause, mine in groups.items()
    )


def _left_out_headline(left: Sequence[LeftOutView]) -> str:
    """`` Not judged: 1 invariant left out by the project (per_key_order).``: a headline of
    checks that all held never reads as if everything was checked."""
    text = _left_out.count_text(left)
    return f" Not judged: {text}." if text else ""


def _untried_headline(untried: Sequence[Skipped]) -> str:
    """`` secret-rotation not tried: set $HARNESS_SECRET_NEXT to a second secret
    (docs/providers.md#secret-rotation).`` (a not-tried reason's first clause is its fix):
    what keeps a headline of checks that all held from reading as Ready."""
    return "".join(f" {s.said.split(' — ', 1)[0]}." for s in untried)


def _year_headline(year: _year.YearView | None) -> str:
    if year is None or year.survived:
        return ""
    first = year.broke[0]
    return f" Over the year it breaks in month {first.index} ({first.name}): {first.what}."


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _rerun(scenarios: Sequence[ScenarioView]) -> tuple[str, ...]:
    commands = list(dict.fromkeys(s.reproduce for s in scenarios))
    for journal in dict.fromkeys(s.journal for s in scenarios if s.journal):
        quoted = shlex.quote(journal)
        commands.append(f"harness check {quoted}")
        commands.append(f"harness report {quoted} -o report.html")
    return tuple(commands)
