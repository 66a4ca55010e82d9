"""Trends over a year of month runs: a robust line through (events seen, measure) points and
what it means — a finding naming the month a limit is crossed, a flat trend (no finding), or
too little or too noisy data to tell (inconclusive, never "fine").

Pure functions of numbers: ``_year`` turns month runs into the points and month spans.

The line is Theil-Sen's (the median of the pairwise slopes): one month of GC pauses or one
maintenance window moves a least-squares line, not this one (up to ~29% of the points can be
wild). The slope's 95% interval is Sen's, from the ranks of the pairwise slopes: a growth is
only called one when the interval's low end is above zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Fewer months measured than this: no trend is told, whatever the points say.
MIN_MONTHS = 3
# At most this many points are fitted (pairs grow as n²): evenly thinned beyond it.
MAX_POINTS = 240
# A memory trend is a finding when the year's end would hold this many times the first month.
MEMORY_GROWTH = 1.5
_Z95 = 1.96
NOT_SAMPLED = "memory: not measured (run with --target-pid or --metrics-url)"


@dataclass(frozen=True, slots=True)
class Fit:
    """``y = intercept + slope * x``; ``lower``/``upper``: the slope's 95% interval."""

    slope: float
    intercept: float
    lower: float
    upper: float
    points: int

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


@dataclass(frozen=True, slots=True)
class MonthSpan:
    """One month of the year as the trend sees it: its 1-based ``index``, ``label``
    (``2028-09``), the events seen by its end (run or projected), and what was measured in it
    (None: not run, or nothing measured)."""

    index: int
    label: str
    end_events: float
    observed: float | None = None


@dataclass(frozen=True, slots=True)
class Trend:
    """What a measure does over the year. ``status``: ``finding`` (it crosses ``limit`` by
    ``month``, or grows past MEMORY_GROWTH), ``flat`` (no finding), ``inconclusive``."""

    measure: str  # "ack latency" | "memory"
    status: str
    text: str
    unit: str  # "s" | "MB"
    per: int  # the rate is per this many events
    rate: float | None  # growth per ``per`` events, in ``unit``
    limit: float | None
    limit_name: str
    month: int | None
    month_label: str | None
    observed_crossing: bool
    fit: Fit | None
    points: tuple[tuple[float, float], ...]
    projected: tuple[tuple[str, float | None], ...]  # (month label, fitted value at its end)


def theil_sen(points: Sequence[tuple[float, float]]) -> Fit | None:
    """The median pairwise slope through ``points`` (x, y) and Sen's 95% interval for it; None
    with fewer than three distinct x."""
    pts = _thin(points, MAX_POINTS)
    slopes = sorted(
        (y2 - y1) / (x2 - x1)
        for i, (x1, y1) in enumerate(pts)
        for x2, y2 in pts[i + 1 :]
        if x2 != x1
    )
    if len({x for x, _ in pts}) < 3 or not slopes:
        return None
    n, count = len(pts), len(slopes)
    slope = _median(slopes)
    intercept = _median([y - slope * x for x, y in pts])
    spread = _Z95 * math.sqrt(n * (n - 1) * (2 * n + 5) / 18)
    low = max(0, math.floor((count - spread) / 2))
    high = min(count - 1, math.ceil((count + spread) / 2))
    return Fit(slope, intercept, slopes[low], slopes[high], n)


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _thin(points: Sequence[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    if len(points) <= limit:
        return list(points)
    return [points[i * len(points) // limit] for i in range(limit)]


def per_events(total: float) -> int:
    """The round number of events a rate is told per: a power of ten near a third of the
    year's events (100,000 for a year of 365,000)."""
    return int(10 ** max(0, math.floor(math.log10(max(total, 1) / 3))))


def latency_trend(
    points: Sequence[tuple[float, float]],
    months: Sequence[MonthSpan],
    limit: float,
    limit_name: str,
) -> Trend:
    """Ack latency (s) against the events seen: a finding when it passes ``limit`` (a
    provider's ack timeout, else the run's delivery timeout) in a month of ``months``, as
    measured or as the trend projects it at the calendar's volume."""
    per = per_events(max((m.end_events for m in months), default=1))
    measured = [m for m in months if m.observed is not None]
    crossed = next((m for m in measured if (m.observed or 0) >= limit), None)
    fit = theil_sen(points) if len(measured) >= MIN_MONTHS else None
    rate = None if fit is None else fit.slope * per
    base = _Trend("ack latency", "s", per, rate, limit, limit_name, fit, points, months)
    if crossed is not None:
        grow = f"acks grow {_amount(rate, 's')} per {per:,} events: " if rate and rate > 0 else ""
        text = (
            f"{grow}past {limit_name} in month {crossed.index} ({crossed.label}): "
            f"p95 {_amount(crossed.observed, 's')} measured"
        )
        return base.make("finding", text, crossed, observed=True)
    if fit is None:
        return base.make("inconclusive", _too_few(len(measured), "ack latency"))
    median = _first_past(points, fit.slope, months, limit)
    upper = _first_past(points, fit.upper, months, limit)
    assert rate is not None
    if median is not None and fit.lower > 0:
        text = (
            f"acks grow {_amount(rate, 's')} per {per:,} events: past {limit_name} "
            f"in month {median.index} ({median.label})"
        )
        return base.make("finding", text, median)
    if median is not None or upper is not None:
        text = (
            f"ack latency too noisy to tell: the trend ({_amount(rate, 's')} per {per:,} events, "
            f"95% interval {_amount(fit.lower * per, 's')} to {_amount(fit.upper * per, 's')}) "
            f"could pass {limit_name} within the year, or not"
        )
        return base.make("inconclusive", text)
    end = months[-1]
    text = (
        f"acks stay under {limit_name}: {_amount(rate, 's')} per {per:,} events, about "
        f"{_amount(max(0.0, fit.at(end.end_events)), 's')} at the end of month {end.index}"
    )
    return base.make("flat", text)


def memory_trend(points: Sequence[tuple[float, float]], months: Sequence[MonthSpan]) -> Trend:
    """The target's memory (MB) against the events seen: a finding when it grows (the slope's
    interval above zero) to MEMORY_GROWTH times its first measured value by the year's end."""
    per = per_events(max((m.end_events for m in months), default=1))
    measured = [m for m in months if m.observed is not None]
    fit = theil_sen(points) if len(measured) >= MIN_MONTHS else None
    rate = None if fit is None else fit.slope * per
    base = _Trend("memory", "MB", per, rate, None, "", fit, points, months)
    if not measured:
        return base.make("inconclusive", NOT_SAMPLED)
    if fit is None:
        return base.make("inconclusive", _too_few(len(measured), "memory"))
    assert rate is not None
    first, end = measured[0], months[-1]
    start = first.observed or 0.0
    projected = fit.at(end.end_events)
    if fit.lower > 0 and projected >= MEMORY_GROWTH * start:
        text = (
            f"memory grows {_amount(rate, 'MB')} per {per:,} events: from "
            f"{_amount(start, 'MB')} in month {first.index} to about {_amount(projected, 'MB')} "
            f"by the end of month {end.index}, and on without bound"
        )
        return base.make("finding", text, end)
    grows = _line(points, fit.upper)(end.end_events) >= MEMORY_GROWTH * start
    if fit.lower <= 0 < fit.upper and grows:
        text = (
            f"memory too noisy to tell: {_amount(rate, 'MB')} per {per:,} events, "
            f"95% interval {_amount(fit.lower * per, 'MB')} to "
            f"{_amount(fit.upper * per, 'MB')}"
        )
        return base.make("inconclusive", text)
    text = (
        f"memory steady: {_amount(rate, 'MB')} per {per:,} events, about {_amount(projected, 'MB')}"
    )
    return base.make("flat", text + f" at the end of month {end.index}")


def _first_past(
    points: Sequence[tuple[float, float]], slope: float, months: Sequence[MonthSpan], limit: float
) -> MonthSpan | None:
    """The first month whose end the line of ``slope`` through ``points`` (its intercept the
    median residual) puts at or past ``limit``."""
    if slope <= 0:
        return None
    at = _line(points, slope)
    return next((m for m in months if at(m.end_events) >= limit), None)


def _line(points: Sequence[tuple[float, float]], slope: float) -> Callable[[float], float]:
    intercept = _median([y - slope * x for x, y in _thin(points, MAX_POINTS)])
    return lambda x: intercept + slope * x


def _too_few(measured: int, what: str) -> str:
    return (
        f"{what}: only {measured} month{'s' if measured != 1 else ''} measured, "
        f"too few to tell a trend (at least {MIN_MONTHS})"
    )


def _amount(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "s":
        if abs(value) < 1:
            return f"{value * 1000:.3g} ms"
        return f"{value:.3g} s"
    return f"{value:.3g} MB"


@dataclass(frozen=True, slots=True)
class _Trend:
    """What every outcome of one trend shares."""

    measure: str
    unit: str
    per: int
    rate: float | None
    limit: float | None
    limit_name: str
    fit: Fit | None
    points: Sequence[tuple[float, float]]
    months: Sequence[MonthSpan]

    def make(
        self, status: str, text: str, month: MonthSpan | None = None, *, observed: bool = False
    ) -> Trend:
        fit = self.fit
        return Trend(
            measure=self.measure,
            status=status,
            text=text,
            unit=self.unit,
            per=self.per,
            rate=self.rate,
            limit=self.limit,
            limit_name=self.limit_name,
            month=None if month is None else month.index,
            month_label=None if month is None else month.label,
            observed_crossing=observed,
            fit=fit,
            points=tuple(_thin(self.points, MAX_POINTS)),
            projected=tuple(
                (m.label, None if fit is None else round(fit.at(m.end_events), 6))
                for m in self.months
            ),
        )
