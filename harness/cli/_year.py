"""``harness run year``: a scenario with a ``calendar:`` run as its months (``harness.year``),
the console showing month by month how it goes."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.markup import escape

from ..core._calendar import CalendarSpec
from ..core._errors import InputError, RunAborted
from ..core._scenario import Scenario, Skipped
from ..engine import RunOptions
from ..engine._gone import TargetGone
from ..engine._restarts import RestartFailed
from ..year import plan_year
from ..year._drive import MonthDone, Resumed, resumed, run_year
from ..year._plan import MonthPlan
from ._console import err, print_skipped
from ._exits import EXIT_FAILED, EXIT_OK
from ._progress import ProgressView


def calendar_for(
    scenario: Scenario, events_per_day: int | None, months: int | None, day_seconds: float | None
) -> CalendarSpec:
    """The scenario's calendar with what the flags give in place of its own."""
    calendar = scenario.calendar
    assert calendar is not None  # the caller picked a year
    for value, flag in ((events_per_day, "--events-per-day"), (months, "--months")):
        if value is not None and value < 1:
            raise InputError(
                f"{flag} {value} is not 1 or more", where=flag, hint=f"give e.g. {flag} 12"
            )
    if months is not None and months > 120:
        raise InputError(
            f"--months {months} is more than 120", where="--months", hint="give 12 for a year"
        )
    if day_seconds is not None and not day_seconds > 0:
        raise InputError(
            f"--day-seconds {day_seconds} is not a number of seconds > 0",
            where="--day-seconds",
            hint="give the wall seconds one calendar day takes, e.g. 2",
        )
    return replace(
        calendar,
        events_per_day=events_per_day or calendar.events_per_day,
        months=months or calendar.months,
        day_seconds=day_seconds or calendar.day_seconds,
    )


def resuming(
    resume: Path | None, year: str, options: RunOptions
) -> tuple[RunOptions, Resumed | None]:
    """The options of a year that goes on in the journal ``resume`` (its path and seed), and
    what that journal holds of ``year``; InputError when it holds none. Unchanged, and None,
    without ``resume``."""
    if resume is None:
        return options, None
    state = resumed(resume, year)
    assert state.seed is not None
    return replace(options, journal=resume, seed=state.seed), state


def drive_year(
    scenario: Scenario,
    calendar: CalendarSpec,
    options: RunOptions,
    *,
    report: Path | None,
    skipped: tuple[Skipped, ...],
    resumed: Resumed | None,
) -> int:
    """Plan and run the year; the exit code: 1 when a month's verdict failed, else 0.
    ``resumed``: what the journal gone on in holds (``resuming``)."""
    from ..invariants._facts import plural

    state = resumed
    plan = plan_year(replace(scenario, calendar=None), calendar, options.seed)
    options = replace(options, listeners=(*options.listeners, ProgressView()))
    err.print(
        f"seed {options.seed} · journal {options.journal} · "
        f"{plural(calendar.months, 'month')} from {calendar.start} in {calendar.timezone}, "
        f"{calendar.events_per_day} events a day, {plan.day_seconds:g} s a day"
    )
    print_skipped((*skipped, *plan.skipped))
    if state is not None and state.months:
        err.print(f"resumed: {', '.join(sorted(state.months))} already complete in the journal")
    try:
        year = asyncio.run(
            run_year(plan, options, resume=state, on_month=_starting, on_done=_finished)
        )
    except (TargetGone, RestartFailed) as stopped:  # the months before it are judged, kept
        if report is not None:
            _write_report(report, options.journal)
        until = "it answers again" if isinstance(stopped, TargetGone) else "the restart: hook works"
        raise type(stopped)(
            f"{stopped}\n  hint: once {until}, go on with `harness run {scenario.name} "
            f"--resume {options.journal}` (with the same --target and flags)"
        ) from None
    except (KeyboardInterrupt, RunAborted):
        raise RunAborted(
            f"interrupted; the months that ran are kept in {options.journal}\n"
            f"  hint: go on with `harness run {scenario.name} --resume {options.journal}` "
            "(with the same --target and flags)"
        ) from None
    failed = [m for m in year.months if m.failed]
    unseen = [m for m in year.months if m.unseen and not m.failed]
    ran = len(year.months)
    if failed:
        months = ", ".join(m.plan.month for m in failed)
        err.print(f"[red]{len(failed)} of {ran} months failed: {months}[/]")
    elif unseen:
        months = ", ".join(m.plan.month for m in unseen)
        err.print(
            f"[yellow]{ran} month{'s' if ran != 1 else ''} run, none failed, but {len(unseen)} "
            f"could not be judged whole: {months} (their verdicts above say why)[/]"
        )
    else:
        err.print(f"[green]{ran} month{'s' if ran != 1 else ''} run, none failed[/]")
    err.print(f"judge them again with `harness check {options.journal}`")
    if report is not None:
        _write_report(report, options.journal)
    return EXIT_FAILED if failed else EXIT_OK


def _starting(month: MonthPlan) -> None:
    life = ", ".join(f"{e.on.day} {e.title or e.kind}" for e in month.life)
    err.print(
        f"[bold]{month.month}[/] · {month.events:,} events" + (f" · {escape(life)}" if life else "")
    )


def _finished(done: MonthDone) -> None:
    # A month whose owed verdicts went unseen is no pass: "?", and each says why.
    mark = "[red]✗[/]" if done.failed else "[yellow]?[/]" if done.unseen else "[green]✓[/]"
    line = f"  {mark} {done.plan.month}: {done.deliveries:,} deliveries in {done.seconds:.1f} s"
    err.print(line)
    for v in done.failed:
        err.print(f"    [red]{escape(v.invariant)}[/]: {escape(v.summary)}")
    for v in done.unseen:
        err.print(f"    [yellow]{escape(v.invariant)}[/] (inconclusive): {escape(v.summary)}")


def _write_report(report: Path, journal: Path) -> None:
    from ..history import load_all
    from ..invariants import judge
    from ..report.json import write_report

    runs: list[tuple[Any, Any]] = [(h, judge(h)) for h in load_all(journal)]
    write_report(report, runs, journal)
    err.print(f"report written to {report}")
