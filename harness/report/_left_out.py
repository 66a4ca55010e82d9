"""The invariants a project left out (``leave_out:`` in harness.yaml), once per report: each
with the project's reason and the runs that would have judged it. Once, not under each run: it
is one decision of the project, the same in every hazard, and repeated under eighteen runs it
would drown what was judged. Read from each run's settings, so a stored journal re-judged
(``harness check``, ``harness report``) says it as the run did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..core._model import LEFT_OUT
from ..history import History
from ._describe import join_words
from ._views import LeftOutView


def left_out(histories: Iterable[History]) -> tuple[LeftOutView, ...]:
    """Each invariant left out of any of the runs, with its reason and those runs' scenarios,
    in first-seen order (an invariant given two reasons, by two projects, is listed twice)."""
    found: dict[tuple[str, str], list[str]] = {}
    for h in histories:
        for name, reason in dict(h.info.settings.get(LEFT_OUT) or {}).items():
            runs = found.setdefault((str(name), str(reason)), [])
            if h.info.scenario not in runs:
                runs.append(h.info.scenario)
    return tuple(LeftOutView(n, r, tuple(s)) for (n, r), s in found.items())


def count_text(views: Sequence[LeftOutView]) -> str:
    """``1 invariant left out by the project (per_key_order)``, or nothing."""
    names = list(dict.fromkeys(v.invariant for v in views))
    if not names:
        return ""
    word = "invariant" if len(names) == 1 else "invariants"
    return f"{len(names)} {word} left out by the project ({join_words(names)})"


def line(view: LeftOutView) -> str:
    """``per_key_order left out by the project: REASON; not judged in duplicate-storm, …``."""
    return (
        f"{view.invariant} left out by the project: {view.reason}; not judged in "
        f"{join_words(list(view.scenarios))}"
    )
