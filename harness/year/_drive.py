"""The driver: a year's months run in turn into one journal against one target.

One clean run (the baseline: the first events of month 1, each once, in order) before month 1
teaches the expected effects of every month; each month run names it. The stateful doubles'
stores carry from month to month (``engine.Turns``), so records grow over the year. A journal
that already holds months of this year (``resume``) is added to: its complete months are not
run again, its baseline serves the rest. Ctrl-C ends the month in progress aborted and keeps
every month that ran; resuming runs that month again from its start.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core._errors import InputError
from ..core._model import Status, Verdict
from ..engine import PreparedRun, RunOptions, Turns, prepare, with_baseline
from ..engine._restarts import RESTART
from ..history import run_infos
from ._plan import MonthPlan, YearPlan

# What a month may have nothing for, and says so inconclusive: no drift (drift_is_loud), no
# fault window that refused a call (backs_off, recovers_after_outage), no undrifted delivery
# once a lasting field-added drifts them all (accepts_genuine). Any other inconclusive verdict
# is of what every month owes — nothing lost, nothing twice, in order, answered — unseen.
MAY_HAVE_NOTHING = frozenset(
    {"drift_is_loud", "backs_off", "recovers_after_outage", "accepts_genuine"}
)

YEAR_SETTING = "year"  # RunInfo.settings: the name of the year a month run belongs to
SEED_SETTING = "year_seed"  # ... and the year's seed (each run's own seed is drawn from it)


@dataclass(frozen=True, slots=True)
class MonthDone:
    """What the console and the caller keep of a month run: not its History (a month of
    events each would hold the whole year in memory), its verdicts and where it is."""

    plan: MonthPlan
    run_id: str
    verdicts: tuple[Verdict, ...]
    deliveries: int
    seconds: float  # wall seconds the month took

    @property
    def failed(self) -> tuple[Verdict, ...]:
        """The verdicts that failed (an inconclusive one — no drift in a month without drift,
        no fault window to recover from — is not a failure of the year)."""
        return tuple(v for v in self.verdicts if v.status is Status.FAIL)

    @property
    def unseen(self) -> tuple[Verdict, ...]:
        """The inconclusive verdicts of what every month owes (not MAY_HAVE_NOTHING's): the
        month could not see it — a target still working at the settle deadline, no call at all
        — which is no pass, though no failure of the year either."""
        return tuple(
            v
            for v in self.verdicts
            if v.status is Status.INCONCLUSIVE and v.invariant not in MAY_HAVE_NOTHING
        )


@dataclass(frozen=True, slots=True)
class Resumed:
    """What a journal already holds of a year: its seed, its clean run, its complete months."""

    seed: int | None = None
    baseline: str | None = None
    months: frozenset[str] = frozenset()


@dataclass(slots=True)
class YearRun:
    """The months run now (in order), and those the journal already held."""

    months: list[MonthDone] = field(default_factory=list)
    resumed: frozenset[str] = frozenset()

    @property
    def failed(self) -> bool:
        return any(m.failed for m in self.months)


def resumed(journal: Path, year: str) -> Resumed:
    """What ``journal`` holds of the year named ``year``; InputError when it holds none."""
    if not journal.is_file():
        raise InputError(
            f"no journal {str(journal)!r} to resume",
            where="--resume",
            hint="give the journal of an earlier `harness run year`, or leave --resume out",
        )
    seed, baseline, months = None, None, set()
    for info, status in run_infos(journal):
        settings = info.settings
        if settings.get(YEAR_SETTING) != year or status != "complete":
            continue
        found = settings.get(SEED_SETTING)
        seed = found if seed is None and isinstance(found, int) else seed
        if "baseline_of" in settings:
            baseline = info.run_id
            continue
        calendar = settings.get("calendar")
        if isinstance(calendar, dict) and isinstance(calendar.get("month"), str):
            months.add(calendar["month"])
    if seed is None:
        raise InputError(
            f"{journal} holds no complete run of the year {year!r}",
            where="--resume",
            hint="give the journal an earlier `harness run year` of this scenario wrote",
        )
    return Resumed(seed, baseline, frozenset(months))


def _tagged(prepared: PreparedRun, year: str, extra: dict[str, Any]) -> PreparedRun:
    settings = {**prepared.info.settings, YEAR_SETTING: year, **extra}
    return replace(prepared, info=replace(prepared.info, settings=settings))


def run_seed(seed: int, name: str) -> int:
    """The seed of one run of the year (``name``: a month, or ``baseline``): drawn from the
    year's, so that each month's payloads (and the clean run's) are new ones — a target that
    keeps the last version of each record must not take month 2's orders for month 1's again."""
    return random.Random(f"{seed}:{name}").randrange(1, 2**31)


async def run_year(
    plan: YearPlan,
    options: RunOptions,
    *,
    resume: Resumed | None = None,
    on_month: Callable[[MonthPlan], None] | None = None,
    on_done: Callable[[MonthDone], None] | None = None,
) -> YearRun:
    """Run ``plan``'s months against ``options.target`` into ``options.journal``; the months
    ``resume`` says are complete are passed over. ``on_month`` is told as a month starts,
    ``on_done`` as it is judged. Raises RunAborted on Ctrl-C (the journal is kept)."""
    year = plan.template.name
    done = resume.months if resume is not None else frozenset()
    out = YearRun(resumed=done)
    todo = [m for m in plan.months() if m.month not in done]
    if not todo:
        return out
    tag = {SEED_SETTING: options.seed}
    restart = plan.template.restart
    if restart is not None and any(e.kind == "deploy" for e in plan.life):
        RESTART.check(restart, options.allow_hosts, "restart")  # before anything is sent
    async with Turns(options) as turns:
        baseline = resume.baseline if resume is not None else None
        if baseline is None and plan.template.baseline:
            seeded = replace(options, seed=run_seed(options.seed, "baseline"))
            clean = prepare(plan.baseline(), seeded)
            baseline = await turns.baseline(clean, {YEAR_SETTING: year, **tag})
        for n, month in enumerate(todo):
            if on_month is not None:
                on_month(month)
            began = time.monotonic()
            seeded = replace(options, seed=run_seed(options.seed, month.month))
            # Its deploys restart the target (``restarts``): the engine's drive calls the hook.
            made = prepare(month.scenario, seeded, restarting=True)
            prepared = _tagged(made, year, {"calendar": month.settings(), **tag})
            if baseline is not None:
                prepared = with_baseline(prepared, baseline)
            result = await turns.drive(prepared, more=n + 1 < len(todo))
            finished = MonthDone(
                month,
                result.history.info.run_id,
                result.verdicts,
                len(result.history.deliveries),
                time.monotonic() - began,
            )
            del prepared, result  # a month's events and effects: not kept for the year
            out.months.append(finished)
            if on_done is not None:
                on_done(finished)
    return out
