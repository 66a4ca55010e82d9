"""Locust's event hooks and custom messages that drive a harness run.

init           (local, master) resolve the scenario and prepare the run: bad input stops Locust
               with exit code 2 before any user starts
test_start     (local, master) start the recorder process; the master sends every connected
               worker its plan (the scenario, seed, tracer tag and its share)
request        (local, worker) a ScenarioUser's request becomes a delivery row
test_stop      collect the last rows, then settle, judge and report; the exit code follows
quitting       a run still open (Ctrl-C, SIGTERM) ends aborted, its journal kept

Messages: master -> worker ``harness_plan``, ``harness_stop``; worker -> master
``harness_rows``, ``harness_exhausted``, ``harness_error``; and the clock measurement's as a
worker joins and as the test ends (``_clock``).
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import pickle
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn
from weakref import WeakKeyDictionary

import gevent
from locust import argument_parser, events
from locust.env import Environment
from locust.runners import (
    STATE_MISSING,
    STATE_RUNNING,
    STATE_SPAWNING,
    MasterRunner,
    Runner,
    WorkerRunner,
)

from harness import (
    HarnessError,
    InputError,
    PreparedRun,
    Project,
    Redactor,
    RunOptions,
    Scenario,
    load_project,
    prepare,
    resolve_hazards,
    without_own_ports,
)

from ._clock import BUDGET, WAIT, Clocks, Reading, widened
from ._clock import settings as clock_settings
from ._plan import partition, unretried, with_events, without_clean_run
from ._session import Owner, RecorderProcess, Row, Sender
from ._stopping import Stopped, stop

if TYPE_CHECKING:
    from ._user import ScenarioUser

log = logging.getLogger("harness_locust")


def _said(exc: BaseException) -> str:
    """An error's message as every line harness prints: redacted (docs/report.md)."""
    return Redactor.for_environment(os.environ).text(str(exc))


DOWNSTREAM = "127.0.0.1:9100"  # where the double listens unless --harness-downstream says
CONTEXT_KEY = "harness_slot"  # in a request's context: (Sender, slot number)
FINALS_MARGIN = 10.0  # beyond the delivery timeout, for workers' last rows to arrive


@dataclass(frozen=True, slots=True)
class Settings:
    """The ``--harness-*`` options, as given."""

    scenario: str | None = None
    seed: int | None = None
    # None: not given, the default address; a downstream's own ``port:`` is kept. Given, it
    # says where every double listens, as ``harness run``'s --downstream does.
    downstream: str | None = None
    report: Path | None = None
    journal: Path | None = None
    events: int | None = None
    settle_quiet: float | None = None  # real seconds, replacing the scenario's settle.quiet
    settle_deadline: float | None = None
    target_name: str | None = None
    allow_hosts: tuple[str, ...] = ()
    reproduce: str | None = None
    listen_beyond_loopback: bool = False
    project: Path | None = None  # harness.yaml: the built-in scenario is applied to it


@dataclass(slots=True)
class _State:
    """One Locust environment's part in harness runs."""

    classes: list[type[ScenarioUser]]
    scenario: Scenario | None = None  # local, master: what every test of this process runs
    options: RunOptions | None = None
    report: Path | None = None
    pending: PreparedRun | None = None  # prepared at init, used by the first test
    owner: Owner | None = None
    sender: Sender | None = None
    timeline: bool = False
    times: list[float] = field(default_factory=list)  # the slots' times of ``times_of``
    times_of: PreparedRun | None = None
    failed: int | None = None  # an exit code a worker's error set
    # Spawned at init, so that its interpreter starts before the test's clock does (Locust's
    # -t counts from test start); a later test of the same process spawns its own.
    spare: RecorderProcess | None = None
    starting: bool = False  # between test start and the recorder's "ready"
    clocks: Clocks | None = None  # master: its workers' clocks
    joined: dict[str, Reading] = field(default_factory=dict)  # master: the run's, at its start
    # Worker: the run the master ended while this worker still prepared its plan; the plan,
    # once ready, ships its final word at once (none delivered) instead of never.
    stopped_run: str | None = None


_states: WeakKeyDictionary[Environment, _State] = WeakKeyDictionary()


def sender_of(environment: Environment) -> Sender | None:
    state = _states.get(environment)
    return state.sender if state is not None else None


def timeline_of(environment: Environment) -> tuple[list[float], bool, float, float | None] | None:
    """The schedule's slot times of the current (or next) run, whether every slot was
    delivered, the delivery timeout, and the wall-clock time of run time 0 (None while the
    recorder is still starting: the run's clock has not begun)."""
    state = _states.get(environment)
    if state is None:
        return None
    prepared = state.owner.prepared if state.owner is not None else state.pending
    if prepared is None:
        return None
    if state.times_of is not prepared:
        state.times, state.times_of = prepared.schedule.at.tolist(), prepared
    done = state.owner is not None and state.owner.done
    wall0 = state.owner.wall0 if state.owner is not None else None
    return state.times, done, prepared.scenario.delivery.timeout, wall0


# ---- command line ------------------------------------------------------------------------


@events.init_command_line_parser.add_listener
def _add_options(parser: Any, **_: Any) -> None:
    # Locust's own parser, not an argument group: only it takes include_in_web_ui.
    hidden = {"include_in_web_ui": False}
    parser.add_argument(
        "--harness-scenario",
        default=None,
        help="Scenario: a built-in name or a .yaml path (else the ScenarioUser's `scenario`)",
        **hidden,
    )
    parser.add_argument(
        "--harness-seed", type=int, default=None, help="Seed of the schedule", **hidden
    )
    parser.add_argument(
        "--harness-downstream",
        # No default of its own: given (even as the default address), it wins over the
        # downstreams' own ports; left out, they are kept.
        default=None,
        help=f"HOST:PORT where the downstream double listens (default {DOWNSTREAM}; "
        "given, over the downstreams' own ports)",
        **hidden,
    )
    parser.add_argument("--harness-report", default=None, help="Write a report here", **hidden)
    parser.add_argument("--harness-journal", default=None, help="The run's journal", **hidden)
    parser.add_argument(
        "--harness-events",
        type=int,
        default=None,
        help="Events to generate (synthetic sources), records and pace scaled alike",
        **hidden,
    )
    for which in ("quiet", "deadline"):
        parser.add_argument(
            f"--harness-settle-{which}",
            type=float,
            default=None,
            help=f"Real seconds replacing the scenario's settle.{which} (harness run's "
            f"--settle-{which})",
            **hidden,
        )
    parser.add_argument("--harness-target-name", default=None, help="Label in reports", **hidden)
    parser.add_argument(
        "--harness-allow-host",
        action="append",
        default=[],
        help="A non-loopback target host you own (repeatable)",
        **hidden,
    )
    parser.add_argument(
        "--harness-listen-beyond-loopback",
        action="store_true",
        default=False,
        help="Let the downstream double listen on a non-loopback address",
        **hidden,
    )
    parser.add_argument("--harness-reproduce", default=None, help=argparse.SUPPRESS, **hidden)
    parser.add_argument(
        "--harness-project",
        default=None,
        help="A project file (harness.yaml) the built-in scenario is applied to",
        **hidden,
    )


def settings_of(environment: Environment) -> Settings:
    o = environment.parsed_options
    if o is None:
        return Settings()

    def path(value: str | None) -> Path | None:
        return Path(value) if value else None

    return Settings(
        scenario=getattr(o, "harness_scenario", None),
        seed=getattr(o, "harness_seed", None),
        downstream=getattr(o, "harness_downstream", None) or None,
        report=path(getattr(o, "harness_report", None)),
        journal=path(getattr(o, "harness_journal", None)),
        events=getattr(o, "harness_events", None),
        settle_quiet=getattr(o, "harness_settle_quiet", None),
        settle_deadline=getattr(o, "harness_settle_deadline", None),
        target_name=getattr(o, "harness_target_name", None),
        allow_hosts=tuple(getattr(o, "harness_allow_host", None) or ()),
        reproduce=getattr(o, "harness_reproduce", None),
        listen_beyond_loopback=bool(getattr(o, "harness_listen_beyond_loopback", False)),
        project=path(getattr(o, "harness_project", None)),
    )


# ---- init: resolve and prepare -------------------------------------------------------------


@events.init.add_listener
def _on_init(environment: Environment, **_: Any) -> None:
    from ._user import ScenarioUser

    classes = [c for c in environment.user_classes if issubclass(c, ScenarioUser)]
    runner = environment.runner
    if not classes or runner is None:
        return
    state = _State(classes)
    _states[environment] = state
    if isinstance(runner, WorkerRunner):
        defaults_parsed_once()
        # Concurrent: preparing a big run takes seconds, and the worker's message loop must
        # go on meanwhile (spawn messages, the master's heartbeats).
        runner.register_message("harness_plan", _on_plan, concurrent=True)
        runner.register_message("harness_stop", _on_stop_request)
        runner.register_message("harness_clock_ask", _on_clock_ask)
        # Now that it can answer: the master measures this worker's clock (_clock). A worker
        # has connected by its init, so the master hears this.
        runner.send_message("harness_hello")
        return
    if isinstance(runner, MasterRunner):
        runner.register_message("harness_rows", _on_rows)
        runner.register_message("harness_exhausted", _on_exhausted)
        runner.register_message("harness_error", _on_worker_error)
        runner.register_message("harness_hello", _on_hello)
        runner.register_message("harness_clock_tell", _on_clock_tell)
        state.clocks = Clocks(
            lambda worker, round_: runner.send_message(
                "harness_clock_ask", {"round": round_}, client_id=worker
            )
        )
    # Ctrl-C or SIGTERM before Locust sets its own handlers (while preparing, or waiting for
    # workers) would end it with a traceback or without a word: the harness says what it was.
    previous = {n: signal.signal(n, stop) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        _prepare_owner(environment, state, settings_of(environment))
        if isinstance(runner, MasterRunner):
            _wait_for_workers(environment, runner)
    except HarnessError as exc:
        log.error("harness: %s", _said(exc))
        sys.exit(exc.exit_code)
    except Stopped:
        _never_began(environment, runner, "stopped (Ctrl-C or SIGTERM) before the test began")
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    # Locust sets its -t timer from gevent's loop time, which is cached: it is older than now
    # by the whole start-up and preparation (seconds on a busy machine), so -t could expire
    # before the test started. Counting from here, it measures the test.
    gevent.get_hub().loop.update_now()


def defaults_parsed_once() -> None:
    """Locust's worker, for each spawn message, builds and runs its whole argument parser once
    per option the master sent (``default_args_dict()`` inside a comprehension in
    ``WorkerRunner.handle_message``): 69 parses, 0.6 CPU-s, in the greenlet that also answers
    the master's heartbeats. On a loaded machine that took over 3 s, the master marked its
    workers missing and ended the test before they sent anything. Locust's defaults (its own
    options and LOCUST_* variables, no config file) do not change within a process: parsed once.
    """
    if not hasattr(argument_parser.default_args_dict, "cache_info"):
        argument_parser.default_args_dict = functools.cache(argument_parser.default_args_dict)


def _wait_for_workers(environment: Environment, runner: MasterRunner) -> None:
    """A headless master waits for its workers (``--expect-workers``) before the test starts.
    Locust's own wait gives up (``--expect-workers-max-wait``) with exit code 1, which the
    harness's rule keeps for a failed invariant: the harness waits here instead, and a wait
    that ends with workers missing ends a test that never began with exit code 3."""
    options = environment.parsed_options
    if options is None or not options.headless:
        return
    expected, wait = options.expect_workers, options.expect_workers_max_wait
    options.expect_workers_max_wait = 0  # Locust's own give-up never comes first
    if len(runner.clients.ready) < expected:
        log.info("harness: waiting for %d worker(s) to connect", expected)
    start = time.monotonic()
    while (ready := len(runner.clients.ready)) < expected:
        if wait and time.monotonic() - start > wait:
            _never_began(
                environment,
                runner,
                f"gave up waiting for workers to connect ({ready} of {expected} after {wait:g} s, "
                "--expect-workers-max-wait)",
            )
        gevent.sleep(0.1)
    # And for their clocks, measured as they joined (up to BUDGET s on a busy machine): here,
    # before Locust's -t counts, rather than at test start. One not read by then is waited for
    # there, and named if it never is.
    _measured(_states[environment], _worker_ids(runner), BUDGET + 1.0)


def _never_began(environment: Environment, runner: Runner, why: str) -> NoReturn:
    """End Locust before any test began: exit code 3, saying why; a prepared run is aborted."""
    log.error("harness: %s: nothing sent or judged", why)
    environment.process_exit_code = 3
    environment.events.quitting.fire(environment=environment, reverse=True)
    runner.quit()
    sys.exit(3)


def _prepare_owner(environment: Environment, state: _State, settings: Settings) -> None:
    scenario = _scenario(state.classes, settings)
    target = _target(environment, state.classes)
    seed_given = settings.seed is not None
    options = RunOptions.create(
        target,
        seed=settings.seed,
        downstream=settings.downstream or DOWNSTREAM,
        journal=settings.journal,
        target_name=settings.target_name,
        allow_hosts=settings.allow_hosts,
        settle_quiet=settings.settle_quiet,
        settle_deadline=settings.settle_deadline,
        listen_beyond_loopback=settings.listen_beyond_loopback,
    )
    reproduce = settings.reproduce or _reproduce(options.seed, seed_given)
    state.options = replace(options, reproduce=reproduce)
    state.scenario = scenario
    state.report = settings.report
    state.pending = prepare(scenario, state.options)
    state.spare = RecorderProcess()
    log.info(
        "harness: scenario %s, %d deliveries planned, seed %d, journal %s",
        scenario.name,
        len(state.pending.schedule),
        options.seed,
        options.journal,
    )


def _scenario(classes: Sequence[type[ScenarioUser]], settings: Settings) -> Scenario:
    """The one scenario of this load test: ``--harness-scenario``, else the classes' own."""
    if settings.scenario:
        given: list[str | Scenario] = [settings.scenario]
    else:
        given = []
        for c in classes:
            if c.scenario is not None and c.scenario not in given:
                given.append(c.scenario)
    if not given:
        raise InputError(
            "no scenario to run",
            where=", ".join(c.__name__ for c in classes),
            hint='set `scenario = "bulk-import-burst"` (a name, a .yaml path or a Scenario) '
            "on your ScenarioUser, or pass --harness-scenario NAME",
        )
    if len(given) > 1:
        names = ", ".join(repr(g if isinstance(g, str) else g.name) for g in given)
        raise InputError(
            f"the ScenarioUser classes name different scenarios ({names})",
            hint="one load test runs one scenario: give every ScenarioUser the same one",
        )
    (ref,) = given
    project = load_project(settings.project) if settings.project is not None else None
    scenario = ref if isinstance(ref, Scenario) else _one(ref, project)
    counts = {c.event_count for c in classes if c.event_count is not None}
    count = settings.events or (counts.pop() if len(counts) == 1 else None)
    if count is None and len(counts) > 1:
        raise InputError(f"the ScenarioUser classes set different event_count values {counts}")
    sized = scenario if count is None else with_events(scenario, count)
    (listening,) = without_own_ports([sized], settings.downstream is not None)
    return without_clean_run(unretried(listening))


def _one(ref: str, project: Project | None) -> Scenario:
    """The scenario named ``ref``, applied to the project when it is a built-in hazard."""
    return resolve_hazards([ref], project).one(ref, "a load test", "--harness-scenario")


def _target(environment: Environment, classes: Sequence[type[ScenarioUser]]) -> str:
    host = environment.host or classes[0].host
    if not host:
        raise InputError(
            "no target to load-test",
            where="--host",
            hint="pass --host http://127.0.0.1:8000/hooks/orders (the webhook URL), or set "
            "`host` (and `path`) on your ScenarioUser",
        )
    return host + classes[0].path


def _reproduce(seed: int, seed_given: bool) -> str:
    args = ["locust", *sys.argv[1:]]
    return shlex.join(args if seed_given else [*args, "--harness-seed", str(seed)])


# ---- test start: the recorder, the plan -----------------------------------------------------


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    state = _states.get(environment)
    runner = environment.runner
    if state is None or state.options is None or state.scenario is None or runner is None:
        return  # a worker, or no ScenarioUser: workers wait for their plan
    from ._user import ScenarioShape

    prepared = state.pending or prepare(state.scenario, state.options)  # a new tracer tag
    # Kept pending while the recorder starts (seconds on a busy machine): a ScenarioShape
    # ticking meanwhile must see a run about to begin, not none (which would end the test).
    state.pending = prepared
    state.failed = None
    state.timeline = isinstance(environment.shape_class, ScenarioShape)
    workers = _worker_ids(runner) if isinstance(runner, MasterRunner) else [""]
    offsets = [0.0]
    if isinstance(runner, MasterRunner) and workers:
        try:
            readings = _readings(state, workers)
        except RuntimeError as exc:
            log.error("harness: %s", exc)
            environment.process_exit_code = 3
            gevent.spawn(_stop_test, environment)
            return
        offsets = [r.offset for r in readings]
        state.joined = dict(zip(workers, readings, strict=True))
        settings = {**prepared.info.settings, **clock_settings(readings)}
        prepared = replace(prepared, info=replace(prepared.info, settings=settings))
        state.pending = prepared
    owner = Owner(
        prepared,
        state.options,
        state.report,
        workers=len(workers),
        on_all_exhausted=lambda: _all_exhausted(environment),
    )
    spare, state.spare = state.spare, None
    state.starting = True
    try:
        wall0 = owner.start(spare)
    except RuntimeError as exc:
        state.pending = None
        log.error("harness: %s", _said(exc))
        environment.process_exit_code = 3
        gevent.spawn(_stop_test, environment)
        return
    finally:
        state.starting = False
    state.owner, state.pending = owner, None
    if isinstance(runner, MasterRunner):
        _send_plans(runner, state, prepared, workers, wall0, offsets)
    else:
        state.sender = Sender(
            prepared,
            list(range(len(prepared.schedule))),
            index=0,
            wall0=wall0,
            timeline=state.timeline,
            ship=lambda rows, final: _local_rows(state, rows, final),
            on_exhausted=lambda: owner.exhausted(0),
        )


def _worker_ids(runner: MasterRunner) -> list[str]:
    clients = runner.clients
    return sorted(c.id for c in clients.ready + clients.spawning + clients.running)


def _readings(state: _State, workers: Sequence[str]) -> list[Reading]:
    """The workers' clocks, waiting (at most ``_clock.WAIT`` s) for those still measured.

    Raises RuntimeError naming the workers whose clock did not answer."""
    clocks = state.clocks
    assert clocks is not None
    found = _measured(state, workers, WAIT)
    missing = [w for w in workers if w not in found]
    if missing:
        raise RuntimeError(
            f"worker(s) {', '.join(missing)} did not answer the master's clock measurement "
            f"within {WAIT:g} s: their deliveries could not be timed on the run's clock; "
            "nothing sent or judged (run the same harness version on every worker)"
        )
    for index, w in enumerate(workers):
        r = found[w]
        log.info(
            "harness: worker index %d's clock is %+.4f s from the master's, within %.2g ms "
            "(the quickest of %d round trips)",
            index,
            r.offset,
            r.uncertainty * 1000,
            clocks.round_trips(w),
        )
    return [found[w] for w in workers]


def _clocks_again(environment: Environment, state: _State) -> dict[str, object] | None:
    """The run's clocks settings with each worker's clock measured again, now that its last
    rows are in, before the run is judged: a clock that drifted or was stepped during the test
    widens the run's bound (``_clock.widened``). A worker gone meanwhile keeps its join's
    reading, said so. None for a run without workers."""
    runner = environment.runner
    clocks, joined = state.clocks, state.joined
    if clocks is None or not joined or not isinstance(runner, MasterRunner):
        return None
    # Stopping or stopped by now, as well as running: any that still has a heartbeat.
    present = [c.id for c in runner.clients.all if c.id in joined and c.state != STATE_MISSING]
    for w in present:
        clocks.hello(w)
    ended = _measured(state, present, BUDGET + 1.0)
    for index, (w, first) in enumerate(joined.items()):
        end = ended.get(w)
        if end is None:
            log.warning(
                "harness: worker index %d's clock was not measured again at the end (it left "
                "or did not answer): its times are known to within %.2g ms as at its join",
                index,
                first.uncertainty * 1000,
            )
            continue
        log.info(
            "harness: worker index %d's clock is %+.4f s from the master's at the end, moved "
            "%+.4f s since it joined: its times are known to within %.3f ms",
            index,
            end.offset,
            end.offset - first.offset,
            widened(first, end) * 1000,
        )
    return clock_settings(list(joined.values()), [ended.get(w) for w in joined])


def _measured(state: _State, workers: Sequence[str], wait: float) -> dict[str, Reading]:
    """The readings of ``workers``' clocks, waiting at most ``wait`` s for those not read."""
    clocks = state.clocks
    assert clocks is not None
    start = time.monotonic()
    found: dict[str, Reading] = {}
    while True:
        found.update((w, r) for w in workers if (r := clocks.reading(w)) is not None)
        if len(found) == len(workers) or time.monotonic() - start > wait:
            return found
        gevent.sleep(0.02)


def _send_plans(
    runner: MasterRunner,
    state: _State,
    prepared: PreparedRun,
    workers: list[str],
    wall0: float,
    offsets: list[float],
) -> None:
    assert state.options is not None
    common = {
        "scenario": pickle.dumps(prepared.scenario),
        "seed": state.options.seed,
        "target": state.options.target.ref,
        "tag": prepared.info.tracer_tag,
        "run_id": prepared.info.run_id,
        "planned": len(prepared.schedule),
        "count": len(workers),
        "wall0": wall0,
        "timeline": state.timeline,
    }
    for index, worker in enumerate(workers):
        plan = {**common, "index": index, "offset": offsets[index]}
        runner.send_message("harness_plan", plan, client_id=worker)


def _local_rows(state: _State, rows: list[Row], final: bool) -> None:
    owner, sender = state.owner, state.sender
    if owner is None:
        return
    owner.rows(rows)
    if final and sender is not None:
        owner.final(0, sender.planned, sender.delivered)


def _all_exhausted(environment: Environment) -> None:
    """Every slot was delivered: end the test, unless the ScenarioShape ends it."""
    state = _states.get(environment)
    if state is not None and not state.timeline:
        gevent.spawn(_stop_test, environment)


def _stop_test(environment: Environment) -> None:
    runner = environment.runner
    if runner is None:
        return
    options = environment.parsed_options
    if options is not None and options.headless:
        runner.quit()
    else:
        runner.stop()


# ---- worker: plan, rows, stop ---------------------------------------------------------------


def _on_plan(environment: Environment, msg: Any, **_: Any) -> None:
    state = _states.get(environment)
    runner = environment.runner
    if state is None or not isinstance(runner, WorkerRunner):
        return
    data = msg.data
    index = int(data["index"])
    try:
        # In a thread: generating events is CPU work that would starve the worker's greenlets
        # (heartbeats included: the master would drop a worker silent for 3 s).
        prepared = gevent.get_hub().threadpool.apply(_prepare_worker, (data,))
    except HarnessError as exc:
        log.error("harness: %s", _said(exc))
        runner.send_message(
            "harness_error", {"index": index, "message": _said(exc), "exit_code": exc.exit_code}
        )
        return
    slots = partition(prepared, index, int(data["count"]))
    run_id = prepared.info.run_id

    def ship(rows: list[Row], final: bool) -> None:
        runner.send_message(
            "harness_rows",
            {
                "run_id": run_id,
                "index": index,
                "rows": rows,
                "final": final,
                "planned": len(slots),
                "delivered": sender.delivered,
            },
        )

    sender = Sender(
        prepared,
        slots,
        index=index,
        wall0=float(data["wall0"]),
        timeline=bool(data["timeline"]),
        ship=ship,
        on_exhausted=lambda: runner.send_message("harness_exhausted", {"index": index}),
        offset=float(data["offset"]),
    )
    state.sender = sender
    if state.stopped_run == run_id:
        log.warning(
            "harness: worker index %d of %d workers: the master ended the test before this "
            "worker's plan was ready; none of its %d slots delivered",
            index,
            data["count"],
            len(slots),
        )
        sender.finish()
        return
    log.info(
        "harness: worker index %d of %d workers delivers %d slots", index, data["count"], len(slots)
    )


def _prepare_worker(data: dict[str, Any]) -> PreparedRun:
    """The master's run, prepared again here from its scenario, seed and tracer tag."""
    scenario: Scenario = pickle.loads(data["scenario"])
    target = str(data["target"])
    options = RunOptions.create(target, seed=int(data["seed"]), allow_hosts=[_host(target)])
    prepared = prepare(scenario, options, tag=str(data["tag"]))
    if prepared.info.run_id != data["run_id"] or len(prepared.schedule) != data["planned"]:
        raise InputError(
            f"this worker planned {len(prepared.schedule)} deliveries for run "
            f"{prepared.info.run_id!r}; the master {data['planned']} for {data['run_id']!r}",
            hint="run the same harness version, scenario files and event files on every worker",
        )
    return prepared


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).hostname or ""


def _on_clock_ask(environment: Environment, msg: Any, **_: Any) -> None:
    """The master measures this worker's clock (``_clock``): answer at once with its time."""
    runner = environment.runner
    if runner is not None:
        tell = {"round": msg.data["round"], "time": time.time()}
        runner.send_message("harness_clock_tell", tell)


def _on_stop_request(environment: Environment, msg: Any, **_: Any) -> None:
    """The master is ending the test: stop this worker's users, then ship the last rows. A
    plan still being prepared (a busy machine: seconds) ships them once it is ready."""
    state = _states.get(environment)
    runner = environment.runner
    if state is None or runner is None:
        return
    run_id = (msg.data or {}).get("run_id")
    sender = state.sender
    if sender is None or sender.prepared.info.run_id != run_id:
        state.stopped_run = run_id
        return
    if runner.state in (STATE_RUNNING, STATE_SPAWNING):
        runner.stop()  # fires test_stop here, which finishes the sender
    sender.finish()


# ---- master: rows, exhaustion, errors --------------------------------------------------------


def _on_rows(environment: Environment, msg: Any, **_: Any) -> None:
    state = _states.get(environment)
    if state is None or state.owner is None:
        return
    data = msg.data
    if data.get("run_id") != state.owner.prepared.info.run_id:
        return  # a share of an earlier test of this master's, shipped late
    state.owner.rows(data["rows"], int(data["index"]))
    if data["final"]:
        state.owner.final(int(data["index"]), int(data["planned"]), int(data["delivered"]))


def _on_hello(environment: Environment, msg: Any, **_: Any) -> None:
    state = _states.get(environment)
    if state is not None and state.clocks is not None:
        state.clocks.hello(msg.node_id)


def _on_clock_tell(environment: Environment, msg: Any, **_: Any) -> None:
    state = _states.get(environment)
    if state is not None and state.clocks is not None:
        state.clocks.tell(msg.node_id, int(msg.data["round"]), float(msg.data["time"]))


def _on_exhausted(environment: Environment, msg: Any, **_: Any) -> None:
    state = _states.get(environment)
    if state is not None and state.owner is not None:
        state.owner.exhausted(int(msg.data["index"]))


def _on_worker_error(environment: Environment, msg: Any, **_: Any) -> None:
    state = _states.get(environment)
    log.error("harness: worker %s: %s", msg.data["index"], msg.data["message"])
    if state is not None:
        state.failed = int(msg.data["exit_code"])
    environment.process_exit_code = int(msg.data["exit_code"])
    gevent.spawn(_stop_test, environment)


# ---- the end ------------------------------------------------------------------------------


@events.request.add_listener
def _on_request(
    context: dict[str, Any] | None = None,
    response: Any = None,
    exception: BaseException | None = None,
    start_time: float = 0.0,
    response_time: float = 0.0,
    **_: Any,
) -> None:
    claim = context.get(CONTEXT_KEY) if context else None
    if claim is None:
        return
    sender, n = claim
    status = getattr(response, "status_code", 0) or 0
    sender.answered(n, start_time, response_time, status, exception)


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    state = _states.get(environment)
    if state is None:
        return
    owner = state.owner
    if owner is None:  # a worker: its last rows go to the master
        if state.sender is not None and not state.sender.final:
            state.sender.finish()
        return
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        runner.send_message("harness_stop", {"run_id": owner.prepared.info.run_id})
    elif state.sender is not None and not state.sender.final:
        state.sender.finish()
    _finish(environment, state, owner, "complete")


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    state = _states.get(environment)
    if state is not None and state.options is not None and state.owner is None:
        # Stopped (Ctrl-C, -t, SIGTERM) before a run began: nothing was sent or judged, which
        # is never a pass. (A start that failed has said so and set its exit code.)
        if environment.process_exit_code is None:
            when = "while its recorder was starting" if state.starting else "before any test"
            log.error("harness: the load test ended %s: nothing sent or judged", when)
            environment.process_exit_code = 3
    if state is not None and state.owner is not None and state.owner.exit_code is None:
        if state.sender is not None and not state.sender.final:
            state.sender.finish()
        _finish(environment, state, state.owner, "aborted")


def _finish(environment: Environment, state: _State, owner: Owner, status: str) -> None:
    timeout = owner.prepared.scenario.delivery.timeout + FINALS_MARGIN
    complete = status == "complete"
    code = owner.finish(
        status,
        finals_timeout=timeout if complete else 1.0,
        # A run judged now; an aborted one (Ctrl-C, its workers going) keeps its join's.
        described=(lambda: _clocks_again(environment, state)) if complete else None,
    )
    environment.process_exit_code = state.failed if state.failed is not None else code
