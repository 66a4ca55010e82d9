"""The Markdown report: for a pull-request comment or a handoff document.

Pictures become text: a timeline of Unicode blocks in a code block, figures in tables.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from . import _describe, _matrix, _sequence
from ._stats import Timeline, Window
from ._templates import environment
from ._views import Report

_LEVELS = " ▁▂▃▄▅▆▇█"
SPARK_WIDTH = 48
_SPECIAL = re.compile(r"([\\`*\[\]<>|])")


def escape(text: object) -> str:
    """Text that Markdown shows as written: no emphasis, links, HTML or table breaks."""
    return _SPECIAL.sub(r"\\\1", str(text)).replace("\n", " ")


def code(text: object) -> str:
    """An inline code span that survives backticks in ``text``."""
    s = str(text).replace("\n", " ")
    fence = "``" if "`" in s else "`"
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _columns(values: Sequence[int], width: int) -> list[int]:
    """``values`` summed into ``width`` columns (bins are a multiple of it, or close)."""
    n = len(values)
    return [sum(values[i * n // width : (i + 1) * n // width]) for i in range(width)]


def spark(values: Sequence[int], peak: int, width: int = SPARK_WIDTH) -> str:
    """One row of blocks; any non-zero column shows at least the lowest block."""
    cols = _columns(values, width)
    top = max(peak, 1)
    return "".join(
        _LEVELS[0] if c == 0 else _LEVELS[max(1, round(c * (len(_LEVELS) - 1) / top))] for c in cols
    )


def timeline_text(t: Timeline, width: int = SPARK_WIDTH) -> str:
    """The timeline chart as lines of text: sent, effects, failures, faults, deploy restarts,
    time axis."""
    sent = [a + b + c for a, b, c in zip(t.ok, t.errors, t.timeouts, strict=True)]
    made = [a + b for a, b in zip(t.effects, t.refused, strict=True)]
    peak = max(_columns(sent, width) + _columns(made, width) + [1])
    rows = [
        ("sent", spark(sent, peak, width)),
        ("effects", spark(made, peak, width)),
    ]
    if any(t.marks):
        rows.append(("failures", "".join("▼" if c else " " for c in _columns(t.marks, width))))
    if t.windows:
        rows.append(("faults", _fault_row(t, t.windows, width)))
    if t.unavailable:
        rows.append(("no answer", _fault_row(t, t.unavailable, width, "▒")))
    if t.restarts:
        rows.append(("restarts", _fault_row(t, t.restarts, width, "┃")))
    end = _describe.duration(t.span)
    axis = "0 s" + end.rjust(width - 3)
    pad = max(9, *(len(name) + 1 for name, _ in rows))
    lines = [f"{name:<{pad}}{row.rstrip()}" for name, row in rows]
    lines.append(f"{'':<{pad}}{axis}")
    return "\n".join(lines)


def _fault_row(t: Timeline, windows: Sequence[Window], width: int, block: str = "░") -> str:
    step = t.span / width
    return "".join(
        block if any(w.start < (i + 1) * step and w.end > i * step for w in windows) else " "
        for i in range(width)
    )


def render(report: Report) -> str:
    return _render("report.md.j2", report)


def render_summary(report: Report) -> str:
    """The short form for a CI job summary: the verdict, the headline, the matrix (no links:
    the report is elsewhere), the refusals and the failures."""
    return _render("summary.md.j2", report)


def _render(name: str, report: Report) -> str:
    template = environment(html=False).get_template(name)
    return template.render(
        report=report,
        md=escape,
        code=code,
        clip=clip,
        marks=_matrix.MARKS,
        timeline_text=timeline_text,
        sequence_text=lambda d: "\n".join(_sequence.text(d)),
    )
