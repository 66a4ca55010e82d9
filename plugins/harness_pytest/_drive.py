"""One run of one scenario through the engine, as the plugin's items and fixtures need it.

The engine does the run (``harness.run_scenarios``); this module only says where and how:
target, seed, the double's address, the journal, the reproduce line, and the respx routes
for an in-process app.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from harness.core._flag_text import exact

from ._routing import HttpxRouting
from ._settings import Settings, is_network
from ._xdist import network_lock

if TYPE_CHECKING:
    from harness import RunResult, Scenario


@dataclass(frozen=True, slots=True)
class RunPlan:
    """Where and how one scenario runs."""

    target: str
    target_name: str | None
    allow_hosts: tuple[str, ...]
    seed: int
    downstream: tuple[str, int]
    journal: Path
    reproduce: str
    lock: Path | None = None  # held while the run goes (xdist workers and a network target)
    settle_quiet: float | None = None  # real seconds, replacing the scenario's (the engine's rule)
    settle_deadline: float | None = None
    listen_beyond_loopback: bool = False


def plan_for(settings: Settings, target: str, seed: int, selector: str) -> RunPlan:
    """A run against ``target``; ``selector`` is what to give pytest to run it again."""
    downstream = settings.downstream_for(target)
    lock = None
    if settings.worker is not None and is_network(target):
        lock = settings.journal.parent / f".harness-downstream-{downstream[1]}.lock"
    return RunPlan(
        target=target,
        target_name=settings.target_name,
        allow_hosts=settings.allow_hosts,
        seed=seed,
        downstream=downstream,
        journal=settings.journal,
        reproduce=reproduce_line(settings, selector, target, seed, downstream),
        lock=lock,
        settle_quiet=settings.settle_quiet,
        settle_deadline=settings.settle_deadline,
        listen_beyond_loopback=settings.listen_beyond_loopback,
    )


def adjusted(scenario: Scenario, settings: Settings) -> Scenario:
    """The scenario with the session's overrides: the secret's variable, the time scale, and a
    given --harness-downstream in place of the downstreams' own ports. (The settle times go to
    the run's options: real seconds, as ``harness run --settle-*`` takes.)"""
    scenario = listening(scenario, settings.downstream_given)
    if settings.time_scale is not None:
        scenario = dataclasses.replace(scenario, time_scale=settings.time_scale)
    return signed(scenario, settings)


def signed(scenario: Scenario, settings: Settings) -> Scenario:
    """``scenario`` signing with the secret in --harness-secret-env's variable, if given."""
    if settings.secret_env is None:
        return scenario
    delivery = dataclasses.replace(scenario.delivery, secret_env=settings.secret_env)
    return dataclasses.replace(scenario, delivery=delivery)


def listening(scenario: Scenario, given: bool) -> Scenario:
    """``scenario`` as its doubles will listen: a downstream address ``given`` wins over the
    downstreams' own ``port:``s (a project's, a scenario file's), as for ``harness run``."""
    from harness import without_own_ports

    (chosen,) = without_own_ports([scenario], given)
    return chosen


def listening_at(settings: Settings, target: str) -> str:
    """Where the doubles of a run against ``target`` listen, as the session header says it: a
    given --harness-downstream; not given, the project's downstreams' own ports, each other
    one on the default port plus its position (the engine's rule, ``Recorder.start``)."""
    host, port = settings.downstream_for(target)
    project = settings.project
    own = () if settings.downstream_given or project is None else project.downstreams
    if not any(d.port for d in own):
        return f"downstream {_address(host, port)}"
    places = [f"{d.name} {_address(host, d.port or port + i)}" for i, d in enumerate(own)]
    return ("downstream " if len(places) == 1 else "downstreams ") + ", ".join(places)


def reproduce_line(
    settings: Settings, selector: str, target: str, seed: int, downstream: tuple[str, int]
) -> str:
    """One pytest command that runs the same scenario, target and seed again."""
    args = ["pytest", selector, "--harness-target", target, "--harness-seed", str(seed)]
    if settings.downstream_given:
        # Not given, none: rerun as printed, a named address would win over the downstreams'
        # own ports, where this run's doubles listened.
        args += ["--harness-downstream", _address(*downstream)]
    if settings.time_scale is not None:
        args += ["--harness-time-scale", exact(settings.time_scale)]
    if is_network(target):
        for allowed in settings.allow_hosts:
            args += ["--harness-allow-host", allowed]
    if settings.secret_env is not None:
        args += ["--harness-secret-env", settings.secret_env]
    if settings.settle_quiet is not None:
        args += ["--harness-settle-quiet", exact(settings.settle_quiet)]
    if settings.settle_deadline is not None:
        args += ["--harness-settle-deadline", exact(settings.settle_deadline)]
    for route in settings.httpx_routes:
        name = f"{route.downstream}=" if route.downstream else ""
        args += ["--harness-httpx-route", name + route.base_url]
    return shlex.join(args)


async def drive(scenario: Scenario, plan: RunPlan, routing: HttpxRouting | None) -> RunResult:
    """Run ``scenario`` once and judge it. Raises the engine's HarnessError subclasses."""
    from harness import RunOptions, run_scenarios

    host, port = plan.downstream
    if routing is not None:
        routing.bind(host, port, [d.name for d in scenario.downstreams])
    options = RunOptions.create(
        plan.target,
        seed=plan.seed,
        downstream=_address(host, port),
        journal=plan.journal,
        target_name=plan.target_name,
        allow_hosts=plan.allow_hosts,
        reproduce=plan.reproduce,
        settle_quiet=plan.settle_quiet,
        settle_deadline=plan.settle_deadline,
        listen_beyond_loopback=plan.listen_beyond_loopback,
    )
    with network_lock(plan.lock):
        (result,) = await run_scenarios([scenario], options)
    return result


def drive_blocking(scenario: Scenario, plan: RunPlan, routing: HttpxRouting | None) -> RunResult:
    """``drive`` from synchronous code: a test item, or a test function without a loop."""
    import asyncio

    return asyncio.run(drive(scenario, plan, routing))


@contextlib.contextmanager
def configured_routing(settings: Settings, target: str) -> Iterator[HttpxRouting | None]:
    """The routes of --harness-httpx-route, active while an in-process run goes; else None."""
    if not settings.httpx_routes or is_network(target):
        yield None
        return
    with routing_for(settings) as routing:
        yield routing


def routing_for(settings: Settings) -> HttpxRouting:
    """A routing to this session's double for in-process apps, with the configured routes."""
    try:
        routing = HttpxRouting(*settings.in_process_downstream())
    except ImportError:
        import pytest

        raise pytest.UsageError(
            "routing an in-process app's httpx calls to the double needs respx: pip install respx"
        ) from None
    for route in settings.httpx_routes:
        routing.forward(route.base_url, route.downstream)
    return routing


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
