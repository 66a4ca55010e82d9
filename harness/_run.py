"""The drive: one scenario against one target, from source to judged History.

source -> trace -> plan -> deliver -> target -> downstream double -> journal -> settle -> judge

Two reusable steps, so every front end drives the same way: ``prepare`` turns a scenario into a
PreparedRun (traced events, schedule, bodies, signer, RunInfo) without touching the network, and
a Recorder owns the rest of a run (downstream doubles, journal, settle, judge) whoever delivers:
``run_scenarios`` with the engine's Deliverer, the Locust adapter with Locust users.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from . import _history
from ._deliver import Deliverer, outcome_of
from ._downstream import Downstream, parse_address
from ._drift import drift, drift_settings
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
from ._faults import to_fault
from ._history import History, Journal, RunInfo
from ._invariants import final_state_matches_baseline, judge
from ._model import (
    STATE_MARK,
    STATE_UNAVAILABLE_MARK,
    Delivery,
    Effect,
    Event,
    Fault,
    Outcome,
    Verdict,
)
from ._perturb import Slot, delivery_id, plan
from ._providers import Provider, attempt_timeout
from ._signing import Signer
from ._sources import load_events
from ._spec import Scenario, Settle
from ._state import StateUnavailable, check_observer, double_records, observe
from ._tamper import signed_headers, tampered_ids
from ._target import Target, check_reachable, parse_target
from ._tracer import Tracer, new_tag, trace

# What every delivery carries unless the scenario or the event says otherwise.
_BASE_HEADERS = {"Content-Type": "application/json", "User-Agent": "harness/0.1"}
# Settle times are scaled like the rest of the timeline, down to these floors (never above the
# scenario's own values): the automation's own processing and timers are not compressed.
QUIET_FLOOR = 0.2
DEADLINE_FLOOR = 5.0


def default_journal() -> Path:
    """Where a run keeps its journal unless told: harness-runs/<UTC time>.db."""
    return Path("harness-runs") / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ".db")


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
    # Run seconds per scenario second; None: each scenario's own time_scale, else 1.0.
    time_scale: float | None = None
    allow_hosts: tuple[str, ...] = ()  # hosts outside loopback the user named (observers)

    @classmethod
    def create(
        cls,
        target: str,
        *,
        seed: int | None = None,
        downstream: str = "127.0.0.1:9100",
        journal: str | Path | None = None,
        target_name: str | None = None,
        allow_hosts: Sequence[str] = (),
        reproduce: str | None = None,
        time_scale: float | None = None,
    ) -> RunOptions:
        """Options from user input: a target URL (or ``module:attr``), ``HOST:PORT`` of the
        double; a random seed and ``harness-runs/<time>.db`` unless given. Raises InputError."""
        parsed = parse_target(target, allow_hosts)
        host, port = parse_address(downstream)
        if time_scale is not None:
            check_time_scale(time_scale, "--time-scale")
        if journal is None:
            journal = default_journal()
        return cls(
            target=parsed,
            target_name=target_name or parsed.label,
            seed=seed if seed is not None else random.SystemRandom().randrange(1, 2**31),
            journal=Path(journal),
            downstream_host=host,
            downstream_port=port,
            reproduce=reproduce,
            time_scale=time_scale,
            allow_hosts=tuple(allow_hosts),
        )


def check_time_scale(value: float, where: str) -> float:
    """``value`` if it is a usable time scale (a finite number > 0), else InputError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem = f"a {type(value).__name__}"
    elif not math.isfinite(value) or value <= 0:
        problem = "not a finite number > 0"
    else:
        return float(value)
    raise InputError(
        f"time scale {value!r} is not usable ({problem})",
        where=where,
        hint="give run seconds per scenario second, e.g. 0.02 to run a 4 min outage in 4.8 s; "
        "1 runs in real time",
    )


def scaled_settle(settle: Settle, scale: float) -> Settle:
    """The settle times on the run's clock: scaled, down to QUIET_FLOOR and DEADLINE_FLOOR."""
    quiet = max(settle.quiet * scale, min(settle.quiet, QUIET_FLOOR))
    deadline = max(settle.deadline * scale, min(settle.deadline, DEADLINE_FLOOR), quiet)
    return Settle(quiet, deadline)


@dataclass(frozen=True, slots=True)
class RunResult:
    history: History
    verdicts: tuple[Verdict, ...]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A scenario made ready to deliver: traced events, their schedule, bodies and signer.

    Slot ``n`` of ``schedule`` is delivery ``dlv_<n+1>`` (six digits), attempt ``attempts[n]``
    of its event; every process that prepares the same (scenario, seed, tag) gets the same
    ids, so deliveries made in several processes land in one History without clashing.
    ``schedule``, ``faults`` and ``settle`` are on the run's clock: the scenario's times
    multiplied by ``time_scale``.
    """

    scenario: Scenario
    info: RunInfo
    tracer: Tracer
    schedule: tuple[Slot, ...]
    bodies: tuple[bytes, ...]  # per event, by seq
    attempts: tuple[int, ...]  # per slot: 1 for an event's first delivery, 2 for its second...
    signer: Signer
    headers: Mapping[str, str]  # sent with every delivery, before the event's own and signature
    time_scale: float = 1.0
    faults: tuple[Fault, ...] = ()
    settle: Settle = field(default_factory=Settle)
    provider: Provider | None = None  # its retry delays on the run's clock
    serial: bool = False  # deliver one at a time, each after the previous was answered

    @property
    def attempt_timeout(self) -> float:
        """Seconds one request is waited for, as the engine's Deliverer waits: the provider's
        ack timeout where its sender gives a request up then, else delivery.timeout."""
        return attempt_timeout(self.provider, self.scenario.delivery.timeout)

    @property
    def events(self) -> tuple[Event, ...]:
        """The traced events, by seq."""
        return self.tracer.events

    def slot_headers(self, n: int, timestamp: int) -> dict[str, str]:
        """The headers of slot ``n``'s delivery, signed at ``timestamp`` (Unix seconds) and
        tampered as its slot says (``_tamper``)."""
        slot = self.schedule[n]
        ev = self.tracer.events[slot.event]
        headers = {**ev.headers, **self.headers}
        headers.update(
            signed_headers(
                self.signer,
                slot,
                self.bodies[slot.event],
                ev.id,
                timestamp,
                event_type=ev.type,
                url=self.info.target,
            )
        )
        return headers

    def delivery(
        self,
        n: int,
        sent_at: float,
        answered_at: float | None,
        status: int | None,
        error: str | None = None,
        *,
        outcome: Outcome | None = None,
        scheduled_at: float | None = None,
    ) -> Delivery:
        """The Delivery of slot ``n``, times in run seconds. The outcome follows ``status``
        unless given; ``scheduled_at`` defaults to ``sent_at`` (a run not paced by the plan)."""
        slot = self.schedule[n]
        if outcome is None:
            outcome = outcome_of(status) if status is not None else Outcome.FAILED
        return Delivery(
            delivery_id(n),
            self.tracer.events[slot.event].id,
            self.attempts[n],
            sent_at if scheduled_at is None else scheduled_at,
            sent_at,
            answered_at,
            status,
            outcome,
            error,
        )


def signer_for(scenario: Scenario) -> Signer:
    """The scenario's signing scheme with its secret read from the environment."""
    spec = scenario.delivery
    # A provider signs its own way (the YAML loader refuses a conflicting signing).
    scheme = spec.provider.scheme if spec.provider is not None else spec.signing
    if scheme == "none":
        return Signer()
    secret = os.environ.get(spec.secret_env, "")
    if not secret:
        # A provider always signs: `delivery.signing: none` beside it is refused.
        instead = (
            f"provider {spec.provider.name!r} always signs"
            if spec.provider is not None
            else "or set delivery.signing: none in the scenario"
        )
        raise InputError(
            f"scenario {scenario.name!r} signs deliveries ({scheme}) but the environment "
            f"variable {spec.secret_env} is not set",
            where=scenario.origin,
            hint=f"export {spec.secret_env}=<the secret your automation verifies>, {instead}",
        )
    return Signer(scheme, secret, spec.signature_header)


def prepare(scenario: Scenario, options: RunOptions, *, tag: str | None = None) -> PreparedRun:
    """Load, trace and plan ``scenario``: everything a run needs before it sends anything.

    ``tag`` (default: a fresh random one) names this run's tracer tokens; processes that share
    one run pass the same tag and seed. Raises InputError subclasses for bad input.
    """
    signer = signer_for(scenario)
    if scenario.observer is not None:
        check_observer(scenario.observer, options.allow_hosts, scenario.origin)
    scale = _time_scale(scenario, options)
    tag = tag or new_tag()
    tracer = trace(load_events(scenario.source, options.seed), tag)
    # Drift after tracing, so the tokens still attribute effects; before the bodies are built.
    drifted, drift_records = drift(tracer.events, scenario.perturbations, options.seed)
    if drift_records:
        tracer = Tracer(tag, drifted)
    schedule = tuple(
        replace(slot, at=slot.at * scale) if scale != 1 else slot
        for slot in plan(tracer.events, scenario.perturbations, options.seed)
    )
    faults = tuple(to_fault(f, scale) for f in scenario.faults)
    settle = scaled_settle(scenario.settle, scale)
    provider = scenario.delivery.provider
    if provider is not None:
        provider = replace(
            provider,
            retries=tuple(d * scale for d in provider.retries),
            batch_window=provider.batch_window * scale,
        )
    info = RunInfo(
        run_id=f"{scenario.name}@{tag}",
        scenario=scenario.name,
        seed=options.seed,
        target=options.target.ref,
        target_name=options.target_name,
        model=scenario.model,
        invariants=scenario.invariants,
        started_at=_now(),
        tracer_tag=tag,
        description=scenario.description,
        settings={
            "origin": scenario.origin,
            "perturbations": [{p.kind: dict(p.params)} for p in scenario.perturbations],
            # On the run's clock, as the run waited; faults are in the journal's own table.
            "settle": {"quiet": settle.quiet, "deadline": settle.deadline},
            "time_scale": scale,
            "timeout": scenario.delivery.timeout,
            "planned_deliveries": len(schedule),
            "downstream": f"{options.downstream_host}:{options.downstream_port}",
            "reproduce": options.reproduce,
            "redact": list(scenario.redact),
            "secret_env": scenario.delivery.secret_env,
            # Which events drifted and how, with their original values: judged offline.
            **({"drift": drift_settings(drift_records)} if drift_records else {}),
            "signing": signer.scheme,
            **_provider_settings(provider),
            # Delivery id -> tamper mode: what rejects_forged judges, offline.
            "tampered": tampered_ids(schedule),
            "observer": (
                None
                if scenario.observer is None
                else {
                    "url": scenario.observer.url,
                    "records": scenario.observer.records,
                    "key": scenario.observer.key,
                }
            ),
        },
    )
    seen: dict[int, int] = {}
    attempts = []
    for slot in schedule:
        seen[slot.event] = seen.get(slot.event, 0) + 1
        attempts.append(seen[slot.event])
    return PreparedRun(
        scenario=scenario,
        info=info,
        tracer=tracer,
        schedule=schedule,
        bodies=tuple(json.dumps(ev.payload).encode() for ev in tracer.events),
        attempts=tuple(attempts),
        signer=signer,
        headers={**_BASE_HEADERS, **scenario.delivery.headers},
        time_scale=scale,
        faults=faults,
        settle=settle,
        provider=provider,
    )


def _provider_settings(provider: Provider | None) -> dict[str, object]:
    if provider is None:
        return {}
    return {
        "provider": provider.name,
        "retries": list(provider.retries),  # on the run's clock
        "ack_timeout": provider.timeout,
    }


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
        **_provider_settings(provider),
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


def _time_scale(scenario: Scenario, options: RunOptions) -> float:
    """The options' time scale, else the scenario's own, else real time."""
    if options.time_scale is not None:
        return check_time_scale(options.time_scale, "--time-scale")
    if scenario.time_scale is not None:
        return check_time_scale(scenario.time_scale, f"{scenario.origin}: time_scale")
    return 1.0


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Recorder:
    """The receiving half of a run: the downstream doubles, the journal, settling and judging.

    Whoever delivers hands each finished Delivery to ``delivery``; the doubles record effects
    on their own. ``clock()`` is the run's time (seconds since the Recorder was made), the time
    of every Delivery and Effect. Use: ``start``, deliver, ``settle``, ``stop``, ``judge``.
    Without a ``journal`` it opens ``options.journal`` and closes it in ``stop``; several runs
    into one journal share one Journal instead.
    """

    def __init__(
        self, prepared: PreparedRun, options: RunOptions, journal: Journal | None = None
    ) -> None:
        self.prepared = prepared
        self.options = options
        self._owns_journal = journal is None
        self.journal = journal if journal is not None else Journal(options.journal)
        self.info = prepared.info
        self._t0 = time.monotonic()
        scenario = prepared.scenario
        several = len(scenario.downstreams) > 1
        self._doubles = [
            Downstream(
                spec,
                on_effect=self._effect,
                clock=self.clock,
                attribute=prepared.tracer.attribute,
                effect_prefix=f"eff_{spec.name}_" if several else "eff_",
                faults=prepared.faults,
                seed=options.seed,
            )
            for spec in scenario.downstreams
        ]
        self._stopped = False

    def clock(self) -> float:
        return time.monotonic() - self._t0

    def emit(self, event: EngineEvent) -> None:
        for listener in self.options.listeners:
            listener(event)

    async def start(self) -> list[str]:
        """Write the run's events to the journal and start the doubles; their base URLs.

        The first double listens on the options' port, the next ones on the following ports.
        """
        self.info = replace(self.prepared.info, started_at=_now())
        self.journal.begin(self.info, self.prepared.events, self.prepared.faults)
        host, port = self.options.downstream_host, self.options.downstream_port
        # The host came from the user (loopback unless they named another, e.g. 0.0.0.0 so a
        # staging target can reach the double), so it is not second-guessed here.
        urls = [
            await d.start(host, port + i if port else 0, allow_non_loopback=True)
            for i, d in enumerate(self._doubles)
        ]
        self.emit(RunStarted(self.info, len(self.prepared.schedule), urls[0] if urls else ""))
        return urls

    def delivery(self, d: Delivery) -> None:
        self.journal.delivery(d)
        self.emit(DeliveryDone(d))

    def mark(self, name: str, detail: str = "") -> None:
        """A named moment of the run (e.g. a Locust worker's share), kept in the History."""
        self.journal.mark(self.clock(), name, detail)

    def _effect(self, e: Effect) -> None:
        self.journal.effect(e)
        self.emit(EffectRecorded(e))

    async def settle(self) -> None:
        """Wait until no call reached or was still held by a double for ``settle.quiet`` s,
        at most ``settle.deadline`` s, both counted from the end of the last fault window.

        Automations that ack first and work later (queues, n8n, Zapier) keep producing effects
        after the last delivery was answered; judging before they are done would report false
        losses. After an outage they retry: the run watches them recover once it is over.
        """
        settle = self.prepared.settle
        self.emit(Settling(settle.quiet, settle.deadline))
        closes = max((f.end for f in self.prepared.faults), default=0.0)
        if (still_open := closes - self.clock()) > 0:
            await asyncio.sleep(still_open)
        start = busy = self.clock()
        while (now := self.clock()) - start < settle.deadline:
            if any(d.in_flight for d in self._doubles):
                busy = now  # a slow or held answer: the automation is still waiting on it
            last = max((d.last_effect_at or 0.0 for d in self._doubles), default=0.0)
            if now - max(last, busy) >= settle.quiet:
                return
            await asyncio.sleep(min(0.05, settle.quiet / 4))

    async def _snapshot(self) -> None:
        """Write the final state to the journal: every stateful double's resources and what the
        observer reads. Called once, by ``stop`` for a complete run, after settle; a failure is
        kept as a ``state-unavailable`` mark, and the rest of the run stays as recorded."""
        attribute = self.prepared.tracer.attribute
        for double, spec in zip(self._doubles, self.prepared.scenario.downstreams, strict=True):
            resources = double.resources()
            if resources is not None:
                self.journal.states(double_records(spec.name, resources, attribute))
                self.mark(STATE_MARK, f"{spec.name}: {len(resources)} resources")
        observer = self.prepared.scenario.observer
        if observer is None:
            return
        try:
            records = await observe(observer, attribute)
        except StateUnavailable as exc:
            self.mark(STATE_UNAVAILABLE_MARK, f"observer: {exc}")
            return
        self.journal.states(records)
        self.mark(STATE_MARK, f"observer: {len(records)} records from {observer.url}")

    async def stop(self, status: str) -> None:
        """Stop the doubles and close the run in the journal as ``complete`` or ``aborted``.

        A complete run first takes its final state (``_snapshot``)."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if status == "complete":
                await self._snapshot()
            for d in self._doubles:
                await d.stop()
        finally:
            self.journal.end(status, self.clock())
            if self._owns_journal:
                self.journal.close()

    def judge(self) -> RunResult:
        """Read the run back from the journal and judge it. Raises TargetUnreachableError when
        no delivery reached the target: there is nothing to judge."""
        history = _history.load(self.journal.path, self.info.run_id)
        _raise_if_unreachable(history, self.options.target)
        verdicts = tuple(judge(history))
        self.emit(RunFinished(history, verdicts))
        return RunResult(history, verdicts)


async def run_scenarios(scenarios: Sequence[Scenario], options: RunOptions) -> list[RunResult]:
    """Run each scenario in turn into one journal. On Ctrl-C the run ends aborted, journal kept."""
    # Bad input is reported before anything is sent or written.
    prepared = [prepare(s, options) for s in scenarios]
    await check_reachable(options.target)
    journal = Journal(options.journal)
    results: list[RunResult] = []
    try:
        for run in prepared:
            if wants_baseline(run.scenario):
                baseline = prepare_baseline(run, options)
                # Judged as part of the run that names it, not as a result of its own.
                await _drive(baseline, options, journal)
                run = with_baseline(run, baseline.info.run_id)
            results.append(await _run_one(run, options, journal))
    finally:
        journal.close()
    return results


async def _run_one(prepared: PreparedRun, options: RunOptions, journal: Journal) -> RunResult:
    return (await _drive(prepared, options, journal)).judge()


async def _drive(prepared: PreparedRun, options: RunOptions, journal: Journal) -> Recorder:
    """Drive one prepared run into ``journal``; the Recorder that holds it, to judge it."""
    recorder = Recorder(prepared, options, journal)
    scenario = prepared.scenario
    status = "aborted"
    try:
        await recorder.start()
        deliverer = Deliverer(
            options.target,
            prepared.signer,
            timeout=scenario.delivery.timeout,
            clock=recorder.clock,
            on_delivery=recorder.delivery,
            headers=dict(scenario.delivery.headers),
            provider=prepared.provider,
            **({"concurrency": 1} if prepared.serial else {}),
        )
        events = prepared.events
        await deliverer.run(
            prepared.schedule,
            prepared.bodies,
            [ev.id for ev in events],
            [dict(ev.headers) for ev in events],
            [ev.type for ev in events],
        )
        await recorder.settle()
        status = "complete"
    except asyncio.CancelledError:
        raise RunAborted(
            f"run of {scenario.name!r} interrupted; what was recorded is kept in {journal.path}\n"
            f"  hint: judge it with `harness check {journal.path}`"
        ) from None
    finally:
        await recorder.stop(status)
    return recorder


def _raise_if_unreachable(history: History, target: Target) -> None:
    """Every delivery failed to connect: the target went away; the run could not be completed."""
    ds = history.deliveries
    if ds and all(d.outcome is Outcome.FAILED and d.status is None for d in ds):
        raise TargetUnreachableError(
            f"no delivery reached the target {target.ref} ({ds[0].error}); "
            "the journal is kept but there is nothing to judge\n"
            "  hint: check that the automation is running and listening at --target"
        )


__all__ = [
    "PreparedRun",
    "Recorder",
    "RunOptions",
    "RunResult",
    "check_time_scale",
    "prepare",
    "run_scenarios",
    "scaled_settle",
    "signer_for",
]
