"""The baseline: the clean run a perturbed run is compared with — the same events, each once, in
order, one at a time, without perturbations, faults or retries."""

from __future__ import annotations

from dataclasses import replace

from ..core._scenario import Scenario
from ..drive._perturb import Slot
from ..invariants import final_state_matches_baseline
from ._options import RunOptions
from ._prepare import PreparedRun, prepare, provider_settings

BASELINE_INVARIANT = final_state_matches_baseline.NAME


def wants_baseline(scenario: Scenario) -> bool:
    """Does the scenario's judgement need a baseline run (final_state_matches_baseline)?"""
    return any(spec.name == BASELINE_INVARIANT for spec in scenario.invariants)


def prepare_baseline(prepared: PreparedRun, options: RunOptions) -> PreparedRun:
    """The clean run ``prepared`` is compared with: the same events, each once, in order, one
    at a time, without perturbations or faults, and with a tracer tag of its own (a target
    that deduplicates by event id must not take the perturbed run's events for repeats)."""
    scenario = prepared.scenario
    clean = replace(
        scenario,
        name=f"{scenario.name}-baseline",
        description=f"the baseline of {scenario.name}: each event once, in order, no faults",
        perturbations=(),
        faults=(),
        invariants=tuple(i for i in scenario.invariants if i.name != BASELINE_INVARIANT),
    )
    base = prepare(clean, options)
    # All at once, delivered one after the other: in order, and no slower than the target.
    schedule = tuple(Slot(0.0, ev.seq) for ev in base.events)
    # Each event once: the provider still signs and frames the requests, but never retries.
    provider = None if base.provider is None else replace(base.provider, retries=())
    settings = {
        **base.info.settings,
        **provider_settings(provider),
        "baseline_of": scenario.name,
        "serial": True,
    }
    settings["planned_deliveries"] = len(schedule)
    return replace(
        base,
        schedule=schedule,
        attempts=(1,) * len(schedule),
        info=replace(base.info, settings=settings),
        serial=True,
        provider=provider,
    )


def with_baseline(prepared: PreparedRun, baseline_run_id: str) -> PreparedRun:
    """``prepared``, its settings naming the baseline run it is judged against."""
    settings = {**prepared.info.settings, "baseline": baseline_run_id}
    return replace(prepared, info=replace(prepared.info, settings=settings))
