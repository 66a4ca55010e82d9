"""``prepare``: a scenario made ready to deliver without touching the network — traced events,
their schedule on the run's clock, bodies, signer and the RunInfo the journal keeps."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..core import _gc
from ..core._errors import InputError
from ..core._fingerprint import fingerprint
from ..core._model import FAULT_MARKS, LEFT_OUT, MODEL_ASSUMED, Delivery, Event, Fault, Outcome
from ..core._providers import LAYOUTS, PYTHON, Layout, Provider, attempt_timeout
from ..core._scenario import (
    NOT_TRIED,
    RecordedSource,
    Scenario,
    Settle,
    Source,
    SyntheticSource,
    TracerSpec,
)
from ..core._signing import MULTI_SIGNATURE, Rotation, Signer, check_rotation
from ..core._text_event import as_text, payload_json
from ..double._faults import to_fault
from ..double._forward import check_forward_to
from ..double._state import check_observer
from ..drive._correlate import Correlation
from ..drive._deliver import outcome_of
from ..drive._drift import DriftRecord, drift, drift_settings
from ..drive._explicit import explicit
from ..drive._formats import time_path as recorded_time
from ..drive._formats._shared import let_go
from ..drive._perturb import perturbed, plan
from ..drive._plan_stream import PlanStream, streamed
from ..drive._record_marks import record_marks
from ..drive._recorded import under_own
from ..drive._replay import replay_settings
from ..drive._schedule import Schedule, delivery_id
from ..drive._sources import (
    Stream,
    load_stream,
    marked_synthetic,
    synthetic_times,
    synthetic_types,
)
from ..drive._synthetic_text import laid_batches, traced_synthetic
from ..drive._tamper import signed_headers, tampered_ids
from ..drive._tracer import Tracer, new_tag, traced
from ..history import RunInfo
from ..invariants import run_invariants
from ..invariants._expected import NEED_BASELINE, scenario_settings
from ..invariants._idempotent import repeat_settings
from ..scenario._hazards import RESTART_FIX, is_builtin
from ..scenario._limits import MAX_REPLAY_SECONDS, check_schedule_time, check_synthetic_span
from ..scenario._lines import where_in
from ._feed import Feed, streamable
from ._options import RunOptions, settle_for, time_scale_of
from ._recorded_feed import RecordedEvents, put_off
from ._restarts import RESTART

# The run's setting that counts its planned deliveries.
PLANNED = "planned_deliveries"

# What every delivery carries unless the scenario or the event says otherwise.
_BASE_HEADERS = {"Content-Type": "application/json", "User-Agent": "harness/0.1"}


@dataclass(frozen=True, slots=True)
class PreparedRun:
    """A scenario made ready to deliver: traced events, their schedule, bodies and signer.

    Slot ``n`` of ``schedule`` is delivery ``dlv_<n+1>`` (six digits), attempt ``attempts[n]``
    of its event; every process that prepares the same (scenario, seed, tag) gets the same
    ids, so deliveries made in several processes land in one History without clashing.
    ``schedule`` and ``faults`` are on the run's clock: the scenario's times multiplied by
    ``time_scale``; ``settle`` is in real seconds, by the settle rule (``settle_for``).

    A streamed run (``feed``, ``prepare(stream=True)``) has its RunInfo, and its events only as
    they are made: ``bodies`` is empty, ``events`` fills (payload-less) as the feed makes them,
    ``slot_request`` and ``delivery`` are for a run prepared whole. Its schedule is whole, or
    (``plan``) planned as it is sent: ``schedule`` is then empty (each slot is planned as the
    feed asks for it, and not kept after), and its RunInfo's ``planned_deliveries`` is None (a
    ``duplicate``'s copies are drawn as it goes) until the Recorder counts it as the run stops.
    """

    scenario: Scenario
    info: RunInfo
    tracer: Tracer
    correlation: Correlation  # tracer tokens + the scenario's correlation rules, per downstream
    schedule: Schedule
    bodies: tuple[bytes, ...]  # per event, by seq
    signer: Signer
    headers: Mapping[str, str]  # sent with every delivery, before the event's own and signature
    time_scale: float = 1.0
    faults: tuple[Fault, ...] = ()
    settle: Settle = field(default_factory=Settle)
    provider: Provider | None = None  # its retry delays on the run's clock
    serial: bool = False  # deliver one at a time, each once the previous one's work is done (_pace)
    feed: Feed | None = None  # a streamed run's events, made as they are sent
    # A streamed run's schedule planned as it is sent (``_plan_stream``): its slots are not
    # held (``schedule`` is empty), only counted.
    plan: PlanStream | None = None
    # A recording's events read and checked, not traced yet (``prepare(trace_later=True)``):
    # ``traced_whole`` traces them, as the run is driven.
    recorded: RecordedEvents | None = None
    # When the run restarts the target (``_restarts``), on its clock; the clean run never does.
    restarts: tuple[float, ...] = ()

    def slots(self) -> PlanStream:
        """A streamed run's slots, in order, as its Feed sends them."""
        return self.plan if self.plan is not None else PlanStream.of(self.schedule)

    @property
    def attempts(self) -> Sequence[int]:
        """Per slot: 1 for an event's first delivery, 2 for its second..."""
        return self.schedule.attempts

    @property
    def attempt_timeout(self) -> float:
        """Seconds one request is waited for, as the engine's Deliverer waits: the provider's
        ack timeout where its sender gives a request up then, else delivery.timeout."""
        return attempt_timeout(self.provider, self.scenario.delivery.timeout)

    @property
    def events(self) -> Sequence[Event]:
        """The traced events, by seq (a streamed run's: those made so far, payload-less)."""
        return self.tracer.events

    @property
    def event_types(self) -> frozenset[str]:
        """The types of the run's events, made or not."""
        if self.feed is not None:
            return self.feed.types
        if self.recorded is not None:
            return self.recorded.types
        return frozenset(ev.type for ev in self.events)

    def slot_request(
        self, n: int, timestamp: int, at: float | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of slot ``n``'s delivery as a request of its own, signed at
        ``timestamp`` (Unix seconds) and tampered as its slot says (``_tamper``); ``at`` (run
        seconds; default: the slot's planned time) picks the secrets of a rotation. A batching
        sender's (HubSpot's) is a batch of one event — a JSON array — as it sends one: never
        the bare event, which no HubSpot receiver is written for (a Locust run sent them so,
        and a receiver reading the list was answered 500 to all 300 and told it was written
        for one event a request)."""
        slot = self.schedule[n]
        ev = self.tracer.events[slot.event]
        body = self.bodies[slot.event]
        if self.provider is not None and self.provider.max_batch > 1:
            body = b"[" + body + b"]"
        signed = signed_headers(
            self.signer,
            slot,
            body,
            ev.id,
            timestamp,
            event_type=ev.type,
            url=self.info.target,
            at=slot.at if at is None else at,
        )
        return body, under_own(ev.headers, {**self.headers, **signed})

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


def signer_for(scenario: Scenario, scale: float = 1.0) -> Signer:
    """The scenario's signing scheme with its secret read from the environment, its secret
    rotation (times ``scale``d onto the run's clock, as fault windows are) and clock skew."""
    spec = scenario.delivery
    scheme = spec.scheme
    if scheme == "none":
        if spec.rotation is not None:
            _refuse_rotation(scenario, scheme)
        return Signer()
    secret = os.environ.get(spec.secret_env, "")
    if not secret:
        # A provider always signs: `delivery.signing: none` beside it is refused.
        what = f"scenario {scenario.name!r}"
        if is_builtin(scenario):  # not the user's file to edit: the project's provider is
            what = "it"  # where says which built-in scenario
            instead = (
                "or name the variable that holds it (--secret-env, secret_env: in "
                "harness.yaml), or send unsigned (--provider none)"
            )
        elif spec.provider is not None:
            instead = f"provider {spec.provider.name!r} always signs"
        else:
            instead = "or set delivery.signing: none in the scenario"
        raise InputError(
            f"{what} signs deliveries ({scheme}) but the environment "
            f"variable {spec.secret_env} is not set",
            where=scenario.origin,
            hint=f"export {spec.secret_env}=<the secret your automation verifies>, {instead}",
        )
    rotation = _rotation(scenario, scheme, secret, scale)
    signer = Signer(scheme, secret, spec.signature_header, rotation, spec.clock_skew)
    signer.check(where=f"{scenario.origin}: {_secret_envs(scenario)}")
    return signer


def check_unread(scenario: Scenario, options: RunOptions) -> Signer:
    """What ``prepare`` checks that no event says — a way to restart the target where it has
    restarts, the secrets the signing reads, the hosts the observer, forwarding downstreams
    and restart hook reach — and the Signer. A command calls it first,
    on its scenarios as known before their recordings are read (``resolve_hazards(...,
    events=False)``), so that a secret not set is told before a 60 MB export is parsed."""
    if scenario.restarts:
        _check_restart(scenario, options)
    signer = signer_for(scenario, time_scale_of(scenario, options))
    if scenario.observer is not None:
        check_observer(scenario.observer, options.allow_hosts, scenario.origin)
    for downstream in scenario.downstreams:
        check_forward_to(downstream, options.allow_hosts, scenario.origin)
    return signer


def _check_restart(scenario: Scenario, options: RunOptions) -> None:
    """A scenario with ``restarts`` is run with a way to restart the target, never without
    (a deploy it never made would pass): its restart URL is refused off loopback."""
    if scenario.restart is None:
        at = ", ".join(f"{t:g} s" for t in scenario.restarts)
        raise InputError(
            f"{scenario.name} restarts the target at {at} (restarts:) and nothing says how",
            where=scenario.origin,
            hint=RESTART_FIX + "; `harness run` skips it without one",
        )
    RESTART.check(scenario.restart, options.allow_hosts, "restart")


def _secret_envs(scenario: Scenario) -> str:
    """``the secret in X``, or ``the secrets in X and Y`` with a rotation."""
    rotation = scenario.delivery.rotation
    first = scenario.delivery.secret_env
    if rotation is None:
        return f"the secret in {first}"
    return f"the secrets in {first} and {rotation.next_secret_env}"


_ROTATION = ("delivery", "rotation")


def _rotation(scenario: Scenario, scheme: str, secret: str, scale: float) -> Rotation | None:
    """The scenario's secret rotation on the run's clock, its next secret read from the
    environment; InputError (at the file's line) when it cannot be honoured."""
    spec = scenario.delivery.rotation
    if spec is None:
        return None
    _refuse_rotation(scenario, scheme)
    if spec.overlap < 0:
        raise InputError(
            f"delivery.rotation.overlap: {spec.overlap:g} is not allowed — an overlap lasts 0 "
            "seconds or more",
            where=where_in(scenario.origin, (*_ROTATION, "overlap")),
            hint="give the seconds both secrets sign (0: the new one from `at` on)",
        )
    variable = spec.next_secret_env
    upcoming = os.environ.get(variable, "")
    where = where_in(scenario.origin, (*_ROTATION, "next_secret_env"))
    if not upcoming:
        raise InputError(
            f"scenario {scenario.name!r} rotates its signing secret but the environment "
            f"variable {variable} (delivery.rotation.next_secret_env: the next secret) is not set",
            where=where,
            hint=f"export {variable}=<the new secret>, a value other than "
            f"${scenario.delivery.secret_env}, and give the automation the same value (the "
            "sound demo reads HARNESS_SECRET_NEXT) — docs/security.md",
        )
    if upcoming == secret:
        raise InputError(
            f"the next secret (in {variable}) is the secret already in "
            f"{scenario.delivery.secret_env}: the rotation would change nothing",
            where=where,
            hint=f"export {variable} with the new secret the automation is to accept",
        )
    start = spec.at * scale
    return Rotation(upcoming, start, start + spec.overlap * scale)


def _refuse_rotation(scenario: Scenario, scheme: str) -> None:
    spec = scenario.delivery.rotation
    why = None if spec is None else check_rotation(scheme, spec.overlap)
    if why is not None:
        provider = scenario.delivery.provider
        raise InputError(
            f"delivery.rotation is not allowed — {why}",
            where=where_in(scenario.origin, _ROTATION),
            hint=f"only {' and '.join(sorted(MULTI_SIGNATURE))} sign with two secrets at once"
            + (f"; {provider.name} signs with {scheme}" if provider is not None else "")
            + " (docs/providers.md, Secret rotation)",
        )


def tracing_of(scenario: Scenario) -> TracerSpec:
    """How ``scenario``'s events are traced (``TracerSpec.resolved``): a recording is sent as
    recorded but for its ids, each run's own, unless the scenario compares final states with
    the clean run (traced then)."""
    compares = any(spec.name in NEED_BASELINE for spec in scenario.invariants)
    return scenario.tracer.resolved(scenario.source, compares_states=compares)


# No collections inside: each walked every event made so far (100,000 events: 11.4 s with
# them, 6.8 s without); the collector's state is restored after, errors included.
@_gc.paused()
def prepare(
    scenario: Scenario,
    options: RunOptions,
    *,
    tag: str | None = None,
    stream: bool = False,
    keep_reads: bool = False,
    stream_recording: bool = False,
    trace_later: bool = False,
    restarting: bool = False,
) -> PreparedRun:
    """Load, trace and plan ``scenario``: everything a run needs before it sends anything.

    ``tag`` (default: a fresh random one) names this run's tracer tokens; processes that share
    one run pass the same tag and seed. ``stream``: where the scenario allows it
    (``_feed.streamable``), plan from the events' times and leave the events to a Feed that
    makes them as they are sent; the run is then driven once. ``keep_reads``: another
    prepare reads the same recording next (its clean run's): the document read whole stays
    kept for it within ``shared_reads`` (``drive/_formats/_shared``); else it is let go as
    soon as the events are read, before they are traced. Where a recording allows it
    (``_recorded_feed``), its events are read and checked now and traced after:
    ``stream_recording``, as they are sent (a clean run's: one at a time, its loop's time
    judged by nothing); ``trace_later``, whole, when ``traced_whole`` is called (a run's, once
    its clean run is done). ``restarting``: the caller restarts the target at the scenario's
    ``restarts`` (the engine's drive); else one that has any is refused — a load test that
    never restarts would pass a deploy it never made. Raises InputError subclasses for bad
    input.
    """
    _refuse_unrunnable(scenario, restarting)
    scale = time_scale_of(scenario, options)
    signer = check_unread(scenario, options)
    if isinstance(scenario.source, SyntheticSource):  # one built in Python: no file checked it
        check_synthetic_span(scenario.source, scenario.origin)
    tag = tag or new_tag()
    tracing = tracing_of(scenario)
    body = _body_of(scenario.delivery.provider)
    fed = _fed(scenario, options.seed, tag, tracing, body) if stream else None
    feed: Feed | None = None
    listed: Schedule | None
    planning: PlanStream | None = None
    replayed: dict[str, Any] = {}
    drift_records: list[DriftRecord] = []
    recorded: RecordedEvents | None = None
    if (stream_recording or trace_later) and put_off(scenario, tracing):
        recorded = RecordedEvents(scenario, options.seed, tag, tracing, keep_reads)
        stream_, replayed = recorded.stream, recorded.replayed
        # Planned from the events as read: tracing changes no time, seq or redelivery.
        listed = plan(recorded.events, scenario.perturbations, options.seed, stream_.redeliveries)
        if stream_recording:
            feed = recorded.feed(body)
            tracer, recorded = feed.tracer, None
        else:
            tracer = Tracer(tag)  # none traced yet: ``traced_whole`` traces them
    elif fed is not None:
        # Planned from the events' times alone; streamable scenarios have no drift. Planned as
        # it is sent where it can be (``_plan_stream``), else whole.
        feed, source = fed
        stream_, tracer = Stream(()), feed.tracer
        planning = streamed(source, scenario.perturbations, options.seed, scale, MAX_REPLAY_SECONDS)
        if planning is None:
            firsts = Schedule.firsts(synthetic_times(source))
            listed = perturbed(firsts, scenario.perturbations, options.seed)
    else:
        stream_, tracer, listed, replayed = _traced(
            scenario, options.seed, tag, tracing, keep_reads
        )
        # Drift after tracing, so the tokens still attribute effects; before the bodies are built.
        drifted, drift_records = drift(tracer.events, scenario.perturbations, options.seed)
        if drift_records:
            tracer = Tracer(tag, drifted)
    # Indexed on the events as sent: the values the target saw are those it can write.
    correlation = Correlation(
        tracer,
        scenario.correlate,
        tracing,
        where=scenario.origin,
        growing=feed is not None and feed.described is not None,
    )
    if planning is not None:
        schedule = planning.schedule  # empty: its slots are not held
    else:
        if listed is None:
            listed = plan(tracer.events, scenario.perturbations, options.seed, stream_.redeliveries)
        schedule = listed.scaled(scale)
        check_schedule_time(max(schedule.at, default=0.0), scale, scenario.origin)
    faults = tuple(to_fault(f, scale) for f in scenario.faults)
    settle = settle_for(scenario.settle, scale, options)
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
        invariants=run_invariants(scenario),
        started_at=now_iso(),
        tracer_tag=tag,
        description=scenario.description,
        settings={
            "origin": scenario.origin,
            "perturbations": [{p.kind: dict(p.params)} for p in scenario.perturbations],
            # An explicit schedule (``schedule:``) replaced the plan: the report draws it, each
            # event named by its number in the source, as the schedule and explore name it.
            **(
                {"explicit_schedule": sorted({p.event + 1 for p in scenario.schedule})}
                if scenario.schedule is not None
                else {}
            ),
            # Real seconds, as the run waited (engine/_options.settle_for); faults are in the
            # journal's own table.
            "settle": {"quiet": settle.quiet, "deadline": settle.deadline},
            "time_scale": scale,
            # When the run restarts the target (run seconds); the restart Marks say when it did.
            **({"restarts": [t * scale for t in scenario.restarts]} if scenario.restart else {}),
            **({FAULT_MARKS: True} if faults else {}),
            "timeout": scenario.delivery.timeout,
            # Planned as it is sent: known when it has no copies (one slot an event), else
            # counted when the run ends (``Recorder.stop``).
            PLANNED: planning.count if planning is not None else len(schedule),
            "downstream": f"{options.downstream_host}:{options.downstream_port}",
            "reproduce": options.reproduce,
            **({NOT_TRIED: [list(n) for n in options.not_tried]} if options.not_tried else {}),
            "redact": list(scenario.redact),
            "secret_env": scenario.delivery.secret_env,
            # Never the secret: what lets a report recognise it with its variable unset.
            **({"secret_fingerprint": fingerprint(signer.secret)} if signer.secret else {}),
            # The rotation on the run's clock and the sender's clock skew: what accepts_genuine
            # judges (the next secret only as a fingerprint, as the first).
            **sender_settings(scenario, signer),
            # Where the events' id, key and type were written (or read): what a refusal names.
            "paths": source_paths(scenario.source),
            # How a built-in hazard was applied to the project (scenario/_hazards), in words.
            **({"adapted": list(scenario.adapted)} if scenario.adapted else {}),
            # The invariants the project leaves out, with its reasons: not judged.
            **({LEFT_OUT: dict(scenario.left_out)} if scenario.left_out else {}),
            # The model the hazard assumed, the events' own unknown: what an update skipped as
            # stale cannot be judged by (``invariants/_newer_first``).
            **({MODEL_ASSUMED: scenario.model_assumed} if scenario.model_assumed else {}),
            # A recording's lines that redelivered an event (and where their payloads differ).
            **stream_.settings(scenario.source),
            # How a recording was replayed (its ids the run's own by default), with its events'
            # original ids.
            **replayed,
            # Which events drifted and how, with their original values: judged offline.
            **({"drift": drift_settings(drift_records)} if drift_records else {}),
            "signing": signer.scheme,
            # The tracer's rewriting and the correlation rules: what the hints name.
            **correlation.settings(),
            **provider_settings(provider),
            # Delivery id -> tamper mode: what rejects_forged judges, offline.
            "tampered": tampered_ids(schedule),
            # The downstreams' routes and any declared expected effects (expect:), offline.
            **scenario_settings(scenario),
            # The routes whose writes merge or append: what no_duplicate_effects judges.
            **repeat_settings(scenario),
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
    return PreparedRun(
        scenario=scenario,
        info=info,
        tracer=tracer,
        correlation=correlation,
        schedule=schedule,
        bodies=() if feed else tuple(body(payload_json(ev)) for ev in tracer.events),
        signer=signer,
        headers={**_BASE_HEADERS, **scenario.delivery.headers},
        time_scale=scale,
        faults=faults,
        settle=settle,
        provider=provider,
        feed=feed,
        plan=planning,
        recorded=recorded,
        restarts=tuple(t * scale for t in scenario.restarts) if scenario.restart else (),
    )


@_gc.paused()
def _refuse_unrunnable(scenario: Scenario, restarting: bool) -> None:
    """InputError for a scenario ``prepare`` cannot make one run of: a year (its months are),
    or one with restarts its caller does not make (``restarting``)."""
    run = f"run it with `harness run {scenario.name}`"
    if scenario.restarts and not restarting:
        what = "restarts the target mid-run (restarts:), which only `harness run` (and pytest's "
        what += "harness_run) does"
        hint = f"{run}; a load test does not restart the target"
    elif scenario.calendar is not None:
        what = "is a year (it has a calendar:): it runs as its months, not as one run"
        hint = f"{run} (docs/year.md), or drop its calendar: block"
    else:
        return
    raise InputError(f"scenario {scenario.name!r} {what}", where=scenario.origin, hint=hint)


def traced_whole(prepared: PreparedRun) -> PreparedRun:
    """``prepared``, its recording's events traced now if ``prepare(trace_later=True)`` put
    them off: the run prepared whole, as ``prepare`` makes it with the same tag."""
    recorded = prepared.recorded
    if recorded is None:
        return prepared
    scenario = prepared.scenario
    tracer, replayed = recorded.whole()
    tracing = tracing_of(scenario)
    correlation = Correlation(tracer, scenario.correlate, tracing, where=scenario.origin)
    body = _body_of(scenario.delivery.provider)
    settings = {**prepared.info.settings, **replayed, **correlation.settings()}
    return replace(
        prepared,
        info=replace(prepared.info, settings=settings),
        tracer=tracer,
        correlation=correlation,
        bodies=tuple(body(payload_json(ev)) for ev in tracer.events),
        recorded=None,
    )


def _body_of(provider: Provider | None) -> Callable[[str], bytes]:
    """A body's bytes from its payload's JSON text: laid out as the provider lays out its."""
    return str.encode if provider is None else provider.body


def _layout_of(provider: Provider | None) -> Layout:
    """How the provider lays out its bodies' JSON (json.dumps's own without one)."""
    return LAYOUTS[PYTHON if provider is None else provider.layout]


def _fed(
    scenario: Scenario, seed: int, tag: str, tracing: TracerSpec, body: Callable[[str], bytes]
) -> tuple[Feed, SyntheticSource] | None:
    """The Feed of a streamable scenario's events (none made yet) and their source; None for
    a scenario prepared whole."""
    source = scenario.source
    if not isinstance(source, SyntheticSource) or not streamable(scenario, tracing):
        return None
    made = laid_batches(source, seed, tag, tracing, _layout_of(scenario.delivery.provider))
    tracer = Tracer(tag, columns=True)
    return Feed(made, source.events, synthetic_types(source), tracer, body), source


def _traced(
    scenario: Scenario, seed: int, tag: str, tracing: TracerSpec, keep_reads: bool = False
) -> tuple[Stream, Tracer, Schedule | None, dict[str, Any]]:
    """The scenario's events traced; its stream without them (the traced events replace them:
    half the memory), an explicit schedule's slots, and how a recording was replayed.

    A synthetic source without an explicit schedule is traced as it is made: its untraced
    events are never all held at once; with one, made whole, then the events it names traced
    with their marks (``_tracer.Marks``), as they would be made."""
    source = scenario.source
    if scenario.schedule is None and type(source) is SyntheticSource:
        return Stream(()), Tracer(tag, traced_synthetic(source, seed, tag, tracing)), None, {}
    marks = None
    if type(source) is SyntheticSource:  # an explicit schedule's: marked as when streamed
        events, marks = marked_synthetic(source, seed, tag)
        stream = Stream(events)
    else:
        stream = load_stream(source, seed, tag)
        if not keep_reads:  # the events hold what they need of it: the rest goes before tracing
            let_go()
    events, listed = stream.events, None
    if scenario.schedule is not None:
        events, listed = explicit(events, scenario.schedule, scenario.origin)
    if marks is None and tracing.rewrite and not tracing.paths:  # a recording's, marked
        marks = record_marks(events)
    # Held as the text of their bodies and journal rows, written once (an event's payload
    # objects are several times its text, and few are read again).
    tracer = Tracer(tag, map(as_text, traced(events, tag, tracing, marks)))
    # Which recorded ids the tracer changed, before the untraced events are let go.
    replayed = replay_settings(source, tracing, events, tracer.events)
    return replace(stream, events=()), tracer, listed, replayed


def source_paths(source: Source) -> dict[str, str]:
    """``{"id": "$.id", "key": "$.key", ...}``: the paths a source set (or reads), when set."""
    found = {
        "id": source.id_path,
        "key": source.key_path,
        "type": source.type_path,
        "seq": getattr(source, "seq_path", None),
        # A recording's: where its reader found each event's time, if in the payload (a
        # Stripe export's $.created), so the judges know the automation could read it too.
        "time": recorded_time(source)
        if isinstance(source, RecordedSource)
        else getattr(source, "time_path", None),
    }
    return {k: v for k, v in found.items() if v}


def sender_settings(scenario: Scenario, signer: Signer) -> dict[str, object]:
    """The run's secret rotation (run seconds) and clock skew, when it has them."""
    found: dict[str, object] = {}
    rotation, spec = signer.rotation, scenario.delivery.rotation
    if rotation is not None and spec is not None:
        found["rotation"] = {
            "start": rotation.start,
            "end": rotation.end,
            "next_secret_env": spec.next_secret_env,
        }
        found["next_secret_fingerprint"] = fingerprint(rotation.secret)
    if signer.skew:
        found["clock_skew"] = signer.skew
    return found


def provider_settings(provider: Provider | None) -> dict[str, object]:
    if provider is None:
        return {}
    return {
        "provider": provider.name,
        "retries": list(provider.retries),  # on the run's clock
        "ack_timeout": provider.timeout,
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
