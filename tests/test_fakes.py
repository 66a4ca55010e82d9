"""Free text of synthetic events: faker's own values first, then a seeded pool of them."""

from __future__ import annotations

import random

from faker import Faker

from harness.core._scenario import SyntheticSource
from harness.drive._fakes import LOCALES, POOL, FakeText
from harness.drive._sources import synthetic

EXAMPLE = {
    "id": "evt_1A2b3C4d5E",
    "key": "ord_9Z8y7X6w",
    "type": "order.created",
    "data": {"customer": {"email": "ann@example.com", "name": "Ann Lee"}, "note": "first one"},
}


def test_the_first_values_of_each_field_are_fakers_own_in_order() -> None:
    made = FakeText(5)
    faker = Faker(LOCALES, use_weighting=False)
    faker.seed_instance(5)
    for _ in range(POOL):
        assert made("email") == faker.email()
        assert made("customer name") == faker.name()


def test_past_the_pool_values_repeat_from_it_the_same_for_a_seed() -> None:
    first, again, other = FakeText(5), FakeText(5), FakeText(6)
    a = [first("email") for _ in range(POOL + 500)]
    assert a == [again("email") for _ in range(POOL + 500)]
    assert a != [other("email") for _ in range(POOL + 500)]
    assert set(a[POOL:]) <= set(a[:POOL])
    assert len(set(a[POOL:])) > 100  # picked across the pool, not one value again and again


def test_synthetic_events_past_the_pool_are_seeded_and_varied() -> None:
    spec = SyntheticSource(EXAMPLE, events=POOL + 300, records=50, over=10.0)
    made = synthetic(spec, 3)
    assert [e.payload for e in made] == [e.payload for e in synthetic(spec, 3)]
    emails = [e.payload["data"]["customer"]["email"] for e in made]
    assert len(set(emails)) > POOL // 2
    assert len({e.id for e in made}) == len(made)  # ids are drawn per event, never pooled


def test_names_have_the_letters_and_apostrophes_real_customers_have() -> None:
    """About one name in thirteen beyond ASCII, some with an apostrophe, the same for a seed:
    a receiver that handles ASCII alone meets them in a run as in production."""
    made = FakeText(7)
    names = [made("name") for _ in range(POOL)]
    beyond = sum(not n.isascii() for n in names)
    assert POOL // 25 < beyond < POOL // 6, beyond
    assert any("'" in n for n in names)
    again = FakeText(7)
    assert [again("name") for _ in range(POOL)] == names


def test_a_batch_of_values_is_what_calls_one_at_a_time_gave() -> None:
    """``many`` (a synthetic batch's free text): faker's values until the pool is full, then
    the picks ``randrange(POOL)`` of the seeded generator gave one call at a time — batches
    across the pool's end, after it, and calls between them."""
    fake = FakeText(4)
    got = [*fake.many("email", 1000), fake("email"), *fake.many("email", 2999)]
    pool = got[:POOL]
    assert len(set(pool)) > POOL // 2  # faker's own, not picks
    pick = random.Random(4)
    assert got[POOL:] == [pool[pick.randrange(POOL)] for _ in range(4000 - POOL)]
