"""Hypothesis strategies over delivery schedules: which events are delivered, how many copies,
at which offsets and how concurrently, in what order, which fault windows are open at which
delivery, and signed or tampered how.

    from hypothesis import given
    from harness.strategies import explorations

    @given(explorations(scenario))
    def test_...(exploration): ...

Every strategy shrinks toward the simplest schedule: fewer deliveries, the source's first
events, one after the other (not concurrent), genuine signatures, no fault window. A shrunk
failure therefore names only what it needs: "two concurrent copies of one event" survives
shrinking only if one after the other passes.
"""

from ._schedules import (
    Exploration,
    deliveries,
    explorations,
    fault_windows,
)

__all__ = ["Exploration", "deliveries", "explorations", "fault_windows"]
