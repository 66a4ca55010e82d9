"""Fault windows that acted on no call: what a pass of ``no_duplicate_effects`` did not see.

A fault window the automation never called into tested nothing of it. ``recovers_after_outage``
and ``backs_off`` say so of theirs; a pass of ``no_duplicate_effects`` over such a run must too.
Where the window is a ``commit-then-fail`` (the API applies the write, then fails its answer:
the ambiguous commit), the window exists to test exactly what ``no_duplicate_effects`` judges —
whether the automation, told its applied write failed, makes it again — and a pass over it
proves nothing of that: inconclusive (tests/gallery/cursor_sync.py, ``CURSOR=id``, under
ambiguous-commit: the window closed at 0.75 s, before the sync's first call at 0.77 s, and it
passed "no event produced a repeated effect").
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core._model import Fault
from ..core._scenario import FAULT_MODES
from ._facts import Facts, timestamp
from ._fault_calls import FaultCalls

AMBIGUOUS = "commit-then-fail"


def unmet_windows(facts: Facts) -> list[Fault]:
    """The run's downstream fault windows (in time order) that answered no call; none where
    any window answered one (the run met a fault: the pass saw it)."""
    windows = sorted(
        (f for f in facts.history.faults if f.mode in FAULT_MODES), key=lambda f: f.start
    )
    if not windows:
        return []
    answering = FaultCalls(facts.history)
    if any(answering.answering(e) for e in facts.effects_in_order):
        return []
    return windows


def unmet_text(unmet: Sequence[Fault]) -> str:
    """``the commit-then-fail fault (api, 0.00 s-0.75 s) acted on no call``."""
    said = ", ".join(
        f"{w.mode} fault ({w.downstream}, {timestamp(w.start)}-{timestamp(w.end)})"
        for w in unmet[:3]
    )
    more = f" and {len(unmet) - 3:,} more" if len(unmet) > 3 else ""
    return f"the {said}{more} acted on no call"


def ambiguous_unmet(unmet: Sequence[Fault]) -> bool:
    """Whether the unmet windows include an ambiguous commit's: the pass proves nothing."""
    return any(w.mode == AMBIGUOUS for w in unmet)
