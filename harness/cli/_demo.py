"""``harness demo``: the standard suite against a fragile and a sound automation.

Both run as real processes on loopback, each writing to its own downstream double. The
demo passes when each behaves as designed: the fragile one fails, with evidence, at least one of
the invariants each scenario was built to break (FRAGILE_FAILS); the sound one passes
everything.
"""

from __future__ import annotations

import asyncio
import base64
import os
import secrets
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..core._flag_text import exact
from ..core._model import Status
from ..core._scenario import Scenario
from ..core._secret_env import next_secret_env
from ..drive._target import parse_target
from ..engine import EarlierRuns, RunOptions, RunResult, run_side_by_side, together
from ..engine._sampler import MemorySource
from ..history import merge_journals
from ..report._content import RunInput
from ..report.json import write_inputs
from ..scenario._load import resolve
from ._console import err, out, print_verdicts
from ._processes import Service, free_port, start_module
from ._progress import ProgressView

SECRET_ENV = "HARNESS_SECRET"
NEXT_SECRET_ENV = next_secret_env(SECRET_ENV)
HOOK_PATH = "/hooks/orders"


def run_demo(report: Path, seed: int, time_scale: float | None = None) -> int:
    # Its automations have no restart hook: deploy-restart is left out, as a project without
    # restart: skips it.
    suite = [s for s in resolve(["standard"]) if not s.restarts]
    secret, following = (_new_secret() for _ in range(2))
    # secret-rotation rolls the first to the second: the sound automation is given both, as
    # docs/providers.md asks; the fragile one checks no signature at all (not its flaw here).
    os.environ[SECRET_ENV], os.environ[NEXT_SECRET_ENV] = secret, following
    journals = {name: report.with_name(f"journal-{name}.db") for name in NAMES}
    # Each instance writes a journal of its own beside the report, merged into its
    # automation's journal once the runs are over (kept as they are if the demo is stopped).
    parts = {
        name: [report.with_name(f"journal-{name}-{k}.db") for k in range(1, INSTANCES + 1)]
        for name in NAMES
    }
    for journal in (*journals.values(), *(p for ps in parts.values() for p in ps)):
        for stale in (journal, Path(f"{journal}-wal"), Path(f"{journal}-shm")):
            stale.unlink(missing_ok=True)
    services: list[Service] = []
    with tempfile.TemporaryDirectory(prefix="harness-demo-") as state:
        try:
            keys = {SECRET_ENV: secret, NEXT_SECRET_ENV: following}
            instances = {name: _start(name, Path(state), keys, services) for name in NAMES}
            # The automations are separate processes with doubles of their own: driven side by
            # side, the demo takes the time of the slowest instance, not of every run in turn.
            options = {
                name: [
                    _options(name, k, service, port, seed, parts[name][k - 1], time_scale)
                    for k, (service, port) in enumerate(instances[name], 1)
                ]
                for name in NAMES
            }
            earlier = {name: [EarlierRuns() for _ in options[name]] for name in NAMES}
            first = dict(zip(NAMES, asyncio.run(_both(suite, options, earlier)), strict=True))
            fragile, sound = _again(suite, first, instances, (seed, time_scale), parts, earlier)
        finally:
            for service in services:
                service.stop()
    for name in NAMES:
        merge_journals(journals[name], parts[name])
        for part in parts[name]:
            part.unlink(missing_ok=True)
    runs = [(r.history, r.verdicts) for r in (*fragile, *sound)]
    print_verdicts(runs)
    inputs = [
        RunInput(h, v, journals["fragile" if i < len(fragile) else "sound"])
        for i, (h, v) in enumerate(runs)
    ]
    readable = report.with_suffix(".html")
    for path in dict.fromkeys((report, readable)):
        write_inputs(path, inputs)
    shown = " and ".join(str(j) for j in journals.values())
    err.print(f"report written to {report} and {readable} · journals {shown}")
    return _conclude(fragile, sound)


NAMES = ("fragile", "sound")
# Instances of each automation, each a process with a downstream double and a journal of its
# own, each taking the next scenario of the suite nobody has taken: measured on two cores,
# four bring the demo from 135 s of runs one after the other to about 40 s (benchmarks/README.md).
INSTANCES = 4


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _start(
    name: str, state: Path, keys: dict[str, str], services: list[Service]
) -> list[tuple[Service, int]]:
    """INSTANCES processes of the automation ``name``, started at once (each added to
    ``services`` as it is up, to be stopped); each with the port of its downstream double.
    The sound automation keeps its store in a folder of ``state`` of its own per instance."""
    ports = [free_port() for _ in range(INSTANCES)]

    def one(k: int) -> Service:
        store = ["--state-dir", str(state / f"{name}-{k}")] if name == "sound" else []
        args = ["--port", "0", "--downstream", f"http://127.0.0.1:{ports[k - 1]}", *store]
        return start_module(name, f"harness.demo.{name}", args, keys)

    with ThreadPoolExecutor(INSTANCES) as pool:
        started = [pool.submit(one, k) for k in range(1, INSTANCES + 1)]
        for future in started:
            if future.exception() is None:
                services.append(future.result())
        found = [future.result() for future in started]  # the first failure, if any
    err.print(
        f"[bold]{name}[/] automation: {INSTANCES} instances listening at "
        + ", ".join(s.url for s in found)
    )
    return list(zip(found, ports, strict=True))


async def _both(
    suite: list[Scenario],
    options: dict[str, list[RunOptions]],
    earlier: dict[str, list[EarlierRuns]],
) -> tuple[list[RunResult], list[RunResult]]:
    # One automation's error ends the other's runs too, reported once.
    fragile, sound = await together(
        *(run_side_by_side(suite, options[name], earlier=earlier[name]) for name in NAMES)
    )
    return fragile, sound


# How much less compressed a scenario runs again when a verdict of its could not see what it
# judges (_unsure).
SLOWER = 4.0


def _again(
    suite: list[Scenario],
    first: dict[str, list[RunResult]],
    instances: dict[str, list[tuple[Service, int]]],
    flags: tuple[int, float | None],
    journals: dict[str, list[Path]],
    earlier: dict[str, list[EarlierRuns]],
) -> tuple[list[RunResult], list[RunResult]]:
    """Each automation's runs (``first``), and after them each of its scenarios ``_unsure``
    names run once more, SLOWER times less compressed (at most real time), both automations'
    side by side: what an inconclusive verdict advises on a busy machine (a fault window no
    call met, a latency or a retry pace the machine's lateness may have set). The demo judges
    each automation on the later run. ``flags``: the demo's seed and time scale."""
    seed, time_scale = flags
    unsure = {name: _unsure(name, first[name]) for name in NAMES}
    again = {
        name: [
            replace(s, time_scale=scale)
            for s in suite
            if s.name in unsure[name] and (scale := _slower(s, time_scale)) is not None
        ]
        for name in NAMES
    }
    for name in NAMES:
        if again[name]:
            err.print(
                f"{name}: {len(again[name])} {_WHY[name]}, as a busy machine does "
                f"({', '.join(s.name for s in again[name])}): running them again {SLOWER:g} "
                "times less compressed, as those verdicts advise"
            )
    wanted = [name for name in NAMES if again[name]]
    if not wanted:
        return first["fragile"], first["sound"]
    options = {
        name: [
            _options(name, k, service, port, seed, journals[name][k - 1], time_scale, again=True)
            for k, (service, port) in enumerate(instances[name], 1)
        ]
        for name in wanted
    }
    later = asyncio.run(
        together(
            *(
                run_side_by_side(again[name], options[name], earlier=earlier[name])
                for name in wanted
            )
        )
    )
    runs = {name: [*first[name], *more] for name, more in zip(wanted, later, strict=True)}
    return runs.get("fragile", first["fragile"]), runs.get("sound", first["sound"])


_WHY = {
    "fragile": "of the scenarios built to break it left the invariants they target inconclusive "
    "and failed none",
    "sound": "of its scenarios left a verdict inconclusive",
}


def _unsure(name: str, runs: list[RunResult]) -> set[str]:
    """The scenarios to run ``name`` again on. The sound automation: those where a verdict
    was inconclusive and none failed. The fragile one: those built to break it (FRAGILE_FAILS)
    where none of the invariants they target failed and one was inconclusive — the run could
    not see the flaw (its fault window met no call, the machine starved the automation). One
    where every targeted invariant passed is never run again: that is fragile no longer
    failing as designed, which the demo must say, not retry."""
    unsure = set()
    for r in runs:
        scenario = r.history.info.scenario
        judged = (
            r.verdicts
            if name == "sound"
            else [v for v in r.verdicts if v.invariant in FRAGILE_FAILS.get(scenario, ())]
        )
        if any(v.status is Status.INCONCLUSIVE for v in judged) and not any(
            v.status is Status.FAIL for v in judged
        ):
            unsure.add(scenario)
    return unsure


def _slower(scenario: Scenario, time_scale: float | None) -> float | None:
    """The time scale to run ``scenario`` again at: SLOWER times its own (or the run's), at most
    1; None where it already ran in real time."""
    scale = time_scale if time_scale is not None else (scenario.time_scale or 1.0)
    return None if scale >= 1.0 else min(1.0, scale * SLOWER)


def _options(
    name: str,
    k: int,
    service: Service,
    port: int,
    seed: int,
    journal: Path,
    time_scale: float | None,
    *,
    again: bool = False,
) -> RunOptions:
    return RunOptions(
        target=parse_target(service.url + HOOK_PATH),
        target_name=f"{name} again" if again else name,
        seed=seed,
        journal=journal,
        downstream_port=port,
        listeners=(ProgressView(f"{name} {k}"),),
        reproduce=f"harness demo --seed {seed}"
        + (f" --time-scale {exact(time_scale)}" if time_scale is not None else ""),
        # Run again: at each scenario's own scale, set by ``_again``.
        time_scale=None if again else time_scale,
        # Its process is watched: an answer late for want of a CPU is the machine's.
        memory=MemorySource(pid=service.process.pid),
    )


# What the fragile automation is built to fail, per scenario of the standard suite: at least one
# of these invariants. A scenario not named here may pass (a burst on loopback does not break it).
FRAGILE_FAILS: dict[str, frozenset[str]] = {
    name: frozenset(invariants)
    for name, invariants in {
        "duplicate-storm": ["no_duplicate_effects"],
        "simultaneous-same-record": ["per_key_order", "final_state_matches_baseline"],
        "out-of-order": ["per_key_order", "final_state_matches_baseline"],
        "downstream-outage": ["no_server_errors", "recovers_after_outage"],
        "downstream-throttled": ["no_server_errors", "recovers_after_outage"],
        "ambiguous-commit": ["no_duplicate_effects"],
        "slow-downstream": ["ack_within"],
        "renamed-field": ["drift_is_loud"],
        "missing-field": ["drift_is_loud"],
        "big-number-ids": ["drift_is_loud", "big_numbers_intact"],
        "provider-retry-storm": ["no_duplicate_effects"],
        "provider-retry-storm-slack": ["no_duplicate_effects"],
        "provider-retry-storm-stripe": ["no_duplicate_effects"],
        "provider-retry-storm-shopify": ["no_duplicate_effects"],
        "forged-signature": ["rejects_forged"],
        "replayed-delivery": ["rejects_forged"],
        "import-run-twice": ["no_duplicate_effects", "final_state_matches_baseline"],
    }.items()
}


def _conclude(fragile: list[RunResult], sound: list[RunResult]) -> int:
    # A scenario run again (_again): each automation is judged on its later run.
    lasts = [{r.history.info.scenario: r for r in runs} for runs in (fragile, sound)]
    agains = [len(runs) - len(last) for runs, last in zip((fragile, sound), lasts, strict=True)]
    missed = []
    caught = 0
    for r in lasts[0].values():
        expected = FRAGILE_FAILS.get(r.history.info.scenario)
        if expected is None:
            continue
        failed = {v.invariant for v in r.verdicts if v.status is Status.FAIL}
        if failed & expected:
            caught += 1
            continue
        unsure = sorted(
            v.invariant
            for v in r.verdicts
            if v.invariant in expected and v.status is Status.INCONCLUSIVE
        )
        missed.append(
            f"{r.history.info.scenario} (expected {' or '.join(sorted(expected))}; "
            f"failed {', '.join(sorted(failed)) or 'nothing'}"
            + (f"; inconclusive {', '.join(unsure)}" if unsure else "")
            + ")"
        )
    sound_bad = [
        f"{r.history.info.scenario}::{v.invariant}"
        for r in lasts[1].values()
        for v in r.verdicts
        if not v.passed
    ]
    if not missed:
        out.print(
            f"[green]✓[/] fragile failed as designed in all {caught} scenarios built to break it"
            + _less(agains[0])
        )
    else:
        out.print(f"[red]✗[/] fragile did not fail as designed in: {'; '.join(missed)}")
    if not sound_bad:
        total = sum(len(r.verdicts) for r in lasts[1].values())
        out.print(f"[green]✓[/] sound passed all {total} verdicts" + _less(agains[1]))
    else:
        out.print(
            f"[red]✗[/] sound was expected to pass everything; it did not: {', '.join(sound_bad)}"
        )
    return 0 if not missed and not sound_bad else 1


def _less(again: int) -> str:
    return f" ({again} of its scenarios run again less compressed)" if again else ""
