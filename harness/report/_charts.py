"""Inline SVG pictures from aggregated figures: no script, no library, no network.

Each series is one ``<path>`` of rectangles, so a chart is a few kilobytes however many
deliveries it shows. Sizes are in viewBox units; the page scales the SVG to its width.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from html import escape

from . import _describe
from ._stats import Lag, Latency, Timeline, Window

COLORS = {
    "ok": "#4c78a8",
    "errors": "#f58518",
    "timeouts": "#b279a2",
    "effects": "#54a24b",
    "refused": "#9d755d",
    "marks": "#d62728",
    "fault": "#e45756",
    "unavailable": "#555555",
    "restart": "#7b3fb5",
    "typical": "#1f3b5c",
    "worst": "#9ecae9",
    "budget": "#d62728",
}
_TEXT = 'font-family="system-ui,sans-serif" fill="#333"'


def _n(x: float) -> str:
    """A coordinate with at most one decimal: short, and exact enough for a screen."""
    text = f"{x:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _svg(width: int, height: int, label: str, body: Iterable[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}"><title>{escape(label)}</title>'
        + "".join(body)
        + "</svg>"
    )


def _bars(color: str, rects: Iterable[tuple[float, float, float, float]], title: str = "") -> str:
    d = "".join(f"M{_n(x)} {_n(y)}h{_n(w)}v{_n(h)}h-{_n(w)}z" for x, y, w, h in rects if h > 0)
    if not d:
        return ""
    tip = f"<title>{escape(title)}</title>" if title else ""
    return f'<path fill="{color}" d="{d}">{tip}</path>'


def _text(
    x: float, y: float, text: str, size: int = 12, anchor: str = "start", extra: str = ""
) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" {_TEXT}'
        f"{' ' + extra if extra else ''}>{escape(text)}</text>"
    )


def nice_step(span: float, ticks: int = 6) -> float:
    """1, 2 or 5 times a power of ten, giving about ``ticks`` intervals over ``span``."""
    raw = max(span, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def time_label(t: float, step: float) -> str:
    if step >= 60:
        return _describe.clock(t)
    if step >= 1:
        return f"{t:g} s"
    if step >= 0.1:
        return f"{t:.1f} s"
    return f"{t * 1000:.0f} ms"


def _time_axis(left: float, width: float, span: float, y: float, top: float) -> list[str]:
    step = nice_step(span)
    out = [f'<path stroke="#bbb" d="M{_n(left)} {_n(y)}h{_n(width)}"/>']
    count = int(span / step + 1e-9)
    for i in range(count + 1):
        t = i * step
        x = left + width * t / span
        out.append(f'<path stroke="#e4e4e4" d="M{_n(x)} {_n(top)}V{_n(y)}"/>')
        out.append(_text(x, y + 15, time_label(t, step), anchor="middle"))
    return out


def _windows(
    windows: Sequence[Window], left: float, width: float, span: float, top: float, bottom: float
) -> list[str]:
    out = []
    for w in windows:
        x0 = left + width * max(0.0, w.start) / span
        x1 = left + width * min(span, w.end) / span
        out.append(
            f'<rect x="{_n(x0)}" y="{_n(top)}" width="{_n(max(1.0, x1 - x0))}" '
            f'height="{_n(bottom - top)}" fill="{COLORS["fault"]}" fill-opacity="0.16">'
            f"<title>{escape(w.label)}</title></rect>"
        )
    return out


def _unavailable(
    windows: Sequence[Window], left: float, width: float, span: float, top: float, bottom: float
) -> list[str]:
    """When the target did not answer: a grey band from its first unanswered delivery, a
    dashed line where it began, and a label where the band has room for one."""
    out = []
    for w in windows:
        x0, x1 = _across(w, left, width, span)
        out.append(_edged(w, x0, x1, top, bottom, "unavailable", 0.14, 'stroke-dasharray="3 2"'))
        if x1 - x0 >= 60:
            out.append(_text(x0 + 3, top + 10, "no answer", 10))
    return out


def _restarts(
    windows: Sequence[Window], left: float, width: float, span: float, top: float, bottom: float
) -> list[str]:
    """Each deploy restart: a solid line where its hook was called, a band to where it
    returned, and a label where the plot has room for one."""
    out = []
    for w in windows:
        x0, x1 = _across(w, left, width, span)
        x1 = max(x1, x0 + 1.5)  # a hook of a few ms: still seen
        out.append(_edged(w, x0, x1, top, bottom, "restart", 0.22, 'stroke-width="1.5"'))
        if len(windows) <= 4 and x0 + 3 + 40 <= left + width:
            out.append(_text(x0 + 3, bottom - 3, "deploy", 10))
    return out


def _across(w: Window, left: float, width: float, span: float) -> tuple[float, float]:
    """Where ``w`` starts and ends on a plot ``width`` wide from ``left``, clipped to it."""
    return left + width * max(0.0, w.start) / span, left + width * min(span, w.end) / span


def _edged(
    w: Window, x0: float, x1: float, top: float, bottom: float, color: str, fill: float, line: str
) -> str:
    """A band from ``x0`` to ``x1`` (at least 1 wide), a line (``line``: its attributes) at its
    start, and ``w``'s label as their tooltip."""
    hue = COLORS[color]
    return (
        f'<g><title>{escape(w.label)}</title><rect x="{_n(x0)}" y="{_n(top)}" '
        f'width="{_n(max(1.0, x1 - x0))}" height="{_n(bottom - top)}" fill="{hue}" '
        f'fill-opacity="{fill}"/><path stroke="{hue}" {line} '
        f'd="M{_n(x0)} {_n(top)}V{_n(bottom)}"/></g>'
    )


def timeline(t: Timeline) -> str:
    """Deliveries above the axis, effects below, fault windows shaded, failures marked, when
    the target did not answer banded in grey, and each deploy restart drawn where its hook
    ran."""
    width, height, left, right = 640, 214, 44, 8
    plot = width - left - right
    mid, half = 104.0, 76.0  # deliveries grow up from mid, effects down from mid + 4
    bins = len(t.ok)
    bw = plot / bins
    sent = [a + b + c for a, b, c in zip(t.ok, t.errors, t.timeouts, strict=True)]
    made = [a + b for a, b in zip(t.effects, t.refused, strict=True)]
    top_max, low_max = max(sent, default=0) or 1, max(made, default=0) or 1

    def up(series: Sequence[int], base: Sequence[int]) -> list[tuple[float, float, float, float]]:
        return [
            (left + i * bw, mid - (b + n) * half / top_max, bw * 0.86, n * half / top_max)
            for i, (n, b) in enumerate(zip(series, base, strict=True))
        ]

    def down(series: Sequence[int], base: Sequence[int]) -> list[tuple[float, float, float, float]]:
        return [
            (left + i * bw, mid + 4 + b * half / low_max, bw * 0.86, n * half / low_max)
            for i, (n, b) in enumerate(zip(series, base, strict=True))
        ]

    errors_base = list(t.ok)
    timeouts_base = [a + b for a, b in zip(t.ok, t.errors, strict=True)]
    per = _describe.duration(t.width)
    body = [
        *_windows(t.windows, left, plot, t.span, 18, mid + 4 + half + 2),
        *_unavailable(t.unavailable, left, plot, t.span, 18, mid + 4 + half + 2),
        *_restarts(t.restarts, left, plot, t.span, 18, mid + 4 + half + 2),
        *_time_axis(left, plot, t.span, mid + 4 + half + 4, 18),
        _bars(COLORS["ok"], up(t.ok, [0] * bins), "deliveries answered 2xx"),
        _bars(COLORS["errors"], up(t.errors, errors_base), "deliveries rejected or failed"),
        _bars(COLORS["timeouts"], up(t.timeouts, timeouts_base), "deliveries timed out"),
        _bars(COLORS["effects"], down(t.effects, [0] * bins), "effects"),
        _bars(COLORS["refused"], down(t.refused, list(t.effects)), "effects refused (4xx/5xx)"),
        f'<path stroke="#888" d="M{left} {_n(mid + 2)}h{plot}"/>',
        _marks(t.marks, left, bw),
        _text(left - 4, mid - half + 10, f"{top_max:,}", 11, "end"),
        _text(left - 4, mid + 4 + half, f"{low_max:,}", 11, "end"),
        _text(left - 4, mid, "0", 11, "end"),
        _text(
            14,
            mid - half / 2,
            "sent",
            12,
            "middle",
            f'transform="rotate(-90 14 {_n(mid - half / 2)})"',
        ),
        _text(
            14,
            mid + 4 + half / 2,
            "effects",
            12,
            "middle",
            f'transform="rotate(-90 14 {_n(mid + 4 + half / 2)})"',
        ),
    ]
    label = f"Deliveries and effects over time, per {per}"
    return _svg(width, height, label, body)


def _marks(marks: Sequence[int], left: float, bw: float) -> str:
    d = "".join(
        f"M{_n(left + (i + 0.43) * bw - 4.5)} 5h9l-4.5 8z" for i, n in enumerate(marks) if n
    )
    if not d:
        return ""
    return f'<path fill="{COLORS["marks"]}" d="{d}"><title>failure witnesses</title></path>'


def _decade_label(exponent: int) -> str:
    seconds = 10.0**exponent
    return f"{seconds * 1000:g} ms" if seconds < 1 else f"{seconds:g} s"


def latency(h: Latency) -> str:
    """Ack latency on log-spaced bins, the ack budget as a dashed line, timeouts apart."""
    width, height, left, right, top, base = 320, 190, 38, 22, 20, 150
    extra = 1 if h.timed_out else 0
    slots = len(h.counts) + extra * 2
    plot = width - left - right
    bw = plot / slots
    peak = max([*h.counts, h.timed_out, 1])
    lo, hi = math.log10(h.edges[0]), math.log10(h.edges[-1])
    span_px = bw * len(h.counts)

    def x_of(seconds: float) -> float:
        return left + span_px * (math.log10(seconds) - lo) / (hi - lo)

    bars = [
        (left + i * bw + 0.5, base - n * (base - top) / peak, bw - 1, n * (base - top) / peak)
        for i, n in enumerate(h.counts)
    ]
    body = [
        f'<path stroke="#bbb" d="M{left} {base}h{_n(plot)}"/>',
        _bars(COLORS["ok"], bars, "deliveries answered"),
    ]
    for exponent in range(round(lo), round(hi) + 1):
        x = x_of(10.0**exponent)
        body.append(f'<path stroke="#e4e4e4" d="M{_n(x)} {top}V{base}"/>')
        body.append(_text(x, base + 15, _decade_label(exponent), 11, "middle"))
    if h.timed_out:
        x = left + bw * (len(h.counts) + 1)
        n = h.timed_out * (base - top) / peak
        body.append(_bars(COLORS["timeouts"], [(x, base - n, bw, n)], "timed out"))
        body.append(_text(x + bw / 2, base + 28, "timed out", 11, "middle"))
    if h.budget is not None and h.edges[0] <= h.budget <= h.edges[-1]:
        x = x_of(h.budget)
        body.append(
            f'<path stroke="{COLORS["budget"]}" stroke-dasharray="4 3" '
            f'd="M{_n(x)} {top - 4}V{base}"/>'
        )
        # The label goes on whichever side of the line has room.
        right_side = x < left + plot * 0.6
        body.append(
            _text(
                x + 3 if right_side else x - 3,
                top - 8,
                f"budget {_describe.duration(h.budget)}",
                11,
                "start" if right_side else "end",
            )
        )
    body.append(_text(left - 4, top + 8, f"{peak:,}", 11, "end"))
    body.append(_text(left - 4, base, "0", 11, "end"))
    return _svg(width, height, "How long the target took to answer each delivery", body)


def lag(g: Lag) -> str:
    """Seconds from first delivery to first effect, by delivery time: worst and median."""
    width, height, left, right, top, base = 320, 190, 46, 10, 14, 150
    plot = width - left - right
    bins = len(g.worst)
    bw = plot / bins
    peak = max([w for w in g.worst if w is not None] or [0.0]) or 0.001
    scale = (base - top) / peak
    bars = [
        (left + i * bw, base - w * scale, bw * 0.9, w * scale)
        for i, w in enumerate(g.worst)
        if w is not None
    ]
    # The median of each interval as a short level line: joining intervals with a polyline
    # would draw lag where no event was delivered.
    ticks = "".join(
        f"M{_n(left + i * bw)} {_n(base - m * scale)}h{_n(bw * 0.9)}"
        for i, m in enumerate(g.typical)
        if m is not None
    )
    body = [
        *_windows(g.windows, left, plot, g.span, top, base),
        *_time_axis(left, plot, g.span, base, top),
        _bars(COLORS["worst"], bars, "worst lag per interval"),
    ]
    if ticks:
        body.append(
            f'<path fill="none" stroke="{COLORS["typical"]}" stroke-width="2" d="{ticks}">'
            "<title>median lag per interval</title></path>"
        )
    body.append(_text(left - 4, top + 8, _describe.duration(peak), 11, "end"))
    body.append(_text(left - 4, base, "0", 11, "end"))
    return _svg(width, height, "Effect lag: from first delivery to first effect", body)
