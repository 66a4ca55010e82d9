"""The report's headline: a scenario-by-invariant matrix, one cell per verdict, linked to it.

Rows are runs (scenarios, with their target when a report covers several), columns every
invariant judged in the report, in the registry's order (the same columns in every report,
``target_available`` last), any unknown to it after them. A cell's mark follows its verdict's
outcome (``MARKS``: an outcome added to the verdicts adds a mark here, and only here); a run
that did not judge an invariant shows ``NOT_JUDGED``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from ..invariants import INVARIANTS
from . import _describe
from ._views import Cell, Matrix, MatrixRow, ScenarioView

NOT_JUDGED = "\u2013"  # an en dash: nothing to see here
MARKS: Mapping[str, str] = MappingProxyType(
    {"pass": "✓", "fail": "✗", "inconclusive": "?", "skipped": NOT_JUDGED}
)
# What a cell says to a reader hovering it, or to a screen reader.
WORDS: Mapping[str, str] = MappingProxyType(
    {"pass": "held", "fail": "failed", "inconclusive": "not judged", "skipped": "skipped"}
)


def matrix(scenarios: Sequence[ScenarioView]) -> Matrix:
    judged = dict.fromkeys(v.invariant for s in scenarios for v in s.verdicts)
    order = {name: i for i, name in enumerate(INVARIANTS)}
    columns = tuple(sorted(judged, key=lambda n: order.get(n, len(order))))
    several = len({s.target_name for s in scenarios}) > 1
    rows = []
    for s in scenarios:
        label = f"{s.target_name} · {s.scenario}" if several else s.scenario
        mine = {v.invariant: v for v in s.verdicts}
        cells = []
        for name in columns:
            v = mine.get(name)
            if v is None:
                cells.append(Cell("", NOT_JUDGED, "", f"{label} · {name}: not judged in this run"))
            else:
                word = WORDS.get(v.status, v.status)
                mark = MARKS.get(v.status, NOT_JUDGED)
                cells.append(Cell(v.status, mark, f"#{v.anchor}", f"{label} · {name}: {word}"))
        rows.append(MatrixRow(label, f"#{s.anchor}", s.passed, tuple(cells), _note(s)))
    return Matrix(columns, tuple(_describe.title(c) for c in columns), tuple(rows))


def _note(s: ScenarioView) -> str:
    found = s.counts.answers.refusals
    if found is None:
        return ""
    return (
        f"accepted {found.accepted:,} of {found.genuine:,} {found.deliveries} (most {found.answer})"
    )
