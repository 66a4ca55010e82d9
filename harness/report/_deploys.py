"""The deploy restarts a run made (``restart`` marks, ``engine/_restarts``), as the report
shows them: on the timeline beside the fault windows, and in the JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..history import History
from ..invariants._restarts import RESTART_MARK
from ._describe import time_scale


@dataclass(frozen=True, slots=True)
class Deploy:
    """One restart of the target: when it was due (``at``), when its hook was called and
    returned (run seconds), whether Ctrl-C stopped the hook, and — in a month of a year — the
    calendar moment it was due (``2028-01-04 14:00``)."""

    at: float
    started: float
    ended: float
    interrupted: bool = False
    calendar: str | None = None

    @property
    def took(self) -> float:
        return self.ended - self.started

    @property
    def label(self) -> str:
        when = f" (due {self.calendar})" if self.calendar else ""
        stopped = ", when Ctrl-C stopped it" if self.interrupted else ""
        return (
            f"deploy restart at {self.started:.2f} s{when}: the restart hook took "
            f"{self.took:.2f} s{stopped}"
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "started": self.started,
            "ended": self.ended,
            "took": round(self.took, 6),
            "interrupted": self.interrupted,
            "calendar": self.calendar,
        }


def deploys(history: History) -> tuple[Deploy, ...]:
    """The run's restarts, in their order (none: most runs)."""
    marks = [m for m in history.marks if m.name == RESTART_MARK]
    if not marks:
        return ()
    moment = _calendar_clock(history)
    out = []
    for mark in marks:
        d = json.loads(mark.detail)
        at = float(d["at"])
        out.append(
            Deploy(
                at,
                float(d["started"]),
                float(d["ended"]),
                bool(d.get("interrupted", False)),
                moment(at) if moment is not None else None,
            )
        )
    return tuple(sorted(out, key=lambda r: r.started))


def _calendar_clock(history: History) -> Callable[[float], str] | None:
    """For a month of a year (its ``calendar`` settings): run seconds -> the local calendar
    moment, the month's time scale undone; else None."""
    calendar = history.info.settings.get("calendar")
    if not isinstance(calendar, Mapping) or "first_day" not in calendar:
        return None
    zone = ZoneInfo(str(calendar.get("timezone", "UTC")))
    midnight = datetime.combine(date.fromisoformat(str(calendar["first_day"])), datetime.min.time())
    start = midnight.replace(tzinfo=zone).astimezone(UTC)  # real seconds on from here
    scale = time_scale(history) or 1.0

    def moment(at: float) -> str:
        local = (start + timedelta(seconds=at / scale)).astimezone(zone)
        return local.strftime("%Y-%m-%d %H:%M")

    return moment
