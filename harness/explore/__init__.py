"""Explore: property-based search for a failing delivery schedule, shrunk to a minimal one.

Each Hypothesis example (``harness.strategies.explorations``) is one short run of the scenario
with that explicit schedule against the target, reset in between; the scenario's invariants are
the property. A failure is shrunk by Hypothesis and written back as a replayable scenario file.
"""

from ._reset import check_reset, reset_target
from ._search import ExploreResult, ExploreSettings, Found, explore, replayable
from ._write import write_minimal

__all__ = [
    "ExploreResult",
    "ExploreSettings",
    "Found",
    "check_reset",
    "explore",
    "replayable",
    "reset_target",
    "write_minimal",
]
