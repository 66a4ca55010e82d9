"""The calendar moment a run second of a month of ``harness year`` stands for: causes that name
a deploy restart say when it was due (``2028-01-04 14:00``) beside its run seconds, which mean
nothing to the reader of a compressed month."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..history import History
from ._timing import time_scale


def calendar_moment(history: History) -> Callable[[float], str] | None:
    """Run seconds -> the local time of day they stand for, in a month of a year (the run's
    ``calendar`` settings: its first day and time zone; the run's time scale undone); None in
    any other run."""
    month = history.info.settings.get("calendar")
    if not isinstance(month, Mapping) or "first_day" not in month:
        return None
    zone = ZoneInfo(str(month.get("timezone", "UTC")))
    first = datetime.combine(date.fromisoformat(str(month["first_day"])), time(), zone)
    origin, per_second = first.astimezone(UTC), 1 / (time_scale(history) or 1.0)
    return lambda at: (
        (origin + timedelta(seconds=at * per_second)).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    )
