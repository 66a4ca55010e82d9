"""Explore: property-based search for a failing delivery schedule, shrunk to a minimal one.

Each Hypothesis example (``harness.strategies.explorations``) is one short run of the scenario
with that explicit schedule against the target, reset in between; the scenario's invariants are
the property. A failure is shrunk by Hypothesis and written back as a replayable scenario file.
"""

from ._reset import check_reset, reset_target
from ._search import (
    ExploreResult,
    ExploreSettings,
    Found,
    explore_schedules,
    failure_lines,
    replayable,
    run_schedule,
)
from ._write import write_minimal

__all__ = [
    "ExploreResult",
    "ExploreSettings",
    "Found",
    "check_reset",
    "explore_schedules",
    "failure_lines",
    "replayable",
    "reset_target",
    "run_schedule",
    "write_minimal",
]
