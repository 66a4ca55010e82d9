"""The drive: one scenario against one target, from source to judged History.

source -> trace -> plan -> deliver -> target -> downstream double -> journal -> settle -> judge
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import _history
from ._deliver import Deliverer
from ._downstream import Downstream
from ._errors import InputError, RunAborted, TargetUnreachableError
from ._events import (
    DeliveryDone,
    EffectRecorded,
    EngineEvent,
    Listener,
    RunFinished,
    RunStarted,
    Settling,
)
from ._history import History, Journal, RunInfo
from ._invariants import judge
from ._model import Delivery, Effect, Event, Outcome, Verdict
from ._perturb import plan
from ._signing import Signer
from ._sources import load_events
from ._spec import Scenario
from ._target import Target, check_reachable
from ._tracer import new_tag, trace


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Where and how to run: the same for every scenario of one invocation."""

    target: Target
    target_name: str
    seed: int
    journal: Path
    downstream_host: str = "127.0.0.1"
    downstream_port: int = 9100
    listeners: Sequence[Listener] = field(default_factory=tuple)
    reproduce: str | None = None  # the command that reruns it, when not `harness run ...`


@dataclass(frozen=True, slots=True)
class RunResult:
    history: History
    verdicts: tuple[Verdict, ...]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


def signer_for(scenario: Scenario) -> Signer:
    """The scenario's signing scheme with its secret read from the environment."""
    spec = scenario.delivery
    if spec.signing == "none":
        return Signer()
    secret = os.environ.get(spec.secret_env, "")
    if not secret:
        raise InputError(
            f"scenario {scenario.name!r} signs deliveries ({spec.signing}) but the environment "
            f"variable {spec.secret_env} is not set",
            where=scenario.origin,
            hint=f"export {spec.secret_env}=<the secret your automation verifies>, "
            "or set delivery.signing: none in the scenario",
        )
    return Signer(spec.signing, secret, spec.signature_header)


async def run_scenarios(scenarios: Sequence[Scenario], options: RunOptions) -> list[RunResult]:
    """Run each scenario in turn into one journal. On Ctrl-C the run ends aborted, journal kept."""
    # Bad input is reported before anything is sent or written.
    prepared = [(s, signer_for(s), load_events(s.source, options.seed)) for s in scenarios]
    await check_reachable(options.target)
    journal = Journal(options.journal)
    results: list[RunResult] = []
    try:
        for scenario, signer, events in prepared:
            results.append(await _run_one(scenario, signer, events, options, journal))
    finally:
        journal.close()
    return results


async def _run_one(
    scenario: Scenario, signer: Signer, events: list[Event], options: RunOptions, journal: Journal
) -> RunResult:
    tag = new_tag()
    tracer = trace(events, tag)
    traced = tracer.events
    schedule = plan(traced, scenario.perturbations, options.seed)
    info = RunInfo(
        run_id=f"{scenario.name}@{tag}",
        scenario=scenario.name,
        seed=options.seed,
        target=options.target.ref,
        target_name=options.target_name,
        model=scenario.model,
        invariants=scenario.invariants,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tracer_tag=tag,
        description=scenario.description,
        settings={
            "origin": scenario.origin,
            "perturbations": [{p.kind: dict(p.params)} for p in scenario.perturbations],
            "settle": {"quiet": scenario.settle.quiet, "deadline": scenario.settle.deadline},
            "timeout": scenario.delivery.timeout,
            "planned_deliveries": len(schedule),
            "downstream": f"{options.downstream_host}:{options.downstream_port}",
            "reproduce": options.reproduce,
            "redact": list(scenario.redact),
            "secret_env": scenario.delivery.secret_env,
        },
    )
    t0 = time.monotonic()

    def clock() -> float:
        return time.monotonic() - t0

    def emit(event: EngineEvent) -> None:
        for listener in options.listeners:
            listener(event)

    def on_delivery(d: Delivery) -> None:
        journal.delivery(d)
        emit(DeliveryDone(d))

    def on_effect(e: Effect) -> None:
        journal.effect(e)
        emit(EffectRecorded(e))

    journal.begin(info, traced)
    doubles = [
        Downstream(
            spec,
            on_effect=on_effect,
            clock=clock,
            attribute=tracer.attribute,
            effect_prefix="eff_" if len(scenario.downstreams) == 1 else f"eff_{spec.name}_",
        )
        for spec in scenario.downstreams
    ]
    status = "aborted"
    try:
        urls = [
            await d.start(
                options.downstream_host,
                options.downstream_port + i if options.downstream_port else 0,
            )
            for i, d in enumerate(doubles)
        ]
        emit(RunStarted(info, len(schedule), urls[0] if urls else ""))
        deliverer = Deliverer(
            options.target,
            signer,
            timeout=scenario.delivery.timeout,
            clock=clock,
            on_delivery=on_delivery,
            headers=dict(scenario.delivery.headers),
        )
        bodies = [json.dumps(ev.payload).encode() for ev in traced]
        await deliverer.run(
            schedule, bodies, [ev.id for ev in traced], [dict(ev.headers) for ev in traced]
        )
        emit(Settling(scenario.settle.quiet, scenario.settle.deadline))
        await _settle(doubles, clock, scenario.settle.quiet, scenario.settle.deadline)
        status = "complete"
    except asyncio.CancelledError:
        raise RunAborted(
            f"run of {scenario.name!r} interrupted; what was recorded is kept in {journal.path}\n"
            f"  hint: judge it with `harness check {journal.path}`"
        ) from None
    finally:
        for d in doubles:
            await d.stop()
        journal.end(status, clock())
    history = _history.load(journal.path, info.run_id)
    _raise_if_unreachable(history, options.target)
    verdicts = tuple(judge(history))
    emit(RunFinished(history, verdicts))
    return RunResult(history, verdicts)


async def _settle(
    doubles: Sequence[Downstream], clock: Callable[[], float], quiet: float, deadline: float
) -> None:
    """Wait until no effect arrived for ``quiet`` seconds, or ``deadline`` seconds have passed.

    Automations that ack first and work later (queues, n8n, Zapier) keep producing effects after
    the last delivery was answered; judging before they are done would report false losses.
    """
    start = clock()
    while (now := clock()) - start < deadline:
        last = max((d.last_effect_at or 0.0 for d in doubles), default=0.0)
        if now - max(last, start) >= quiet:
            return
        await asyncio.sleep(min(0.05, quiet / 4))


def _raise_if_unreachable(history: History, target: Target) -> None:
    """Every delivery failed to connect: the target went away; the run could not be completed."""
    ds = history.deliveries
    if ds and all(d.outcome is Outcome.FAILED and d.status is None for d in ds):
        raise TargetUnreachableError(
            f"no delivery reached the target {target.ref} ({ds[0].error}); "
            "the journal is kept but there is nothing to judge\n"
            "  hint: check that the automation is running and listening at --target"
        )
