"""The sequence diagram of a run with an explicit schedule (``schedule:``, what ``harness
explore`` writes for a shrunk failure): per event, its deliveries (sent, answered) and the
effects attributed to it on one time axis. Text for the console and Markdown, an inline SVG for
the HTML report.

Effects are labelled by method and the first segment of their path only (``POST /deals``): the
rest of a path may carry a record's id or a customer's value, which a report never shows
unredacted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from ..history import History


@dataclass(frozen=True, slots=True)
class Step:
    """One thing on the diagram: ``kind`` delivery (sent at ``at``, answered ``status`` at
    ``until``) or effect (made at ``at``, answered ``status``), on lane ``lane``."""

    lane: int
    kind: str
    at: float
    label: str
    status: str
    until: float | None = None


@dataclass(frozen=True, slots=True)
class Diagram:
    lanes: tuple[str, ...]  # "e4", "e6": the events by their number in the source, in order
    steps: tuple[Step, ...]  # by time
    span: float  # seconds the diagram covers


def _route(method: str, path: str) -> str:
    first = path.split("?")[0].strip("/").split("/")[0]
    rest = "/…" if path.strip("/").count("/") else ""
    return f"{method} /{first}{rest}"


def diagram(h: History) -> Diagram:
    """The diagram's content: every delivery and every effect attributed to an event."""
    lane = {ev.id: n for n, ev in enumerate(h.events)}
    steps = [
        Step(
            lane[d.event_id],
            "delivery",
            d.sent_at,
            f"delivery {d.attempt}",
            str(d.status) if d.status is not None else "no answer",
            d.answered_at,
        )
        for d in h.deliveries
        if d.event_id in lane
    ]
    steps += [
        Step(lane[eid], "effect", e.at, _route(e.method, e.path), str(e.status or "reset"))
        for e in h.effects
        for eid in e.event_ids[:1]
        if eid in lane
    ]
    steps.sort(key=lambda s: (s.at, s.lane))
    ends = [s.until or s.at for s in steps]
    # The source's numbers of the events the schedule named (journals before them: True, and
    # the run's own order, 1 to n).
    numbers = h.info.settings.get("explicit_schedule")
    if not isinstance(numbers, list) or len(numbers) != len(h.events):
        numbers = list(range(1, len(h.events) + 1))
    return Diagram(
        tuple(f"e{n}" for n in numbers),
        tuple(steps),
        max(ends, default=0.0),
    )


def text(seq: Diagram) -> list[str]:
    """One line per step: time, then the step in its event's column."""
    width = 24
    head = "  time     " + "".join(f"{name:<{width}}" for name in seq.lanes)
    lines = [head.rstrip()]
    for s in seq.steps:
        mark = f"-> {s.label} : {s.status}" if s.kind == "delivery" else f"   {s.label} {s.status}"
        cells = [""] * len(seq.lanes)
        cells[s.lane] = mark
        row = f"  {s.at:7.3f}s " + "".join(f"{c:<{width}}" for c in cells)
        lines.append(row.rstrip())
    return lines


_ROW = 46
_SMALL = 'font-family="system-ui,sans-serif" font-size="9" fill="#555"'
_LEFT = 60
_WIDTH = 640
_TEXT = 'font-family="system-ui,sans-serif" font-size="11" fill="#333"'


def svg(seq: Diagram) -> str:
    """The diagram as an inline SVG: one row per event, time to the right; a delivery is a bar
    from sent to answered, an effect a square below it, labelled."""
    span = seq.span or 1.0
    plot = _WIDTH - _LEFT - 20
    height = _ROW * len(seq.lanes) + 24

    def x(t: float) -> float:
        return _LEFT + plot * t / span

    parts: list[str] = []
    for n, name in enumerate(seq.lanes):
        y = 24 + n * _ROW
        parts.append(f'<text x="8" y="{y + 4}" {_TEXT}>{escape(name)}</text>')
        parts.append(
            f'<line x1="{_LEFT}" y1="{y}" x2="{_WIDTH - 20}" y2="{y}" stroke="#ccc" '
            'stroke-dasharray="2,3"/>'
        )
    for s in seq.steps:
        y = 24 + s.lane * _ROW
        label = escape(f"{s.label} {s.status}")
        if s.kind == "delivery":
            end = x(s.until if s.until is not None else s.at)
            parts.append(
                f'<rect x="{x(s.at):.1f}" y="{y - 6}" width="{max(end - x(s.at), 2):.1f}" '
                f'height="8" fill="#4c78a8"><title>{label} at {s.at:.3f} s</title></rect>'
            )
            parts.append(f'<text x="{x(s.at):.1f}" y="{y - 9}" {_SMALL}>{escape(s.status)}</text>')
        else:
            parts.append(
                f'<rect x="{x(s.at) - 3:.1f}" y="{y + 5}" width="6" height="6" fill="#54a24b">'
                f"<title>{label} at {s.at:.3f} s</title></rect>"
            )
            parts.append(f'<text x="{x(s.at) - 3:.1f}" y="{y + 22}" {_SMALL}>{label}</text>')
    for t in _ticks(span):
        parts.append(f'<text x="{x(t):.1f}" y="{height - 4}" {_TEXT}>{t:g} s</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" role="img" '
        f'aria-label="sequence of deliveries and effects per event">{"".join(parts)}</svg>'
    )


def _ticks(span: float) -> Sequence[float]:
    step = next(
        (s for s in (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60) if span / s <= 6), 120
    )
    return [round(n * step, 3) for n in range(int(span / step) + 1)]
