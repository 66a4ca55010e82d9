"""Free text of synthetic events: faker's own values first, then a seeded pool of them; a
prepared run the same for a seed."""

from __future__ import annotations

from pathlib import Path

from faker import Faker

from harness.core._scenario import DeliverySpec, Perturbation, Scenario, SyntheticSource
from harness.drive._fakes import POOL, FakeText
from harness.drive._sources import synthetic
from harness.engine._options import RunOptions
from harness.engine._prepare import prepare

EXAMPLE = {
    "id": "evt_1A2b3C4d5E",
    "key": "ord_9Z8y7X6w",
    "type": "order.created",
    "data": {"customer": {"email": "ann@example.com", "name": "Ann Lee"}, "note": "first one"},
}


def test_the_first_values_of_each_field_are_fakers_own_in_order() -> None:
    made = FakeText(5)
    faker = Faker()
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


def test_prepare_gives_the_same_run_for_a_seed_and_tag(tmp_path: Path) -> None:
    """What a Locust worker relies on: the same events, schedule and bodies in every process,
    past the pool of free text too."""
    source = SyntheticSource(EXAMPLE, events=POOL + 200, records=300, over=10.0)
    scenario = Scenario(
        "seeded",
        source,
        perturbations=(Perturbation("duplicate", {"rate": 0.2}),),
        delivery=DeliverySpec(signing="none"),
    )

    def prepared(seed: int) -> tuple[object, ...]:
        options = RunOptions.create("http://127.0.0.1:9/h", seed=seed, journal=tmp_path / "j.db")
        run = prepare(scenario, options, tag="zqseeds")
        return run.events, run.schedule, run.bodies, run.attempts

    first = prepared(4)
    assert first == prepared(4)
    assert first[2] != prepared(5)[2]
