"""A prepared run: the same for a seed and tag, and the collector as it was after it."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from harness.core._errors import InputError
from harness.core._scenario import DeliverySpec, Perturbation, Scenario, SyntheticSource
from harness.drive._fakes import POOL
from harness.engine._options import RunOptions
from harness.engine._prepare import prepare

EXAMPLE = {"id": "evt_1A2b3C4d5E", "key": "ord_9Z8y7X6w", "note": "first one", "email": "a@b.io"}


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


def test_the_collector_runs_again_after_prepare_even_when_it_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = RunOptions.create("http://127.0.0.1:9/h", seed=1, journal=tmp_path / "j.db")
    source = SyntheticSource(EXAMPLE, events=3, records=1, over=1.0)
    assert gc.isenabled()
    prepare(Scenario("fine", source, delivery=DeliverySpec(signing="none")), options)
    assert gc.isenabled()
    monkeypatch.delenv("HARNESS_SECRET", raising=False)
    with pytest.raises(InputError, match="HARNESS_SECRET"):
        prepare(Scenario("signed", source), options)  # signs, and no secret is set
    assert gc.isenabled()
