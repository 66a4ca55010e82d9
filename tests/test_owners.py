"""Which record each synthetic event is about (``drive/_owners``): every record its share of
the events, in a seeded order, computed event by event."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from harness.drive._owners import Owners


@pytest.mark.parametrize(("events", "records"), [(1, 1), (5, 2), (17, 4), (3, 10), (4097, 819)])
def test_each_record_gets_its_share_of_the_events(events: int, records: int) -> None:
    owners = Owners(events, records, random.Random(7))
    got = Counter(owners(i) for i in range(events))
    assert all(got[r] == owners.count(r) for r in range(records))
    assert sum(owners.count(r) for r in range(records)) == events
    assert {owners.count(r) for r in range(records)} <= {events // records, events // records + 1}


def test_the_order_follows_the_seed() -> None:
    def order(seed: int) -> list[int]:
        owners = Owners(1000, 200, random.Random(seed))
        return [owners(i) for i in range(1000)]

    assert order(1) == order(1) != order(2)
    assert order(1) != [i % 200 for i in range(1000)]  # shuffled, not dealt in turn


@pytest.mark.parametrize(("events", "records"), [(1, 1), (5, 2), (300, 7), (4097, 819), (70000, 9)])
def test_a_batch_of_owners_is_the_events_owners(events: int, records: int) -> None:
    """``many`` (numpy's words) walks the network as ``owners(i)`` does, event by event: the
    same record for every event, batches of any size and start (the walk out of the range,
    whose power of four is up to four times the count, included)."""
    owners = Owners(events, records, random.Random(events))
    one_by_one = [owners(i) for i in range(events)]
    for size in (1, 256, 1000):
        batched = [r for s in range(0, events, size) for r in owners.many(s, min(events, s + size))]
        assert batched == one_by_one
