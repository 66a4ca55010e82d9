"""The HTML report: one self-contained file (inline CSS and SVG, no script, no network)."""

from __future__ import annotations

from markupsafe import Markup

from ..core._data_paths import data_dir
from . import _charts, _matrix, _sequence, _year_charts
from ._templates import environment
from ._views import Report, ScenarioView
from ._year import YearView


def _timeline(s: ScenarioView) -> Markup:
    # The SVG is built from numbers and escaped labels only, so it is safe to insert as is.
    return Markup(_charts.timeline(s.pictures.timeline))


def _latency(s: ScenarioView) -> Markup:
    return Markup(_charts.latency(s.pictures.latency))


def _lag(s: ScenarioView) -> Markup:
    return Markup(_charts.lag(s.pictures.lag))


def _sequence_svg(s: ScenarioView) -> Markup:
    return Markup(_sequence.svg(s.sequence)) if s.sequence is not None else Markup("")


def _year_timeline(y: YearView) -> Markup:
    return Markup(_year_charts.timeline(y))


def render(report: Report) -> str:
    css = (data_dir("reports") / "report.css").read_text(encoding="utf-8")
    template = environment(html=True).get_template("report.html.j2")
    return template.render(
        report=report,
        css=Markup(css),  # our own stylesheet, shipped with the package
        colors=_charts.COLORS,
        marks=_matrix.MARKS,
        timeline=_timeline,
        latency=_latency,
        lag=_lag,
        sequence=_sequence_svg,
        year_timeline=_year_timeline,
    )
