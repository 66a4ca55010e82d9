"""A project's ``leave_out:``: invariants that cannot apply to its automation, each with the
reason the project gives. A left-out invariant is not judged in any built-in hazard: it is
neither a pass nor a failure, and every report says it was left out, and why
(docs/project.md#leave-out).

``target_available`` cannot be left out: it is judged in every run, a precondition of every
other verdict. A hazard all of whose invariants are left out is skipped, with why: it would
judge nothing of its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from pydantic import BeforeValidator

from ..core._scenario import InvariantSpec, Scenario, Skipped
from ..invariants import ALWAYS_INVARIANTS, DEFAULT_INVARIANTS, INVARIANTS, run_invariants
from ..invariants.accepts_genuine import NAME as ACCEPTS_GENUINE
from ._errors import hint, invalid

ANCHOR = "docs/project.md#leave-out"
NAMES = tuple(n for n in INVARIANTS if n not in ALWAYS_INVARIANTS)  # those it can leave out
LEAVE_OUT_TEXT = (
    "a mapping of invariant names to the reason each cannot apply to this automation, like "
    "{per_key_order: 'each invoice event is about its own invoice'}; names: " + ", ".join(NAMES)
)


def _name(value: object) -> str:
    if value in ALWAYS_INVARIANTS:
        raise invalid(
            f"is judged in every run, a precondition of every other verdict, and cannot be "
            f"left out; name one of: {', '.join(NAMES)}"
        )
    if not isinstance(value, str) or value not in INVARIANTS:
        raise invalid(f"must name an invariant, one of: {', '.join(NAMES)}{hint(value, NAMES)}")
    return value


def _reason(value: object) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        raise invalid(
            "must be the reason, in words, that the invariant cannot apply to this automation, "
            "like 'each invoice event is about its own invoice': the reports show it"
        )
    return text


LeftOutName = Annotated[str, BeforeValidator(_name)]
Reason = Annotated[str, BeforeValidator(_reason)]


def leave_out(scenario: Scenario, left_out: tuple[tuple[str, str], ...]) -> Scenario | Skipped:
    """``scenario`` judging its invariants but those ``left_out`` names (name, reason each),
    those it would have judged kept in its ``left_out``; Skipped when none is left."""
    named = run_invariants(scenario) or tuple(InvariantSpec(n) for n in DEFAULT_INVARIANTS)
    reasons = dict(left_out)
    kept = tuple(i for i in named if i.name not in reasons)
    gone = tuple((i.name, reasons[i.name]) for i in named if i.name in reasons)
    if not gone:
        return scenario
    # accepts_genuine judges every signed run; a hazard is its own only where its sender signs
    # oddly (a rotated secret, a skewed clock): elsewhere it keeps no hazard that judges nothing
    # else.
    extra = () if scenario.delivery.signs_oddly else (ACCEPTS_GENUINE,)
    if all(i.name in extra for i in kept):
        said = "; ".join(f"{name} ({reason})" for name, reason in gone)
        return Skipped(
            scenario.name,
            f"every invariant it judges is left out by the project: {said}",
            scenario.origin,
        )
    return replace(scenario, invariants=kept, left_out=gone)
