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

from harness.core._model import Outcome
from harness.history import History
from harness.invariants._facts import is_write

from .test_gallery import said
from .test_gallery_round10 import checkouts, written_twice

pytestmark = pytest.mark.integration


def late_and_skipped(run: History, twice: set[str]) -> tuple[set[str], set[str]]:
    """Of ``twice``, the events written again after a copy sent 0.5 s or more after their
    first write (a late copy, the first long done); and the events accepted more than once and
    written once (a copy skipped)."""
    accepted: dict[str, list[float]] = {}
    for d in run.deliveries:
        if d.outcome is Outcome.OK:
            accepted.setdefault(d.event_id, []).append(d.sent_at)
    writes: dict[str, list[float]] = {}
    for eff in sorted(run.effects, key=lambda e: e.at):
        if eff.committed and is_write(eff):
            for eid in eff.event_ids:
                writes.setdefault(eid, []).append(eff.at)
    late = set()
    for eid in twice:
        first, *again = writes[eid]
        copies = [t for t in accepted[eid] if t >= first + 0.5]
        if copies and any(t > min(copies) for t in again):
            late.add(eid)
    skipped = {e for e, sent in accepted.items() if len(sent) > 1 and len(writes.get(e, ())) == 1}
    return late, skipped


@pytest.mark.parametrize("workers", ["2", "1"])
def test_copies_landing_on_the_other_process_are_ordered_twice(
    tmp_path: Path, workers: str
) -> None:
    """duplicate-storm: 60 checkouts, copies at once and a second apart. Two processes: the
    checkouts ordered twice are named, and only those, and — where a copy sent long after its
    checkout was ordered was ordered again while other copies were skipped — the summary says
    the target deduplicates in a store not every copy reaches (it read as a target that does
    not deduplicate: fails before); one process: every verdict holds."""
    found, run = checkouts(tmp_path, "two_process_dedup", "duplicate-storm", WORKERS=workers)
    twice = written_twice(run)
    dup = found["no_duplicate_effects"]
    # Not ack_within: the acks are the machine's as much as the receiver's (conftest's ON_TIME).
    for name in ("no_lost_events", "per_key_order"):
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
    late, skipped = late_and_skipped(run, twice)
    if late and skipped:  # it deduplicates, yet wrote a copy that came long after the first
        assert (
            f"of them written again by a copy sent after the target had written the event and "
            f"acknowledged it, while it wrote {len(skipped)} other event"
        ) in dup["summary"], said(dup)
        assert "one durable store that every worker and replica shares" in dup["summary"]
