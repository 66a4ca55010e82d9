"""The names of the invariants that need a clean run: ``_expected`` (which the engine and the
scenario loader ask) and the invariant itself share them without importing one another."""

from __future__ import annotations

FINAL_STATE = "final_state_matches_baseline"

NEED_BASELINE = frozenset({FINAL_STATE})
"""Invariants that compare the run with a clean one, so need it made first."""
