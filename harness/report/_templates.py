"""The Jinja2 environments over ``reports/`` (shipped in the wheel as harness/_data/reports)."""

from __future__ import annotations

import functools
import math

import jinja2

from ..core._data_paths import data_dir
from ..core._errors import HarnessError
from . import _describe


def seconds(value: float | None) -> str:
    """A duration for a reader: ``1.8 ms``, ``2.3 s``, ``n/a`` when nothing was measured."""
    return "n/a" if value is None or not math.isfinite(value) else _describe.duration(value)


def sentence(text: str) -> str:
    """The first letter upper-cased, the rest kept (Jinja's ``capitalize`` lowers it)."""
    return text[:1].upper() + text[1:]


def share(rate: float | None) -> str:
    """A rate as a percentage (``2%``, ``0.4%``), ``n/a`` when there was nothing to divide."""
    return "n/a" if rate is None else _describe.percent(rate)


def megabytes(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MB"


def at(value: float) -> str:
    """A point on the run's timeline, as the invariants write it: ``0.21 s``."""
    return f"{value:.2f} s"


@functools.cache
def environment(html: bool) -> jinja2.Environment:
    """The environment for HTML (autoescaped) or text (Markdown) templates."""
    root = data_dir("reports")
    if not (root / "report.html.j2").is_file():
        raise HarnessError(
            f"the report templates are missing from {root}; reinstall automation-harness"
        )
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        seconds=seconds,
        at=at,
        sentence=sentence,
        clock=_describe.clock,
        title=_describe.title,
        join_words=_describe.join_words,
        share=share,
        megabytes=megabytes,
    )
    return env
