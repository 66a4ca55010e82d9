"""The search: Hypothesis draws explicit schedules, each one short run against the target; a
failing one is shrunk and its minimal run kept.

A search is one invocation: every example (and the stateful-target probe) is journaled in one
journal with one ``EarlierRuns``, so an effect the target makes for an example after that
example's quiet goes back to it as a late effect, as between the scenarios of ``harness run``,
and never counts in the example that happens to be running."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.database import DirectoryBasedExampleDatabase, ExampleDatabase
from hypothesis.errors import Flaky

from ..core._errors import HarnessError, InputError, RunError
from ..core._model import Effect, Outcome, Status
from ..core._scenario import PlannedDelivery, Scenario
from ..drive._drift import is_drift
from ..drive._tracer import carries_other_tag
from ..engine import EarlierRuns, RunOptions, RunResult, run_scenarios
from ..history import load, merge_journals
from ..report import _sequence
from ..report._redact import Redactor
from ..strategies import Exploration, explorations
from ..strategies._schedules import MAX_DELIVERIES, SPACING, default_pool, pool_keys
from ._reset import check_reset, reset_target

# Real seconds of quiet that end an example's run (--settle-quiet replaces it). Below the 1 s
# floor of an ordinary run: an example is a few deliveries. Hypothesis runs the minimal schedule
# once more before it is reported (a pass then makes it ``flaky``), and the minimal scenario file
# replays it with the scenario's own settle rule (docs/explore.md).
EXAMPLE_QUIET = 0.5
EXAMPLE_DEADLINE = 10.0
# Real seconds of quiet an example waits while an accepted event still lacks its expected
# effect: no less than an ordinary run's 2 s (twice the 1 s floor), and a second more, as a held
# event's effect comes at the end of its hold counted from its arrival, and the quiet from the
# target's last call. Measured on the sound demo, which holds a ledger event whose earlier one is
# missing for 2 s: with twice the example's quiet (1 s) a held payout fell just after one run and
# inside another stretched by a late call of the example before — a clean run that saw it and a
# run that did not made a false ``no_lost_events`` (once in three searches of 100 examples).
EXAMPLE_PENDING = 3.0


@dataclass(frozen=True, slots=True)
class ExploreSettings:
    """How long and how widely to search. ``budget``: seconds after which no new example is
    started (shrinking a failure found by then still runs); ``seed``: None draws one, or 0 under
    CI (``CI`` set): replayable generation, with the example database still read first."""

    max_examples: int = 100
    budget: float | None = None
    seed: int | None = None
    database: Path | None = Path(".harness") / "explore-db"
    pool: int | None = None  # the source's first events drawn from; None: default_pool
    max_deliveries: int = MAX_DELIVERIES
    spacing: float = SPACING
    faults: tuple[str, ...] = ()
    tamper: bool = False
    # Not Phase.explain: it would drive more runs after the shrink, to word what it found.
    phases: tuple[Phase, ...] = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)


@dataclass(frozen=True, slots=True)
class Found:
    """A failing schedule, shrunk: the example, its run, and the scenario that replays it.
    ``flaky``: Hypothesis's replay of it passed — a race narrower than the schedule pins."""

    exploration: Exploration
    result: RunResult
    scenario: Scenario
    journal: Path  # the run's journal (and its baseline's), for ``harness check``
    flaky: bool = False

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(v.invariant for v in self.result.verdicts if v.status is Status.FAIL)


@dataclass(frozen=True, slots=True)
class ExploreResult:
    scenario: str
    examples: int  # runs driven (shrinking's included)
    seconds: float
    found: Found | None
    pool: int  # the source's first events the schedules were drawn from
    records: int  # the records those events are about
    paired: int  # those records with more than one of the events


class _Failing(Exception):
    """Raised inside a Hypothesis example: this schedule broke an invariant."""

    def __init__(self, found: Found):
        super().__init__(repr(found.exploration))
        self.found = found


def replayable(scenario: Scenario, exploration: Exploration) -> Scenario:
    """``scenario`` with exactly ``exploration``'s deliveries and fault windows: its schedule
    perturbations replaced (field drift kept), the windows added to its own. Its events are
    traced (fresh tokens every run) unless the scenario says otherwise, a recording too: every
    example then starts from what the target knew, where it remembers ids or records."""
    tracer = scenario.tracer
    return replace(
        scenario,
        tracer=tracer if tracer.rewrite is not None else replace(tracer, rewrite=True),
        perturbations=tuple(p for p in scenario.perturbations if is_drift(p)),
        schedule=exploration.schedule,
        faults=(*scenario.faults, *exploration.faults),
    )


def example_options(options: RunOptions, journal: Path) -> RunOptions:
    """An example's run: its own journal, the short settle unless the user gave one (with a
    longer wait for a pending effect, ``EXAMPLE_PENDING``)."""
    pending = options.settle_pending
    if pending is None and options.settle_quiet is None:
        pending = EXAMPLE_PENDING
    return replace(
        options,
        journal=journal,
        settle_quiet=options.settle_quiet or EXAMPLE_QUIET,
        settle_deadline=options.settle_deadline or EXAMPLE_DEADLINE,
        settle_pending=pending,
    )


def run_once(
    scenario: Scenario, options: RunOptions, earlier: EarlierRuns | None = None
) -> RunResult:
    """One run of ``scenario`` (baseline first when it judges one), after the target's reset.
    ``earlier``: the search's runs so far, all in ``options.journal`` (``run_scenarios``)."""
    if scenario.reset is not None:
        reset_target(scenario.reset)
    (result,) = asyncio.run(run_scenarios([scenario], options, earlier=earlier))
    return result


def run_schedule(scenario: Scenario, exploration: Exploration, options: RunOptions) -> RunResult:
    """One example: ``scenario`` with exactly ``exploration``'s schedule, after its reset, with
    an example's short settle (unless ``options`` give one). What ``explore`` runs each time,
    and what a pytest test given ``harness.strategies.explorations`` calls."""
    if scenario.reset is not None:
        check_reset(scenario.reset, options.allow_hosts, f"{scenario.origin}: reset")
    return run_once(replayable(scenario, exploration), example_options(options, options.journal))


def failure_lines(result: RunResult) -> list[str]:
    """A failed example for a person: its sequence diagram and the verdicts that failed, their
    summaries redacted as the report's are."""
    history = result.history
    text = Redactor.for_runs([history], os.environ).text
    lines = _sequence.text(_sequence.diagram(history))
    lines += [
        f"  {v.invariant}: {text(v.summary)}" for v in result.verdicts if v.status is Status.FAIL
    ]
    return lines


def _signature(result: RunResult) -> tuple[object, ...]:
    """What two runs of one schedule on a target that forgets must share: the verdicts, and the
    effects' downstreams, methods and statuses (their ids and paths carry fresh tokens)."""
    verdicts = tuple((v.invariant, v.status) for v in result.verdicts)
    effects = Counter((e.downstream, e.method, e.status) for e in result.history.effects)
    return verdicts, sorted(effects.items())


def carried_over(result: RunResult) -> Effect | None:
    """A call of the run (or of its clean run) that names events of its own and carries another
    run's tracer token: the target wrote events of an earlier run together with this one's (a
    join or batch filled across runs), which no quiet between runs clears. None otherwise. (An
    earlier run's late call, naming none of this run's, goes back to its run: a slow target.)"""
    for history in (result.history, result.history.baseline):
        if history is None:
            continue
        tag = history.info.tracer_tag
        for effect in history.effects:
            named = effect.event_ids or effect.key is not None
            if named and carries_other_tag(f"{effect.path}\n{effect.body}", tag):
                return effect
    return None


def check_forgets(
    scenario: Scenario, options: RunOptions, pool: int, earlier: EarlierRuns | None = None
) -> None:
    """Without ``reset:``, run one plain schedule (each event of the pool once, one after the
    other, no fault window) twice: a target whose second run differs remembers the first, and
    so does one that wrote an earlier run's events in a call with a run's own
    (``carried_over``); every example after would be judged on what earlier ones left. Raises
    InputError then. ``options``: an example's (``example_options``); ``earlier``: the
    search's runs, as for an example."""
    probe = Exploration(tuple(PlannedDelivery(n, n * SPACING) for n in range(pool)))
    # Without the scenario's fault windows: which calls meet one that opens while they go is
    # a race, not a memory (a Node-RED flow's 9 calls met downstream-outage's 503s 3 times in
    # one run, 4 in the next, and the target was said to keep state).
    plain = replayable(replace(scenario, faults=()), probe)
    runs = [run_once(plain, options, earlier) for _ in range(2)]
    mixed = next((m for r in runs if (m := carried_over(r)) is not None), None)
    if mixed is not None:
        # Two runs alike can still hide it: a join of 10 fills the same way each time.
        how = (
            f"wrote events of an earlier run in one call with this one's ({mixed.method.upper()} "
            f"{mixed.path.partition('?')[0]} {mixed.id}): it holds events from one run into the "
            "next (a batch filled across runs, a buffer)"
        )
    elif _signature(runs[0]) != _signature(runs[1]):
        how = "answered the same schedule differently the second time"
    else:
        return
    raise InputError(
        f"target {options.target_name!r} {how} (scenario {scenario.name!r}): it keeps "
        "state between runs, and explore cannot judge one example apart from those before it",
        where=scenario.origin,
        hint="add reset: {post: http://127.0.0.1:PORT/reset} or reset: {command: [...]} "
        "to the scenario (or the project file), something that makes the target forget",
    )


def explore_schedules(
    scenario: Scenario,
    options: RunOptions,
    how: ExploreSettings = ExploreSettings(),
    *,
    on_example: Callable[[int, Exploration, RunResult], None] | None = None,
) -> ExploreResult:
    """Search schedules of ``scenario`` against ``options.target`` for one that fails an
    invariant; shrink it. Raises InputError for bad input, RunError when a run or reset fails."""
    if scenario.reset is not None:
        check_reset(scenario.reset, options.allow_hosts, f"{scenario.origin}: reset")
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="harness-explore-"))
    # The whole search's runs, in one journal; the minimal run is copied out of it.
    each = example_options(options, workdir / "search.db")
    earlier = EarlierRuns()
    count = 0
    found: list[Found] = []
    broken: list[HarnessError] = []
    tested: list[int] = []  # examples whose target accepted a delivery

    def one(exploration: Exploration) -> None:
        nonlocal count
        if broken:
            # A run that could not be completed is no failure to shrink: end the search fast.
            raise broken[0]
        spent = how.budget is not None and time.monotonic() - started > how.budget
        if spent and not found:
            return  # past the budget: no new search, only the shrinking of a failure
        count += 1
        replay = replayable(scenario, exploration)
        try:
            result = run_once(replay, each, earlier)
        except HarnessError as exc:
            broken.append(exc)
            raise
        if on_example is not None:
            on_example(count, exploration, result)
        if any(d.outcome is Outcome.OK for d in result.history.deliveries):
            tested.append(count)
        if any(v.status is Status.FAIL for v in result.verdicts):
            failing = Found(exploration, result, replay, each.journal)
            found.append(failing)
            raise _Failing(failing)

    try:
        pool = how.pool or default_pool(scenario, options.seed)
        keys = pool_keys(scenario, options.seed, pool)
        if scenario.reset is None:
            check_forgets(scenario, each, len(keys), earlier)
        test = given(
            explorations(
                scenario,
                seed=options.seed,
                pool=pool,
                max_deliveries=how.max_deliveries,
                spacing=how.spacing,
                faults=how.faults,
                tamper=how.tamper,
            )
        )(one)
        chosen = how.seed if how.seed is not None else (0 if os.environ.get("CI") else None)
        if chosen is not None:
            # Before the settings: seed() alone would turn the example database off.
            test = seed(chosen)(test)
        test = settings(
            max_examples=how.max_examples,
            deadline=None,
            database=_database(how.database, scenario, options),
            phases=how.phases,
            suppress_health_check=list(HealthCheck),
            report_multiple_bugs=False,
            print_blob=False,
            verbosity=Verbosity.quiet,
        )(test)
        try:
            test()
            shrunk = None
        except _Failing as exc:
            shrunk = exc.found
        except Flaky:
            # The shrunk schedule passed when replayed: keep the last one that failed.
            shrunk = replace(found[-1], flaky=True) if found else None
        if shrunk is not None:
            shrunk = _keep(shrunk, options.journal)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if shrunk is None and count and not tested:
        raise RunError(
            f"no example of {scenario.name!r} put the target to the test: in all {count} the "
            "target accepted none of the deliveries\n"
            f"  hint: check the target URL, the signing secret and the payload's shape with "
            f"`harness run {scenario.origin} --target {options.target.ref}`"
        )
    spent = time.monotonic() - started
    several = sum(1 for n in Counter(keys).values() if n > 1)
    return ExploreResult(scenario.name, count, spent, shrunk, len(keys), len(set(keys)), several)


def _keep(found: Found, journal: Path) -> Found:
    """The minimal run and its clean run copied out of the search's journal into ``journal``
    (replaced if it exists), read back with the late effects later examples gave it."""
    history = found.result.history
    runs = {history.info.run_id}
    if history.baseline is not None:
        runs.add(history.baseline.info.run_id)
    journal.unlink(missing_ok=True)
    merge_journals(journal, [found.journal], runs=runs)
    result = RunResult(load(journal, history.info.run_id), found.result.verdicts)
    return replace(found, result=result, journal=journal)


def _database(root: Path | None, scenario: Scenario, options: RunOptions) -> ExampleDatabase | None:
    """One example directory per (scenario, target): a failure found is tried first next time."""
    if root is None:
        return None
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in scenario.name)
    target = "".join(c if c.isalnum() else "_" for c in options.target_name)[:60]
    return DirectoryBasedExampleDatabase(str(root / f"{name}--{target}"))
