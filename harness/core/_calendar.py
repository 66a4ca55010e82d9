"""A year as a scenario (``calendar:``): the calendar a twelve-month run drives, and the life
events on it — plain frozen dataclasses; ``harness.year`` plans and drives them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

# What can happen to an automation over a year, each a hazard on a date (docs/year.md).
LIFE_EVENT_KINDS = (
    "provider-outage",  # the sender stops, then redelivers what it held, late and out of order
    "retry-storm",  # each delivery of the day sent several times
    "maintenance",  # a downstream answers 503 for a while
    "rate-limit",  # a downstream's rate limit tightens from the day on
    "token-expiry",  # the first expiry of a downstream's OAuth access token
    "api-key-rotation",  # a downstream's API key rotated on the day
    "secret-rotation",  # the signing secret rotated (overlap, then the new one only)
    "field-added",
    "field-renamed",
    "enum-value-added",
    "api-version",  # a downstream's answers change shape from the day on
    "dst",  # a daylight-saving switch in the calendar's time zone
    "leap-day",
    "month-end",
    "clock-skew",  # the sender's clock runs off from the day on
    "id-growth",  # ids past 2^31, then 2^53
    "pagination",  # a downstream's list past its first page
    "bulk-import",  # month-end and quarter-end imports
    "peak",  # the seasonal peak (Black Friday)
    "deploy",  # the automation redeployed: the project's restart: hook called at its hour
    "duplicates",  # a share of every month's deliveries sent twice, as at-least-once senders do
)


def bad_params(kind: str, params: Mapping[str, Any]) -> tuple[str, str] | None:
    """What is wrong with a life event's ``params`` — the param's name and why — or None:
    ``hour`` (maintenance, provider-outage, deploy: the local hour it happens at), and a
    ``duplicates`` event's ``share`` (of the deliveries sent twice) and ``after_minutes``."""
    hour = params.get("hour", 0)
    if _not_number(hour) or not 0 <= hour < 24:
        return "hour", (
            f"params.hour: {hour!r} is not allowed — must be a local hour from 0 to 24, "
            "like 14 or 9.5"
        )
    share = params.get("share", 0.01)
    if kind == "duplicates" and (_not_number(share) or not 0 < share <= 1):
        return "share", (
            f"params.share: {share!r} is not allowed — must be the share of the deliveries "
            "sent twice, above 0 and at most 1, like 0.01"
        )
    after = params.get("after_minutes", 0)
    if kind == "duplicates" and (_not_number(after) or not 0 <= after <= 3 * 24 * 60):
        return "after_minutes", (
            f"params.after_minutes: {after!r} is not allowed — must be the minutes after a "
            "delivery its copy comes, from 0 to 4320 (3 days), like 20"
        )
    return None


def _not_number(value: object) -> bool:
    return isinstance(value, bool) or not isinstance(value, int | float)


@dataclass(frozen=True, slots=True)
class LifeEvent:
    """One life event: ``kind`` (one of LIFE_EVENT_KINDS) on the calendar day ``on``, tuned by
    ``params``; ``title`` is how the report names it."""

    kind: str
    on: date
    params: Mapping[str, Any] = field(default_factory=dict)
    title: str = ""


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """Twelve months (or ``months``) from ``start`` of the project's events at
    ``events_per_day`` on an average day, with a daily and weekly rhythm, month-end and
    quarter-end imports and one seasonal peak, in ``timezone``; each day takes
    ``day_seconds`` of wall time (None: chosen from the volume). ``life`` None: the built-in
    year's life events."""

    start: date = date(2028, 1, 1)  # a leap year: 29 February is on it
    months: int = 12
    events_per_day: int = 100
    timezone: str = "Europe/Berlin"
    day_seconds: float | None = None
    life: tuple[LifeEvent, ...] | None = None
