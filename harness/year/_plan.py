"""The planner: a calendar and a scenario's events made into twelve month runs.

Each month is a plain Scenario: the template's synthetic source with the month's event count,
its records growing month by month, each event's time (``SyntheticSource.times``, written at
the source's time path in the calendar's zone from the month's first local midnight,
``epoch``), an explicit schedule of its deliveries (``Scenario.schedule``, scenario seconds from
that midnight), ``time_scale = day_seconds / 86400``, and the life events of the month (and the
lasting ones of earlier months) as faults, drift, schedule shapes, downstream and delivery
settings (``_life``). Every day is drawn from (seed, date) alone (``_rhythm``).
"""

from __future__ import annotations

import calendar as _calendar
import copy
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..core._calendar import LIFE_EVENT_KINDS, CalendarSpec, LifeEvent, bad_params
from ..core._errors import InputError
from ..core._providers import PROVIDERS
from ..core._scenario import PlannedDelivery, Scenario, Skipped, SyntheticSource
from ..drive._drift import is_drift
from ..report._describe import duration
from ..scenario._hazards import fitting_retries, is_builtin
from . import _life
from ._rhythm import Day, midnight, plan_day

# Records a month's events touch: a share of its events that grows month by month (pagination
# needs records that outgrow a page), at least one.
RECORD_SHARE = 0.25
RECORD_GROWTH = 0.25  # each month's share grows by a quarter of the first's
# Wall seconds a calendar day takes unless the calendar says: events_per_day / THROUGHPUT,
# within [DAY_SECONDS_MIN, DAY_SECONDS_MAX] (docs/year.md: the rule and how it was measured).
THROUGHPUT = 150.0  # events per wall second the sound demo kept up with at 100 a day
DAY_SECONDS_MIN = 0.5
DAY_SECONDS_MAX = 60.0


def default_day_seconds(events_per_day: int) -> float:
    """Wall seconds per calendar day for a volume: an average day's events at THROUGHPUT a
    wall second (a year at 100 a day in about 6 minutes; docs/year.md, "Volume and wall
    time", for what 1,000 a day takes and does)."""
    return min(DAY_SECONDS_MAX, max(DAY_SECONDS_MIN, events_per_day / THROUGHPUT))


@dataclass(frozen=True, slots=True)
class MonthPlan:
    """One month of the year: its days, its life events and the Scenario that runs it."""

    index: int  # 1-based
    first_day: date
    days: tuple[Day, ...]
    life: tuple[LifeEvent, ...]  # on this month's days
    scenario: Scenario
    day_seconds: float
    timezone: str
    events_per_day: int
    in_force: tuple[LifeEvent, ...] = ()  # earlier months' lasting ones, still applied

    @property
    def month(self) -> str:
        return self.first_day.strftime("%Y-%m")

    @property
    def events(self) -> int:
        return sum(d.events for d in self.days)

    def settings(self) -> dict[str, Any]:
        """The ``calendar`` block of the month run's ``RunInfo.settings`` (year_spec.md)."""
        return {
            "month": self.month,
            "index": self.index,
            "first_day": self.first_day.isoformat(),
            "days": len(self.days),
            "day_seconds": self.day_seconds,
            "timezone": self.timezone,
            "events_per_day": self.events_per_day,
            "life": [_mark(e) for e in self.life],
            "in_force": [_mark(e) for e in self.in_force],
        }


def _mark(e: LifeEvent) -> dict[str, str]:
    return {"kind": e.kind, "on": e.on.isoformat(), "title": e.title or e.kind}


@dataclass(frozen=True, slots=True)
class YearPlan:
    """The months to run (made one at a time: ``months()``) and the life events skipped."""

    template: Scenario
    calendar: CalendarSpec
    seed: int
    life: tuple[LifeEvent, ...]  # those that apply
    skipped: tuple[Skipped, ...]
    day_seconds: float

    def months(self) -> Iterator[MonthPlan]:
        for index in range(1, self.calendar.months + 1):
            yield plan_month(self, index)

    def baseline(self, events: int = 200) -> Scenario:
        """The clean run's scenario: ``events`` events shaped as month 1's first (its own seed
        makes their payloads, ``_drive.run_seed``); what they teach per type is what every
        month's events are expected to make (``invariants._expected``)."""
        first = plan_month(self, 1).scenario
        assert first.schedule is not None
        n = min(events, first.source.events if isinstance(first.source, SyntheticSource) else 0)
        listed = tuple(PlannedDelivery(i, float(i)) for i in range(n))
        return replace(first, name=f"{self.template.name}", schedule=listed, faults=(), restarts=())


def plan_year(template: Scenario, calendar: CalendarSpec, seed: int) -> YearPlan:
    """The year ``calendar`` describes over ``template``'s events. Raises InputError when the
    template cannot be planned (a recorded source, an unknown zone, too few months)."""
    if not isinstance(template.source, SyntheticSource):
        raise InputError(
            f"scenario {template.name!r}: a year needs synthetic events (an example payload) to "
            "make each day's volume; its source is a recording",
            where=template.origin,
            hint="give the scenario (or the project's events) an example payload",
        )
    zone = zone_of(calendar.timezone, template.origin)
    check_calendar(calendar, template.origin)
    life = calendar.life
    if life is None:
        life = _life.builtin_life(calendar.start, calendar.months, zone)
    applied: list[LifeEvent] = []
    skipped: list[Skipped] = []
    for event in life:
        why = _life.why_not(event, template, zone)
        if why is None:
            applied.append(event)
        elif event.kind != "deploy":
            name = f"{event.kind} on {event.on}"
            skipped.append(Skipped(name, why, template.origin))
    skipped.extend(_deploys_skipped(life, applied, template))
    day_seconds = calendar.day_seconds or default_day_seconds(calendar.events_per_day)
    return YearPlan(template, calendar, seed, tuple(applied), tuple(skipped), day_seconds)


def _deploys_skipped(
    life: tuple[LifeEvent, ...], applied: list[LifeEvent], template: Scenario
) -> list[Skipped]:
    """The deploys skipped (nothing says how to restart the automation), told once: a year
    has two a month."""
    days = [e.on for e in life if e.kind == "deploy" and e not in applied]
    if not days:
        return []
    name = f"deploy on {days[0]}"
    if len(days) > 1:
        name = f"{len(days)} deploys, {days[0]} to {days[-1]}"
    why = _life.why_not(LifeEvent("deploy", days[0]), template, ZoneInfo("UTC"))
    assert why is not None
    return [Skipped(name, why, template.origin)]


def zone_of(name: str, where: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        raise InputError(
            f"calendar.timezone: {name!r} is not a time zone",
            where=where,
            hint="give an IANA zone like Europe/Berlin, America/New_York or UTC",
        ) from None


def check_calendar(calendar: CalendarSpec, where: str) -> None:
    """InputError for a calendar built in Python with values a file would be refused."""
    if not 1 <= calendar.months <= 120:
        raise InputError(
            f"calendar.months: {calendar.months} is not between 1 and 120",
            where=where,
            hint="give 12 for a year, fewer for a part of one",
        )
    if calendar.events_per_day < 1:
        raise InputError(
            f"calendar.events_per_day: {calendar.events_per_day} is not 1 or more",
            where=where,
            hint="give the events of an average day, e.g. 1000",
        )
    seconds = calendar.day_seconds
    if seconds is not None and not (math.isfinite(seconds) and seconds > 0):
        raise InputError(
            f"calendar.day_seconds: {seconds!r} is not a number of seconds > 0",
            where=where,
            hint="give the wall seconds one calendar day takes, e.g. 2, or leave it out",
        )
    for i, event in enumerate(calendar.life or ()):
        if event.kind not in LIFE_EVENT_KINDS:
            raise InputError(
                f"calendar.life: {event.kind!r} is not a life event",
                where=where,
                hint=f"use one of {', '.join(LIFE_EVENT_KINDS)}",
            )
        if (bad := bad_params(event.kind, event.params)) is not None:
            raise InputError(
                f"calendar.life[{i}].{bad[1]}",
                where=where,
                hint="docs/year.md#life-events lists each life event's params",
            )


def month_start(calendar: CalendarSpec, index: int) -> date:
    year, month = divmod(calendar.start.month - 1 + index - 1, 12)
    return date(calendar.start.year + year, month + 1, 1)


def plan_month(plan: YearPlan, index: int) -> MonthPlan:
    """Month ``index`` (1-based) of ``plan``: its days, life events and Scenario."""
    calendar, template = plan.calendar, plan.template
    source = template.source
    assert isinstance(source, SyntheticSource)
    zone = ZoneInfo(calendar.timezone)
    first = month_start(calendar, index)
    if index == 1 and calendar.start.day > 1:
        first = calendar.start
    last = date(first.year, first.month, _calendar.monthrange(first.year, first.month)[1])
    days = tuple(
        plan_day(first + timedelta(n), calendar.events_per_day, zone, plan.seed)
        for n in range((last - first).days + 1)
    )
    epoch = midnight(first, zone)
    times: list[float] = []
    for day in days:
        offset = (midnight(day.day, zone) - epoch).total_seconds()
        times.extend(offset + t for t in day.times)
    length = (midnight(last + timedelta(1), zone) - epoch).total_seconds()
    draft = _life.Draft(
        deliveries=[(t, n) for n, t in enumerate(times)],
        times=times,
        perturbations=[p for p in template.perturbations if is_drift(p)],
        faults=list(template.faults),
        downstreams=list(template.downstreams),
        delivery=template.delivery,
        example=copy.deepcopy(source.example),
        types=source.types,
        length=length,
        day_seconds=plan.day_seconds,
        epoch_day=first,
        zone=zone,
        rng=random.Random(f"{plan.seed}:{first.isoformat()}:life"),
    )
    here: list[LifeEvent] = []
    held: list[LifeEvent] = []
    for event in plan.life:
        if first <= event.on <= last:
            since = draft.second(event.on)
            here.append(event)
        elif event.on < first and event.kind in _life.LASTING:
            since = None  # still holds; on the calendar in the month it happened only
            held.append(event)
        else:
            continue
        _life.apply(draft, event, source, since)
    _auth_not_yet(draft, plan.life, last)
    _pages_not_yet(draft, plan.life, last)
    _retried_in_faults(draft, template)
    events = len(times)
    # Of the month's usual volume (not its peaks): one more month, more records, always.
    share = RECORD_SHARE * (1 + RECORD_GROWTH * (index - 1))
    records = max(1, min(events, round(calendar.events_per_day * len(days) * share)))
    month_source = replace(
        source,
        example=draft.example,
        events=events,
        records=records,
        over=length,
        types=draft.types,
        times=tuple(times),
        epoch=epoch.astimezone(zone),
    )
    name = f"{template.name}-{first.strftime('%Y-%m')}"
    notes = "; ".join(draft.notes)
    scenario = replace(
        template,
        name=name,
        description=f"{first.strftime('%B %Y')} of {template.name}: {events} events"
        + (f"; {notes}" if notes else ""),
        source=month_source,
        perturbations=tuple(draft.perturbations),
        faults=tuple(draft.faults),
        downstreams=tuple(draft.downstreams),
        delivery=draft.delivery,
        schedule=tuple(PlannedDelivery(n, t) for t, n in draft.deliveries),
        restarts=tuple(sorted(draft.restarts)),
        time_scale=plan.day_seconds / 86400,
        calendar=None,
        adapted=(*template.adapted, *draft.notes),
    )
    return MonthPlan(
        index,
        first,
        days,
        tuple(here),
        scenario,
        plan.day_seconds,
        calendar.timezone,
        calendar.events_per_day,
        tuple(held),
    )


ONE_PAGE = 1_000_000_000
"""A list's page size before the first pagination: every record on the first page."""

LONG_LIVED = 100 * 365 * 86400.0
"""An access token's lifetime (scenario seconds) before the first token-expiry: a century."""


def _auth_not_yet(draft: _life.Draft, life: tuple[LifeEvent, ...], last: date) -> None:
    """Before the month of the first token-expiry, the OAuth downstreams issue long-lived
    tokens: the automation fetches and uses them as ever, and they do not expire. From that
    month on a token lives its ``lifetime``, the ones issued before included (the double caps
    them when it starts: ``double._auth.Gate``)."""
    if not _before_first(life, "token-expiry", last):
        return
    for n, d in enumerate(draft.downstreams):
        if d.auth is not None and d.auth.kind == "oauth":
            auth = replace(d.auth, lifetime=max(d.auth.lifetime, LONG_LIVED))
            draft.downstreams[n] = replace(d, auth=auth)


def _pages_not_yet(draft: _life.Draft, life: tuple[LifeEvent, ...], last: date) -> None:
    """Before the month of the first pagination, a stateful downstream's lists answer in pages
    already — the API's one shape, ``{"data": [...], "next": ...}`` — of a size no store
    reaches: every record is on the first page until that month."""
    if not _before_first(life, "pagination", last):
        return
    for n, d in enumerate(draft.downstreams):
        if d.stateful and d.page_size is None:
            draft.downstreams[n] = replace(d, page_size=ONE_PAGE)


def _retried_in_faults(draft: _life.Draft, template: Scenario) -> None:
    """A built-in year applied to a project (its provider without retries, as every hazard
    without fault windows gets it) sends the provider's retries in a month with a downstream
    fault window — maintenance, a rate limit — as a fault hazard does
    (``_hazards.fitting_retries``, bounded by the month: every published schedule fits): what
    the target refused during it is redelivered as in production, and judged on it. Other
    months, and a calendar file of the user's own (it says what it sends), are left as they
    are."""
    provider = draft.delivery.provider
    if not draft.faults or provider is None or provider.retries or not is_builtin(template):
        return
    profile = PROVIDERS[provider.name]
    month = f"the month ({duration(draft.length)})"
    kept = fitting_retries(profile, draft.length, month, draft.notes)
    if kept:
        retried = replace(provider, retries=profile.retries[:kept])
        draft.delivery = replace(draft.delivery, provider=retried)


def _before_first(life: tuple[LifeEvent, ...], kind: str, last: date) -> bool:
    """Whether the month ending on ``last`` comes before the first life event of ``kind``."""
    days = [e.on for e in life if e.kind == kind]
    return bool(days) and min(days) > last
