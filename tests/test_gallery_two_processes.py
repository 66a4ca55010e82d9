"""A receiver deduplicating in memory, served by two worker processes
(tests/gallery/two_process_dedup.py), driven the way a new user drives theirs: ``harness init``
for Stripe checkouts, then ``harness run duplicate-storm``, each verdict read against the run's
journal: a duplicate is a checkout with more than one committed ``POST /orders``.

Each process keeps its own ``seen`` set: a copy that lands on the process that took the first is
skipped, one that lands on the other is ordered again — some copies, not all. One process (how
it was tested) holds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_gallery import said
from .test_gallery_round10 import checkouts, written_twice

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("workers", ["2", "1"])
def test_copies_landing_on_the_other_process_are_ordered_twice(
    tmp_path: Path, workers: str
) -> None:
    """duplicate-storm: 60 checkouts, copies at once and a second apart. Two processes: the
    checkouts ordered twice are named, and only those; one process: every verdict holds."""
    found, run = checkouts(tmp_path, "two_process_dedup", "duplicate-storm", WORKERS=workers)
    twice = written_twice(run)
    dup = found["no_duplicate_effects"]
    for name in ("no_lost_events", "per_key_order", "ack_within"):
        assert found[name]["status"] == "pass", said(found[name])
    if workers == "1":
        assert not twice
    if not twice:  # one process, or every copy met the process that took its first
        assert dup["status"] == "pass", said(dup)
        return
    assert dup["status"] == "fail", said(dup)
    assert dup["summary"].startswith(
        f"{len(twice)} of 60 events produced duplicate effects: {len(twice)} repeated requests"
    ), said(dup)
    assert set(dup["evidence"]["events"]) <= twice
    assert "and produced 2 effects: POST /orders eff_" in said(dup)
