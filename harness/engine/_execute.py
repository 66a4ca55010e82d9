"""The drive: one scenario against one target, from source to judged History.

source -> trace -> plan -> deliver -> target -> downstream double -> journal -> settle -> judge

Two reusable steps, so every front end drives the same way: ``prepare`` (``_prepare``) turns a
scenario into a PreparedRun without touching the network, and a Recorder (``_recorder``) owns the
rest of a run (downstream doubles, journal, settle, judge) whoever delivers: ``run_scenarios``
with the engine's Deliverer, the Locust adapter with Locust users.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from ..core._errors import RunAborted, RunError, TargetUnreachableError
from ..core._model import PACED_MARK, STOPPED_MARK, UNAVAILABLE, Delivery
from ..core._scenario import Scenario
from ..double._carry import Carried
from ..drive._deliver import Deliverer
from ..drive._formats._shared import let_go, shared_reads
from ..drive._target import check_reachable
from ..history import Journal, check_journal_path, load
from ._baseline import pending_rule, prepare_baseline, wants_baseline, with_baseline
from ._gone import GoneWatch, TargetGone, gone_text
from ._late import EarlierRuns
from ._options import RunOptions
from ._pace import CleanPace
from ._prepare import PreparedRun, prepare, traced_whole
from ._recorder import Recorder, RunResult
from ._restarts import RestartFailed, Restarts

T = TypeVar("T")


async def run_scenarios(
    scenarios: Sequence[Scenario], options: RunOptions, *, earlier: EarlierRuns | None = None
) -> list[RunResult]:
    """Run each scenario in turn into one journal. On Ctrl-C the run ends aborted, journal kept.

    ``earlier``: the finished runs of the invocation this call continues (``harness explore``
    makes one call per example), all journaled in ``options.journal``: a late effect of theirs
    goes back to its own run as it would between the scenarios of one call, never counted in
    this call's, and this call's runs join them. Default: the invocation is this call."""
    return await _run(scenarios, [options], [earlier if earlier is not None else EarlierRuns()])


async def run_side_by_side(
    scenarios: Sequence[Scenario],
    instances: Sequence[RunOptions],
    *,
    earlier: Sequence[EarlierRuns] | None = None,
) -> list[RunResult]:
    """Run ``scenarios`` against several instances of one automation at once, each with its
    own downstream doubles and journal (``instances``: one RunOptions each): an instance takes
    the next scenario nobody has taken as soon as its run before has ended, and runs its
    scenarios in turn as ``run_scenarios`` does. One result per scenario, in their order.

    The instances must be separate targets with downstream ports of their own (``harness
    demo``: processes of one automation), so that no run sees another's effects; an instance's
    late effects go back to its own earlier runs (``EarlierRuns``: ``earlier``, one an instance,
    to carry them over from an earlier call)."""
    kept = earlier if earlier is not None else [EarlierRuns() for _ in instances]
    return await _run(scenarios, instances, kept)


async def _run(
    scenarios: Sequence[Scenario], instances: Sequence[RunOptions], earlier: Sequence[EarlierRuns]
) -> list[RunResult]:
    """``run_side_by_side``, each instance with the earlier runs its late effects go back to."""
    # Bad input is reported before anything is sent or written; the runs the first instance
    # takes are these, the others' are prepared again for their own target and port.
    # Streamed where they can be: each is driven once, here. A recorded document is parsed
    # once for these and the first clean run (``_drive`` lets it go).
    with shared_reads():
        return await _prepared_and_run(scenarios, instances, earlier)


async def _prepared_and_run(
    scenarios: Sequence[Scenario], instances: Sequence[RunOptions], earlier: Sequence[EarlierRuns]
) -> list[RunResult]:
    """``_run``'s work, its recorded documents read once: kept from one prepare to the next
    and for the first run's clean run (``prepare_baseline``, whose prepare lets it go)."""
    for options in instances:  # no event needed: told before a recording is read
        check_journal_path(options.journal)
    first = [
        prepare(
            s,
            instances[0],
            stream=True,
            keep_reads=n + 1 < len(scenarios) or s.baseline,
            trace_later=True,
            restarting=True,
        )
        for n, s in enumerate(scenarios)
    ]
    if not (first and wants_baseline(first[0])):
        let_go()  # no clean run reads it next
    for options in instances:
        await check_reachable(options.target)
    queue = list(enumerate(scenarios))
    queue.reverse()  # popped from the end: the scenarios' order
    results: dict[int, RunResult] = {}

    async def instance(k: int, options: RunOptions, earlier: EarlierRuns) -> None:
        journal = Journal(options.journal)
        # Each run starts once the one before has been quiet (``drain``); what still comes
        # late is given back to the run it belongs to (``EarlierRuns``), never counted in the
        # next one.
        mine: list[int] = []
        try:
            while queue:
                n, scenario = queue.pop()
                run = (
                    first[n]
                    if k == 0
                    else prepare(scenario, options, stream=True, trace_later=True, restarting=True)
                )
                if wants_baseline(run):
                    baseline = prepare_baseline(run, options)
                    # Judged as part of the run that names it, not as a result of its own.
                    clean = await _drive(baseline, options, journal, earlier, drain=lambda: True)
                    if clean.gone is not None:  # judged alone: what it saw of the target
                        results[n] = clean.judge()
                    _raise_if_gone(clean, f"the clean run of {scenario.name}", queue, options)
                    run = with_baseline(run, baseline.info.run_id)
                recorder = await _drive(run, options, journal, earlier, drain=lambda: bool(queue))
                where = f"the run of {scenario.name}"
                results[n] = _judged(recorder, where, results, queue, options)
                mine.append(n)
                _raise_if_gone(recorder, where, queue, options)
        finally:
            journal.close()
        for n in mine:
            results[n] = _with_late_effects(results[n], journal, earlier.touched)

    try:
        await together(
            *(instance(k, o, e) for k, (o, e) in enumerate(zip(instances, earlier, strict=True)))
        )
    except (TargetGone, RestartFailed) as stopped:  # the runs judged before it are reported
        stopped.results = [results[n] for n in sorted(results)]
        raise
    return [results[n] for n in range(len(scenarios))]


def _judged(
    recorder: Recorder,
    where: str,
    before: Mapping[int, RunResult],
    left: Sequence[tuple[int, Scenario]],
    options: RunOptions,
) -> RunResult:
    """``recorder``'s run judged. Where no delivery of it nor of its clean run reached the
    target, but the target answered a run before it (``before``), the target went away between
    them — a process that died once it was idle (tests/gallery/dies_midrun.py): TargetGone, so
    the runs judged before are reported and none after is run, not a run with nothing to judge
    that took every verdict of the invocation with it."""
    try:
        return recorder.judge()
    except TargetUnreachableError:
        if not before:
            raise
        names = [s.name for _, s in reversed(left)]
        reason = "none of its deliveries, nor of its clean run's, could connect"
        text = gone_text(
            reason, where, names, options.target.url, str(options.journal), stopped=False
        )
        raise TargetGone(text) from None


def _raise_if_gone(
    recorder: Recorder,
    where: str,
    left: Sequence[tuple[int, Scenario]],
    options: RunOptions,
    results: Sequence[RunResult] = (),
) -> None:
    """TargetGone, carrying ``results``, when ``recorder``'s run stopped for the target gone;
    ``left``: the scenarios not taken yet, which will not be run."""
    if recorder.gone is not None:
        names = [s.name for _, s in reversed(left)]
        text = gone_text(recorder.gone, where, names, options.target.url, str(options.journal))
        raise TargetGone(text, results)


async def together(*runs: Awaitable[T]) -> list[T]:
    """Await ``runs`` at once, their results in order. When one fails (or on Ctrl-C) the
    others are cancelled and awaited, their runs ended aborted and their journals closed,
    before the first error is raised, once: none is left for ``asyncio.run`` to cancel and
    report with a traceback of its own."""
    tasks = [asyncio.ensure_future(run) for run in runs]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class Turns:
    """Runs driven one after the other into one journal against one target, each prepared by
    the caller when its turn comes, each starting on a quiet target, the stateful doubles'
    stores carried from one run to the next (``RunOptions.carried``, made here unless given):
    a year's months (``harness.year``).

    ``async with Turns(options) as turns``: the journal path and the target are checked and
    the journal opened; ``baseline`` drives a clean run the caller's runs then name
    (``with_baseline``); ``drive`` drives and judges one run (late effects reach the journal,
    as the runs they belong to). Ctrl-C (a cancelled task) ends the run in progress aborted and
    keeps the journal, as ``run_scenarios`` does.
    """

    def __init__(self, options: RunOptions) -> None:
        carried = options.carried if options.carried is not None else Carried()
        self.options = replace(options, carried=carried)
        self._earlier = EarlierRuns()
        self._journal: Journal | None = None

    async def __aenter__(self) -> Turns:
        check_journal_path(self.options.journal)
        await check_reachable(self.options.target)
        self._journal = Journal(self.options.journal)
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._journal is not None:
            self._journal.close()

    def _open(self) -> Journal:
        if self._journal is None:
            raise RuntimeError("Turns is used outside its `async with`")
        return self._journal

    async def baseline(self, prepared: PreparedRun, settings: Mapping[str, Any]) -> str:
        """Drive the clean run of ``prepared`` (``prepare_baseline``, with ``prepared``'s own
        seed), ``settings`` added to its own, on doubles of its own — its writes never reach
        the carried stores; its run id."""
        clean = prepare_baseline(prepared, replace(self.options, seed=prepared.info.seed))
        info = replace(clean.info, settings={**clean.info.settings, **settings})
        clean = replace(clean, info=info)
        done = await _drive(clean, self.options, self._open(), self._earlier, drain=lambda: True)
        _raise_if_gone(done, f"the clean run of {prepared.info.scenario}", [], self.options)
        return clean.info.run_id

    async def drive(self, prepared: PreparedRun, *, more: bool) -> RunResult:
        """Drive ``prepared`` and judge it; ``more``: another run follows (drain first)."""
        journal = self._open()
        recorder = await _drive(prepared, self.options, journal, self._earlier, drain=lambda: more)
        result = recorder.judge()
        where = f"the run of {prepared.info.scenario}"
        _raise_if_gone(recorder, where, [], self.options, [result])
        return result


def _restarts(
    prepared: PreparedRun, recorder: Recorder, stop: Callable[[], object], watch: GoneWatch
) -> Restarts | None:
    """The run's restarts (``restarts:``), or None; the clean run never has any. ``watch``
    spares them: a restart is no target gone."""
    restart = prepared.scenario.restart
    if not prepared.restarts or restart is None:
        return None
    mark = watch.restarting(prepared.restarts, recorder.mark)
    return Restarts(prepared.restarts, restart, recorder.clock, mark, stop)


def _kept(error: RunError, journal: Journal) -> RestartFailed:
    """``error`` (a restart that failed), saying where what was recorded is kept."""
    return RestartFailed(
        f"{error}\n  what was recorded is kept in {journal.path}; nothing was judged lost for "
        "a restart that did not happen"
    )


def _with_late_effects(result: RunResult, journal: Journal, touched: set[str]) -> RunResult:
    """``result``, its History read again if a later run gave it (or its baseline) late
    effects; its verdicts stand, as late effects are never judged."""
    history = result.history
    runs = {history.info.run_id, history.baseline.info.run_id if history.baseline else ""}
    if runs.isdisjoint(touched):
        return result
    return RunResult(load(journal.path, history.info.run_id), result.verdicts)


async def _drive(
    prepared: PreparedRun,
    options: RunOptions,
    journal: Journal,
    earlier: EarlierRuns,
    *,
    drain: Callable[[], bool],
) -> Recorder:
    """Drive one prepared run into ``journal``; the Recorder that holds it, to judge it.
    ``drain()``, asked as the run ends: another run follows, which must start on a quiet
    target."""
    let_go()  # nothing a run does reads the recorded documents its prepare read
    # A recording's run is traced here, after its clean run (``_recorded_feed``).
    prepared = traced_whole(prepared)
    pending = pending_rule(prepared, journal.path)
    recorder = Recorder(prepared, options, journal, earlier=earlier, pending=pending)
    scenario = prepared.scenario
    status = "aborted"
    # One at a time: each event once the previous one's work is done (the clean run, _pace).
    pace = CleanPace(recorder.clock, recorder.doubles, prepared.settle) if prepared.serial else None
    # The target gone: the sending stops as Ctrl-C stops it, by cancelling this task, and
    # goes on to judging (the Recorder's own stop, a journal that failed, cancels it too).
    this = asyncio.current_task()
    assert this is not None  # a coroutine of the event loop
    watch = GoneWatch(recorder.clock, recorder.doubles, this.cancel)
    restarts = _restarts(prepared, recorder, this.cancel, watch)

    def delivered(d: Delivery) -> None:
        recorder.delivery(d)
        watch.delivery(d)

    def anchored() -> float:
        """The run's clock starts with its first delivery, and its restarts with it."""
        origin = recorder.restart_clock()
        if restarts is not None:
            restarts.start()
        return origin

    began = False  # the run is in the journal: the user's stop can be marked there
    try:
        await recorder.start()
        began = True
        deliverer = Deliverer(
            options.target,
            prepared.signer,
            timeout=scenario.delivery.timeout,
            clock=recorder.clock,
            on_delivery=delivered,
            headers=dict(scenario.delivery.headers),
            provider=prepared.provider,
            anchor=anchored,
            pace=pace,
            **({"concurrency": 1} if pace is not None else {}),
        )
        if prepared.feed is not None:
            sent = deliverer.send(prepared.feed.sends(prepared.slots(), recorder.made))
        else:
            events = prepared.events
            sent = deliverer.run(
                prepared.schedule,
                prepared.bodies,
                [ev.id for ev in events],
                [dict(ev.headers) for ev in events],
                [ev.type for ev in events],
            )
        try:
            await sent
        except asyncio.CancelledError:
            if watch.reason is None or this.cancelling() > 1 or journal.failed is not None:
                raise
            this.uncancel()  # the watch's own: the run goes on to be judged
        if restarts is not None and watch.reason is None:
            try:
                await restarts.finish()  # those due after the last delivery, too
            except RunError as exc:
                raise _kept(exc, journal) from None
        if pace is not None:
            recorder.mark(PACED_MARK, pace.detail())
        if watch.reason is None:
            await recorder.settle()
            status = "complete"
        else:
            recorder.mark(STOPPED_MARK, watch.reason)
            status = UNAVAILABLE
    except asyncio.CancelledError:
        if journal.failed is not None:  # the Recorder stopped the run: it cannot be kept
            raise journal.failed from None
        if restarts is not None and restarts.error is not None and this.cancelling() == 1:
            this.uncancel()  # the restart's own stop: its error, not an abort, ends the run
            raise _kept(restarts.error, journal) from None
        if began:
            recorder.interrupted()
        raise RunAborted(
            f"run of {scenario.name!r} interrupted; what was recorded is kept in {journal.path}\n"
            f"  hint: judge it with `harness check {journal.path}`"
        ) from None
    finally:
        if restarts is not None:
            await restarts.cancel()
        await recorder.stop(status, drain=drain())
    if journal.failed is not None:
        raise journal.failed
    recorder.gone = watch.reason
    return recorder
