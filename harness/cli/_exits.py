"""The one exit-code rule of every command (docs/cli.md):

0 every invariant holds · 1 an invariant failed (a run stopped because the target stopped
answering, ``unavailable``, included: target_available fails on it) · 2 bad input or usage · 3
the run could not be completed, or a journal holds a run that did not complete (aborted, or the
harness was killed),
or — when no invariant failed — a run whose genuine deliveries the target all refused: nothing
was put to the test, and the setup is the likely cause, not the automation · 70 an internal
error of the harness (its traceback goes to a crash file; EX_SOFTWARE). An invariant the project
left out (``leave_out:``) has no verdict, so it counts neither as held nor as failed or
inconclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..core._model import UNAVAILABLE, Status, Verdict

if TYPE_CHECKING:
    from ..history import History

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
EXIT_INTERNAL = 70  # sysexits.h EX_SOFTWARE: never 1, which means an invariant failed


def incomplete(histories: Iterable[History]) -> list[str]:
    """One line per run that did not complete: its verdicts may miss what was never recorded."""
    return [
        f"run {h.info.run_id} is incomplete ({_why(h.status)}); its verdicts judge only what "
        "was recorded before it stopped"
        for h in histories
        if h.status != "complete"
    ]


def untested(histories: Iterable[History]) -> list[str]:
    """One line per run the target accepted none of the genuine deliveries of."""
    from ..invariants._refused import refusals

    out = []
    for h in histories:
        found = refusals(h)
        if found is not None and found.nothing_accepted:
            out.append(
                f"run {h.info.run_id} put nothing to the test: {found.text()}; likely cause: "
                f"{found.short}"
            )
    return out


def notes(histories: Sequence[History]) -> list[str]:
    """Why a run's verdicts judge less than planned: it is incomplete, or nothing was accepted."""
    return [*incomplete(histories), *untested(histories)]


def judged_exit(runs: Sequence[tuple[History, Sequence[Verdict]]]) -> int:
    """3 when a run is incomplete; else 1 when an invariant failed (a failure found on a run
    the target accepted nothing of is real); else 3 when a run put nothing to the test (the
    target accepted none of its genuine deliveries); else 1 when a verdict is inconclusive;
    else 0."""
    histories = [h for h, _ in runs]
    if incomplete(h for h in histories if h.status != UNAVAILABLE):
        return EXIT_INCOMPLETE
    verdicts = [v for _, vs in runs for v in vs]
    if any(v.status is Status.FAIL for v in verdicts):
        return EXIT_FAILED
    if untested(histories):
        return EXIT_INCOMPLETE
    return EXIT_OK if all(v.passed for v in verdicts) else EXIT_FAILED


def _why(status: str) -> str:
    if status == "aborted":
        return "aborted: interrupted or terminated"
    if status == UNAVAILABLE:
        return "unavailable: the target stopped answering, and the run stopped sending"
    return f"{status}: the harness stopped before the run ended"
