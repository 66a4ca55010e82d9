"""The rhythm of a year: how many events each calendar day holds and at which seconds.

Business hours are heavier than the night, weekends lighter than weekdays; the last business
day of a month adds a bulk import in the night's import hours (the day holds 3 times its
volume; 5 times at a quarter's end); Black Friday (the fourth Friday of November) holds ten times a
day's volume, most of it in the morning rush. Each day is drawn from its own generator
(seed, date), so any day is reproducible alone, whatever the days around it.

Times are real elapsed seconds from the day's local midnight in the calendar's zone: a DST day
is 23 or 25 hours long, its local hour 2 missing or there twice.
"""

from __future__ import annotations

import calendar as _calendar
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Weight of each local hour of a day (0 = midnight to 1 am): night light, business hours heavy.
HOURLY = (
    0.2, 0.15, 0.15, 0.15, 0.2, 0.3, 0.5, 0.8, 1.3, 1.6, 1.7, 1.7,
    1.5, 1.6, 1.7, 1.6, 1.5, 1.3, 1.0, 0.9, 0.8, 0.6, 0.4, 0.3,
)  # fmt: skip
# Weight of each weekday (Monday first): weekends lighter; the mean is about 1.
WEEKDAY = (1.15, 1.15, 1.15, 1.15, 1.15, 0.6, 0.6)
MONTH_END = 3.0  # the last business day of a month: 3 times (a bulk import)
QUARTER_END = 5.0  # ... of March, June, September, December: 5 times
PEAK = 10.0  # Black Friday
IMPORT_HOURS = range(1, 4)  # local hours a bulk import runs in: 01:00 to 04:00
PEAK_HOURS = range(9, 13)  # Black Friday's rush: 09:00 to 13:00
PEAK_SHARE = 0.8  # of Black Friday's events, in its rush
NOISE = 0.1  # each day's volume varies ±10 %
HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Day:
    """One calendar day: its kind, its events' times (real seconds from local midnight,
    ascending) and its length in real seconds (82,800 / 86,400 / 90,000)."""

    day: date
    kind: str  # weekday | weekend | month-end | quarter-end | peak
    times: tuple[float, ...]
    length: float

    @property
    def events(self) -> int:
        return len(self.times)


def midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant ``day`` begins in ``zone`` (aware, in UTC)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def local_instant(day: date, hour: float, zone: ZoneInfo) -> datetime:
    """The instant of ``hour`` (local wall-clock hours, fractional) on ``day`` in ``zone``, in
    UTC; a wall time a DST switch skips is taken at its pre-switch offset, as zoneinfo does."""
    whole = int(hour)
    wall = datetime.combine(day, time(whole), tzinfo=zone) + timedelta(hours=hour - whole)
    return wall.astimezone(UTC)


def last_business_day(year: int, month: int) -> date:
    """The month's last Monday-to-Friday (holidays aside)."""
    day = date(year, month, _calendar.monthrange(year, month)[1])
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


def black_friday(year: int) -> date:
    """The fourth Friday of November."""
    first = date(year, 11, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 21)


def kind_of(day: date) -> str:
    if day == black_friday(day.year):
        return "peak"
    if day == last_business_day(day.year, day.month):
        return "quarter-end" if day.month % 3 == 0 else "month-end"
    return "weekend" if day.weekday() >= 5 else "weekday"


def plan_day(day: date, events_per_day: int, zone: ZoneInfo, seed: int) -> Day:
    """The events of ``day`` for an average of ``events_per_day``, drawn from (seed, day)."""
    rng = random.Random(f"{seed}:{day.isoformat()}")
    kind = kind_of(day)
    base = events_per_day * WEEKDAY[day.weekday()] * (1 + rng.uniform(-NOISE, NOISE))
    factor = {"month-end": MONTH_END, "quarter-end": QUARTER_END, "peak": PEAK}.get(kind, 1.0)
    usual = max(1, round(base * (1 - PEAK_SHARE if kind == "peak" else 1)))
    extra = max(0, round(base * factor) - usual)
    begins = midnight(day, zone)
    length = (midnight(day + timedelta(days=1), zone) - begins).total_seconds()
    # Each real hour of the day, weighted by the local hour it is (a DST day has 23 or 25).
    hours = [
        (begins + timedelta(hours=k)).astimezone(zone).hour for k in range(int(length // HOUR))
    ]
    burst = IMPORT_HOURS if kind in ("month-end", "quarter-end") else PEAK_HOURS
    times = _draw(rng, hours, [HOURLY[h] for h in hours], usual)
    times += _draw(rng, hours, [1.0 if h in burst else 0.0 for h in hours], extra)
    return Day(day, kind, tuple(sorted(times)), length)


def _draw(rng: random.Random, hours: list[int], weights: list[float], n: int) -> list[float]:
    """``n`` seconds of the day, each in a real hour drawn by ``weights``, uniform within it."""
    if n <= 0 or not any(weights):
        return []
    picked = rng.choices(range(len(hours)), weights=weights, k=n)
    return [(k + rng.random()) * HOUR for k in picked]
