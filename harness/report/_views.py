"""What a report says, as plain data: every writer renders these and nothing else.

Built by ``_content.build_report`` from histories and verdicts, then scrubbed as a whole by
the redactor, so a writer cannot show a value redaction removed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..core._quantiles import Quantiles
from ..core._scenario import Skipped
from ._answers import DeliveryAnswers
from ._deploys import Deploy
from ._sequence import Diagram
from ._stats import Pictures
from ._year import YearView


@dataclass(frozen=True, slots=True)
class RequestView:
    """One request the target made (a witness effect), as shown: headers and body redacted."""

    effect_id: str
    at: float
    downstream: str
    method: str
    path: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str


@dataclass(frozen=True, slots=True)
class VerdictView:
    invariant: str
    title: str
    status: str  # pass | fail | inconclusive
    failure_class: str  # silent | loud | slow
    summary: str
    lines: tuple[str, ...]
    event_ids: tuple[str, ...]
    delivery_ids: tuple[str, ...]
    effect_ids: tuple[str, ...]
    requests: tuple[RequestView, ...] = ()
    anchor: str = ""  # the id of the verdict in the HTML report, what a matrix cell links to

    @property
    def passed(self) -> bool:
        return self.status == "pass"


@dataclass(frozen=True, slots=True)
class Counts:
    events: int
    records: int
    deliveries: int
    effects: int
    unattributed: int  # effects naming no event, nor a record of the run
    repeated: int  # events delivered more than once
    by_outcome: tuple[tuple[str, int], ...]  # ok, rejected, failed, indeterminate (sorted)
    answers: DeliveryAnswers  # accepted, rejected, failed, unanswered; the common answer
    unattributed_routes: tuple[str, ...] = ()  # "POST /deals (16)", the largest first
    record_only: int = 0  # effects naming a record of the run and no event
    record_only_routes: tuple[str, ...] = ()  # "PATCH /contacts/{id} (30)", the largest first


@dataclass(frozen=True, slots=True)
class ScenarioView:
    """One run of one scenario against one target."""

    anchor: str
    run_id: str
    scenario: str
    description: str
    target: str
    target_name: str
    model: str
    seed: int
    started_at: str
    status: str  # complete | aborted
    journal: str | None
    reproduce: str
    passed: bool
    done: tuple[str, ...]  # what was done to the system, in sentences
    faults: tuple[str, ...]
    counts: Counts
    verdicts: tuple[VerdictView, ...]
    example: str  # the first event's payload, redacted, as indented JSON
    latency: Quantiles
    lag: Quantiles
    pictures: Pictures
    deploys: tuple[Deploy, ...] = ()  # the deploy restarts the run made
    compression: str = ""  # a compressed run's timeline in words (invariants._timing), or ""
    # When the target accepted fewer than half of the genuine deliveries: what it answered
    # ("the target accepted no event; most common answer: 401 …") and the likely cause.
    refused: str = ""
    cause: str = ""
    # A run of an explicit schedule (``schedule:``): its deliveries and effects per event.
    sequence: Diagram | None = None
    # A distributed load test's workers' clocks (settings ``clocks``: each one's offset from
    # the master's and the run's uncertainty, harness_locust._clock); None elsewhere.
    clocks: Mapping[str, Any] | None = None

    @property
    def failed(self) -> tuple[VerdictView, ...]:
        return tuple(v for v in self.verdicts if v.status == "fail")

    @property
    def outcome(self) -> str:
        """pass, fail or inconclusive: a scenario whose verdicts held but for some not judged
        is not called failed (a cut-short run is, whatever its verdicts)."""
        if not self.passed and (self.failed or self.status != "complete"):
            return "fail"
        return "pass" if self.passed else "inconclusive"

    @property
    def outcome_word(self) -> str:
        return {"pass": "held", "fail": "failed"}.get(self.outcome, self.outcome)


@dataclass(frozen=True, slots=True)
class AreaView:
    """Readiness in one of the ways a failure shows: silent, loud, slow."""

    key: str
    title: str
    meaning: str
    held: int
    checks: int
    status: str  # ready | not ready | not proven | not checked
    failing: tuple[str, ...]
    observed: str


@dataclass(frozen=True, slots=True)
class PrincipleView:
    """One of the five principles, and what in these runs shows it holds (or not)."""

    title: str
    meaning: str
    status: str  # holds | fails | not proven
    basis: str
    failing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TargetView:
    anchor: str
    name: str
    target: str
    ready: bool
    headline: str
    held: int
    checks: int
    areas: tuple[AreaView, ...]
    principles: tuple[PrincipleView, ...]
    scenarios: tuple[ScenarioView, ...]


@dataclass(frozen=True, slots=True)
class AdviceView:
    """What to check if something unexpected happens, for a failure seen in these runs."""

    key: str
    title: str
    text: str
    seen_in: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Change:
    """One verdict compared across two runs of the same scenario."""

    target_name: str
    scenario: str
    invariant: str
    title: str
    kind: str  # fixed | regressed | still failing | new | removed | unchanged
    before: str | None  # status
    after: str | None
    summary: str  # the after summary (the before one for a removed verdict)


@dataclass(frozen=True, slots=True)
class Comparison:
    before: str  # journal(s) of the earlier runs
    after: str
    before_ready: bool
    after_ready: bool
    headline: str
    changes: tuple[Change, ...]  # every verdict, changed ones first

    @property
    def changed(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind != "unchanged")


@dataclass(frozen=True, slots=True)
class RefusalView:
    """Runs the target refused most deliveries of for one likely cause, shown once at the top."""

    cause: str
    refused: str  # what the target answered, in the first of these runs
    runs: tuple[tuple[str, str], ...]  # (scenario, anchor) of each run


@dataclass(frozen=True, slots=True)
class Cell:
    status: str  # an outcome of MARKS, or "" when the run did not judge this invariant
    mark: str
    href: str  # "#<verdict anchor>", or "" when not judged
    label: str  # "duplicate-storm · no_duplicate_effects: failed"


@dataclass(frozen=True, slots=True)
class MatrixRow:
    label: str  # the scenario, prefixed with its target when the report has several
    href: str  # "#<scenario anchor>"
    passed: bool
    cells: tuple[Cell, ...]
    note: str  # "accepted 0 of 100 genuine deliveries (401)" when most were refused, else ""


@dataclass(frozen=True, slots=True)
class Matrix:
    """The headline: one row per run, one column per invariant (``_matrix``)."""

    columns: tuple[str, ...]  # invariant names
    titles: tuple[str, ...]  # their titles, for a column's tooltip
    rows: tuple[MatrixRow, ...]


@dataclass(frozen=True, slots=True)
class LeftOutView:
    """An invariant the project left out (``leave_out:``): not judged, neither held nor failed."""

    invariant: str
    reason: str  # the project's
    scenarios: tuple[str, ...]  # the runs that would have judged it


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    ready: bool
    verdict: str  # "Ready" | "Not ready"
    headline: str
    started_at: str
    journals: tuple[str, ...]
    targets: tuple[TargetView, ...]
    rerun: tuple[str, ...]
    advice: tuple[AdviceView, ...]
    matrix: Matrix
    refusals: tuple[RefusalView, ...] = ()  # by likely cause, in run order
    comparison: Comparison | None = None
    # Hazards that did not apply to the project, and why: neither held nor failed.
    skipped: tuple[Skipped, ...] = ()
    # Invariants the project left out, once per report (``_left_out``): not judged.
    left_out: tuple[LeftOutView, ...] = ()
    # When the runs are month runs (a year, docs/year.md): the report's first section.
    year: YearView | None = None

    @property
    def scenarios(self) -> tuple[ScenarioView, ...]:
        return tuple(s for t in self.targets for s in t.scenarios)

    @property
    def checks(self) -> int:
        return sum(t.checks for t in self.targets)

    @property
    def held(self) -> int:
        return sum(t.held for t in self.targets)

    @property
    def invariants(self) -> tuple[str, ...]:
        """Every check judged in this report, each once, in first-seen order."""
        return tuple(dict.fromkeys(v.invariant for s in self.scenarios for v in s.verdicts))
