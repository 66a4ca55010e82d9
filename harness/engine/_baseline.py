"""The baseline: the clean run a perturbed run is compared with — the same events, each once, in
order, one at a time, without perturbations, faults or retries.

It is driven first whenever a scenario judges loss (its expected effects are learned from it,
``invariants._expected``) or compares final states, unless the scenario says ``baseline:
false``, every event type's expected effects are declared (``expect:``), or the run is told
not to (``--no-baseline``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from ..core._errors import InputError
from ..core._model import Effect, Event
from ..core._scenario import Scenario, TracerSpec
from ..drive._schedule import Schedule
from ..history import History, RunInfo, load
from ..invariants import (
    DEFAULT_INVARIANTS,
    final_state_matches_baseline,
    no_lost_events,
    recovers_after_outage,
)
from ..invariants._expected import NEED_BASELINE, Expectation, learn
from ..invariants._facts import is_write
from ..invariants._requests import Request, requests_in
from ._options import RunOptions
from ._prepare import PLANNED, PreparedRun, prepare, provider_settings, tracing_of

BASELINE_INVARIANT = final_state_matches_baseline.NAME
# Invariants that judge loss against the expected effects the clean run teaches.
JUDGE_LOSS = frozenset({no_lost_events.NAME, recovers_after_outage.NAME})


def wants_baseline(prepared: PreparedRun) -> bool:
    """Does the run's judgement need a clean run first?

    Yes for final_state_matches_baseline; for no_lost_events and recovers_after_outage (named,
    or among the defaults when none is named) unless every event's type has its expected
    effects declared. Never when the scenario turned it off (``baseline: false``).
    """
    scenario = prepared.scenario
    if not scenario.baseline:
        return False
    names = {spec.name for spec in scenario.invariants} or set(DEFAULT_INVARIANTS)
    if names & NEED_BASELINE:
        return True
    if not names & JUDGE_LOSS:
        return False
    declared = {spec.type for spec in scenario.expect}
    return not prepared.event_types <= declared


def without_baseline(scenarios: Sequence[Scenario], where: str) -> list[Scenario]:
    """The scenarios told never to drive a clean run (``--no-baseline``, ``baseline=False``).

    Raises InputError for one that compares final states with the clean run: without it, that
    invariant could only be inconclusive.
    """
    for s in scenarios:
        needs = [spec.name for spec in s.invariants if spec.name in NEED_BASELINE]
        if needs:
            raise InputError(
                f"scenario {s.name!r} names {needs[0]}, which compares the run with the clean "
                "run that this option turns off",
                where=where,
                hint="drop the option for this scenario, or remove the invariant from it",
            )
    return [replace(s, baseline=False) for s in scenarios]


def prepare_baseline(prepared: PreparedRun, options: RunOptions) -> PreparedRun:
    """The clean run ``prepared`` is compared with: the same events, each once, in order, one
    at a time, without perturbations or faults, and with a tracer tag of its own (a target
    that deduplicates by event id must not take the perturbed run's events for repeats)."""
    # A recording's streams too (``_recorded_feed``), whether its run does or not.
    base = prepare(
        baseline_scenario(prepared.scenario),
        options,
        stream=prepared.feed is not None,
        stream_recording=True,
    )
    # All at once, delivered one after the other: in order, and no slower than the target.
    seqs = range(base.feed.count) if base.feed is not None else [ev.seq for ev in base.events]
    schedule = Schedule.firsts([0.0] * len(seqs), seqs)
    # Each event once: the provider still signs and frames the requests, but never retries.
    provider = None if base.provider is None else replace(base.provider, retries=())
    settings = {
        **base.info.settings,
        **provider_settings(provider),
        "baseline_of": prepared.scenario.name,
        "serial": True,
    }
    settings[PLANNED] = len(schedule)
    return replace(
        base,
        schedule=schedule,
        plan=None,
        info=replace(base.info, settings=settings),
        serial=True,
        provider=provider,
    )


def baseline_scenario(scenario: Scenario) -> Scenario:
    """``scenario``'s clean run as a scenario of its own (``prepare_baseline`` prepares it)."""
    # Traced as the run is (resolved here: the clean run drops the invariant that decides it).
    tracing = tracing_of(scenario)
    return replace(
        scenario,
        name=f"{scenario.name}-baseline",
        description=f"the baseline of {scenario.name}: each event once, in order, no faults",
        perturbations=(),
        faults=(),
        restarts=(),
        # Signed with the first secret on a true clock: a rotation or a skew is a hazard too.
        delivery=replace(scenario.delivery, rotation=None, clock_skew=0.0),
        invariants=tuple(i for i in scenario.invariants if i.name != BASELINE_INVARIANT),
        # A replay sent exactly as recorded has a clean run with ids of its own all the same:
        # sent with the recorded ids, it would make a target that remembers ids take the
        # run's events for repeats.
        tracer=tracing if tracing.rewrite or tracing.ids else TracerSpec(False, ids=True),
    )


def with_baseline(prepared: PreparedRun, baseline_run_id: str) -> PreparedRun:
    """``prepared``, its settings naming the baseline run it is judged against."""
    settings = {**prepared.info.settings, "baseline": baseline_run_id}
    return replace(prepared, info=replace(prepared.info, settings=settings))


def _clean_run(prepared: PreparedRun, journal: Path) -> History | None:
    clean_id = prepared.info.settings.get("baseline")
    return load(journal, clean_id) if isinstance(clean_id, str) else None


def pending_rule(prepared: PreparedRun, journal: Path) -> PendingAsJudged:
    """What settling waits for (``_settle``): the accepted events' expected effects still
    missing, by the expectation ``no_lost_events`` will judge with. The clean run its settings
    name is read now, before the run: read while settling, its seconds of loading would stall
    the doubles' event loop under a target still at work."""
    return PendingAsJudged(prepared.info, lambda: prepared.events, _clean_run(prepared, journal))


class PendingAsJudged:
    """The PendingRule of a run (``_settle``): the accepted events short of an expected effect —
    per event, else per record or request where the effects name no event — by the expectation
    ``no_lost_events`` will judge with: declared, else learned from the clean run, else any
    effect, and learned as the judgement learns it, with the run's writes so far.

    Those writes matter where the clean run made nothing: a type it left silent, or events of
    a type it left alone, are owed their type's work once one of them made here a request the
    clean run made (``_expected.learn``). So the expectation is learned when settling first
    asks (a streamed run's events are all made by then), and again when a new write names an
    event it expected nothing of — so settling waits for what the verdict will count as lost.
    """

    def __init__(
        self, info: RunInfo, events: Callable[[], Sequence[Event]], clean: History | None
    ) -> None:
        """``events()``: the run's events (a streamed run's, made so far)."""
        self._info = info
        self._events = events
        self._clean = clean
        self._learned: Expectation | None = None
        self._requests: frozenset[Request] = frozenset()  # what it expects anything to make
        self._seen = 0  # effects already looked at for a write naming such an event

    def expectation(self, effects: Sequence[Effect]) -> Expectation:
        """The expectation as the judgement will learn it from ``effects`` (the run's so far,
        in the order recorded)."""
        learned = self._learned
        if learned is None or self._may_owe(learned, effects[self._seen :]):
            writes = [e for e in effects if is_write(e)]
            learned = self._learned = learn(self._info, self._events(), self._clean, writes)
            self._requests = _expected_requests(learned)
        self._seen = len(effects)
        return learned

    def _may_owe(self, learned: Expectation, effects: Sequence[Effect]) -> bool:
        """Could one of these new ``effects`` make owed an event ``learned`` expects nothing
        of: a write naming one, of a request the clean run made (any, where it made none)?
        An audit line or an alert for a skipped event cannot (``learn``)."""
        nothing, requests = learned.nothing, self._requests
        return bool(nothing) and any(
            any(eid in nothing for eid in e.event_ids)
            and (not requests or learned.routes.of(e) in requests)
            for e in effects
            if e.event_ids and is_write(e)
        )

    def __call__(
        self, accepted: Sequence[Event], effects: Sequence[Effect], first_sent: Mapping[str, float]
    ) -> set[str]:
        return self.expectation(effects).waiting(accepted, effects, first_sent)


def _expected_requests(exp: Expectation) -> frozenset[Request]:
    """Every request ``exp`` expects of some event, record or run."""
    return requests_in(exp.per_event.values(), exp.per_record.values(), [exp.per_run])
