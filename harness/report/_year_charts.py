"""The year's timeline as inline SVG: one column per month — events, ack latency (p50, p95, the
trend and the ack timeout), errors and refusals — the life events marked on the month axis and
the months that broke marked above it. Built from the year's figures only (``_year``)."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from html import escape

from ._charts import COLORS, _bars, _n, _svg, _text
from ._year import MonthFigures, YearView

WIDTH, LEFT, RIGHT = 720, 56, 10
PANEL, GAP = 70.0, 26.0
_LIFE = "#6a3d9a"


def timeline(year: YearView) -> str:
    """Three panels over the months of the year, life events and broken months marked."""
    spans = [label for label, _ in year.trends[0].projected] if year.trends else []
    count = max(len(spans), max((m.index for m in year.months), default=1))
    plot = WIDTH - LEFT - RIGHT
    col = plot / count
    by_index = {m.index: m for m in year.months}
    top1 = 44.0
    top2 = top1 + PANEL + GAP
    top3 = top2 + PANEL + GAP
    axis = top3 + PANEL + 4
    height = int(axis + 46)
    body: list[str] = []
    body += _volume(by_index, count, col, top1)
    body += _latency(year, by_index, count, col, top2)
    body += _errors(by_index, count, col, top3)
    body += _axis(year, spans, count, col, axis, top1)
    body += _broken(year, col)
    if year.broke:
        legend = "▼ (top) broke that month; faded: projected"
        body.append(_text(LEFT + count * col, axis + 40, legend, 10, "end"))
    label = "The year month by month: events, ack latency and errors, life events marked"
    return _svg(WIDTH, height, label, body)


def _x(index: int, col: float) -> float:
    return LEFT + (index - 1) * col


def _panel_title(top: float, text: str) -> str:
    return _text(LEFT, top - 6, text, 12, extra='font-weight="600"')


def _volume(by: dict[int, MonthFigures], count: int, col: float, top: float) -> list[str]:
    peak = max((m.events for m in by.values()), default=0) or 1
    rects = [
        (_x(i, col) + col * 0.12, top + PANEL - m.events * PANEL / peak, col * 0.76,
         m.events * PANEL / peak)
        for i, m in by.items()
    ]  # fmt: skip
    return [
        _panel_title(top, "events per month"),
        _text(LEFT - 4, top + 10, f"{peak:,}", 11, "end"),
        _bars(COLORS["ok"], rects, "events"),
        *(_tip(_x(i, col), top, col, f"{m.name}: {m.events:,} events") for i, m in by.items()),
    ]


def _latency(
    year: YearView, by: dict[int, MonthFigures], count: int, col: float, top: float
) -> list[str]:
    trend = year.trends[0] if year.trends else None
    p95 = {i: m.ack.p95 for i, m in by.items() if m.ack.p95 is not None}
    p50 = {i: m.ack.p50 for i, m in by.items() if m.ack.p50 is not None}
    projected = [v for _, v in trend.projected if v is not None] if trend else []
    high = max([*p95.values(), 1e-3])
    limit = year.limit
    if limit is not None and (
        high >= limit / 4 or (trend is not None and trend.status != "flat" and projected)
    ):
        high = max(high, limit * 1.1)
    if trend is not None and trend.status == "finding":
        high = max(high, min(max(projected, default=0.0), (limit or high) * 1.5))

    def y(v: float) -> float:
        return top + PANEL - min(v, high) * PANEL / high

    out = [
        _panel_title(top, "ack latency per month: p95 (line), p50 (dots), trend (dashed)"),
        _text(LEFT - 4, top + 10, _seconds(high), 11, "end"),
        _text(LEFT - 4, top + PANEL, "0", 11, "end"),
        f'<path stroke="#bbb" d="M{LEFT} {_n(top + PANEL)}h{_n(count * col)}"/>',
    ]
    if limit is not None and limit <= high:
        out.append(
            f'<path stroke="{COLORS["budget"]}" stroke-dasharray="5 3" '
            f'd="M{LEFT} {_n(y(limit))}h{_n(count * col)}"><title>{escape(year.limit_name)}'
            "</title></path>"
        )
        out.append(_text(LEFT + count * col - 2, y(limit) - 3, year.limit_name, 10, "end"))
    if trend is not None and trend.fit is not None:
        ends = [(i + 1, v) for i, (_, v) in enumerate(trend.projected) if v is not None]
        d = "".join(
            f"{'M' if k == 0 else 'L'}{_n(_x(i, col) + col)} {_n(y(max(0.0, v)))}"
            for k, (i, v) in enumerate(ends)
        )
        stroke = COLORS["budget"] if trend.status == "finding" else "#999"
        if d:
            out.append(
                f'<path fill="none" stroke="{stroke}" '
                f'stroke-dasharray="2 3" d="{d}"><title>{escape(trend.text)}</title></path>'
            )
    line = "".join(
        f"{'M' if k == 0 else 'L'}{_n(_x(i, col) + col / 2)} {_n(y(v))}"
        for k, (i, v) in enumerate(sorted(p95.items()))
    )
    if line:
        out.append(
            f'<path fill="none" stroke="{COLORS["typical"]}" stroke-width="2" d="{line}">'
            "<title>p95 ack latency</title></path>"
        )
    for i, v in sorted(p95.items()):
        m = by[i]
        out.append(
            f'<circle cx="{_n(_x(i, col) + col / 2)}" cy="{_n(y(v))}" r="3" '
            f'fill="{COLORS["typical"]}"><title>{escape(m.name)}: p95 {_seconds(v)}, p99 '
            f"{_seconds(m.ack.p99)}</title></circle>"
        )
    for i, v in sorted(p50.items()):
        out.append(
            f'<circle cx="{_n(_x(i, col) + col / 2)}" cy="{_n(y(v))}" r="2" '
            f'fill="{COLORS["worst"]}"><title>{escape(by[i].name)}: p50 {_seconds(v)}</title>'
            "</circle>"
        )
    return out


def _errors(by: dict[int, MonthFigures], count: int, col: float, top: float) -> list[str]:
    peak = max((m.errors + m.refusals + m.downstream_errors for m in by.values()), default=0)
    peak = peak or 1
    err, ref, down = [], [], []
    for i, m in by.items():
        x, w = _x(i, col) + col * 0.12, col * 0.76
        h1, h2, h3 = (n * PANEL / peak for n in (m.errors, m.refusals, m.downstream_errors))
        err.append((x, top + PANEL - h1, w, h1))
        ref.append((x, top + PANEL - h1 - h2, w, h2))
        down.append((x, top + PANEL - h1 - h2 - h3, w, h3))
    return [
        _panel_title(top, "errors per month: 5xx/timeouts, refusals (4xx), downstream ≥ 400"),
        _text(LEFT - 4, top + 10, f"{peak:,}", 11, "end"),
        _text(LEFT - 4, top + PANEL, "0", 11, "end"),
        f'<path stroke="#bbb" d="M{LEFT} {_n(top + PANEL)}h{_n(count * col)}"/>',
        _bars(COLORS["errors"], err, "deliveries failed or timed out"),
        _bars(COLORS["refused"], ref, "deliveries refused (4xx)"),
        _bars(COLORS["timeouts"], down, "downstream answers >= 400"),
        *(
            _tip(
                _x(i, col),
                top,
                col,
                f"{m.name}: {m.errors:,} errors, {m.refusals:,} refusals, "
                f"{m.downstream_errors:,} downstream answers >= 400",
            )
            for i, m in by.items()
        ),
    ]


def _axis(
    year: YearView, spans: Sequence[str], count: int, col: float, y: float, top: float
) -> list[str]:
    out = [f'<path stroke="#888" d="M{LEFT} {_n(y)}h{_n(count * col)}"/>']
    by = {m.index: m for m in year.months}
    for i in range(1, count + 1):
        x = _x(i, col)
        out.append(f'<path stroke="#eee" d="M{_n(x)} {_n(top)}V{_n(y)}"/>')
        label = spans[i - 1] if i - 1 < len(spans) else f"month {i}"
        shown = _short(label, first=i == 1)
        weight = "" if i in by else 'fill-opacity="0.45"'
        out.append(_text(x + col / 2, y + 14, shown, 10, "middle", weight))
    for m in year.months:
        for life in m.life:
            day = _day(life.on, m.days)
            x = _x(m.index, col) + col * day
            color = "#aaa" if life.skipped else _LIFE
            tip = life.title + (f" (not applied: {life.skipped})" if life.skipped else "")
            out.append(
                f'<path fill="{color}" d="M{_n(x)} {_n(y + 18)}l4 8h-8z">'
                f"<title>{escape(f'{life.on}: {tip}')}</title></path>"
            )
    out.append(_text(LEFT, y + 40, "▲ life events (hover for what and when)", 10))
    return out


def _broken(year: YearView, col: float) -> list[str]:
    out = []
    for b in year.broke:
        x = _x(b.index, col) + col / 2
        color = COLORS["marks"]
        opacity = ' fill-opacity="0.5"' if b.projected else ""
        out.append(
            f'<path fill="{color}"{opacity} d="M{_n(x - 5)} 4h10l-5 9z">'
            f"<title>{escape(f'{b.name}: {b.what}')}</title></path>"
        )
    return out


def _short(label: str, first: bool) -> str:
    """``Mar`` for ``2028-03``; January and the first column with their year."""
    try:
        y, m = (int(p) for p in label.split("-"))
        name = calendar.month_abbr[m]
    except (ValueError, IndexError):
        return label
    return f"{name} {y}" if first or m == 1 else name


def _tip(x: float, top: float, col: float, text: str) -> str:
    return (
        f'<rect x="{_n(x)}" y="{_n(top)}" width="{_n(col)}" height="{_n(PANEL)}" '
        f'fill="transparent"><title>{escape(text)}</title></rect>'
    )


def _day(on: str, days: int) -> float:
    """Where in its month (0..1) a day ``2028-03-26`` falls."""
    try:
        day = int(on.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return 0.5
    return min(1.0, max(0.0, (day - 0.5) / max(days, 28)))


def _seconds(v: float | None) -> str:
    if v is None:
        return "n/a"
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2g} s"
