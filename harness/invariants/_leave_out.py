"""The clause an inconclusive verdict ends with when the invariant may not apply to the
automation at all (each invoice event about its own invoice: no order to keep): the project
can leave it out, with its reason (``leave_out:`` in harness.yaml), instead of every run
saying so again."""

from __future__ import annotations


def leave_out_advice(name: str, what: str) -> str:
    """``; if order cannot apply to this automation, leave per_key_order out …``."""
    return (
        f"; if {what} cannot apply to this automation, leave {name} out in harness.yaml with "
        "the reason (docs/project.md#leave-out)"
    )
