"""What the plugin prints goes through the report's redaction: failure reprs (and so JUnit's
``message`` and text), run errors, the readiness lines, the header and the reprs of results."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness import History, Redactor

_KEPT = 8  # redactors kept, by the runs they were made for: the items of a run share one
_made: dict[tuple[str, ...], Redactor] = {}


def redactor_for(histories: Sequence[History] = ()) -> Redactor:
    """The redaction of a report of ``histories`` (none: the patterns and the environment's
    secrets, for what is printed before a run is known)."""
    from harness import Redactor

    key = tuple(h.info.run_id for h in histories)
    found = _made.get(key)
    if found is None:
        if len(_made) >= _KEPT:
            del _made[next(iter(_made))]
        found = _made[key] = (
            Redactor.for_runs(histories, os.environ)
            if histories
            else Redactor.for_environment(os.environ)
        )
    return found


def redacted(text: str, histories: Sequence[History] = ()) -> str:
    return redactor_for(histories).text(text)
