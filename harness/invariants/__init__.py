"""Invariants: pure functions History -> Verdict, by name, and ``judge`` to run them.

One module per invariant; ``_facts`` holds the indexes they share (built once per judge)
and the phrasing of their evidence; ``_registry`` the names, parameters and validation.
"""

from ._facts import Facts
from ._registry import (
    ALWAYS_INVARIANTS,
    DEFAULT_INVARIANTS,
    INVARIANTS,
    InvariantDef,
    InvariantFn,
    Param,
    check_specs,
    judge,
    judged_specs,
    run_invariants,
)

__all__ = [
    "ALWAYS_INVARIANTS",
    "DEFAULT_INVARIANTS",
    "INVARIANTS",
    "Facts",
    "InvariantDef",
    "InvariantFn",
    "Param",
    "check_specs",
    "judge",
    "judged_specs",
    "run_invariants",
]
