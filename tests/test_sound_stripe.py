"""The bundled sound automation under the first five minutes of a Stripe user (``harness init
--provider stripe --events stripe:… --target …`` + ``harness run``, docs/five-minutes.md): real
processes on loopback, the verdicts read from the JSON report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import SECRET, Automation, harness
from .test_gallery import init_project, said, verdicts

pytestmark = pytest.mark.integration


def init_and_run(
    sound: Automation, library: str, hazard: str, tmp_path: Path
) -> dict[str, dict[str, Any]]:
    """The project init writes for ``library`` against the sound automation, then ``harness run
    hazard``: the verdicts by invariant."""
    hook, api = sound.service.url + "/hooks/stripe", f"api={sound.downstream_port}"
    init_project("stripe", library, hook, api, tmp_path, "--secret-env", "HARNESS_SECRET")
    env = {"HARNESS_SECRET": SECRET}
    ran = harness("run", hazard, "--seed", "7", "--report", "report.json", cwd=tmp_path, env=env)
    assert (tmp_path / "report.json").is_file(), ran.out + ran.err
    return verdicts(json.loads((tmp_path / "report.json").read_text()))


@pytest.mark.parametrize("hazard", ["out-of-order", "simultaneous-same-record"])
def test_a_subscription_updated_twice_in_one_second_ends_on_its_later_update(
    sound: Automation, hazard: str, tmp_path: Path
) -> None:
    """Stripe's ``created`` is whole seconds: the library's subscription updates, six a
    subscription over 3 s, come two or three to a second. The sound automation skipped an update
    no newer than the one it had applied (``created <=``), so one arriving after another of the
    same second was dropped — in the clean run, sent one at a time, as here — and
    ``no_lost_events`` failed it, true to what it did: "7 of 10 records never got an effect of
    their latest accepted event" under out-of-order, 6 of 12 under simultaneous-same-record. It
    now skips only an older one; a tie is the later arrival's."""
    judged = init_and_run(sound, "stripe:customer.subscription.updated", hazard, tmp_path)
    for name in ("no_lost_events", "per_key_order", "final_state_matches_baseline"):
        assert judged[name]["status"] == "pass", said(judged[name])


@pytest.mark.parametrize(
    ("library", "hazard"),
    [
        ("stripe:customer.subscription.updated", "renamed-field"),
        ("stripe:payment_intent.succeeded", "missing-field"),
    ],
)
def test_a_stripe_object_missing_a_field_it_writes_is_refused_not_written_as_null(
    sound: Automation, library: str, hazard: str, tmp_path: Path
) -> None:
    """The hazards rename a subscription's ``customer`` and null a payment's ``amount``. The
    sound automation read a Stripe object's fields with ``.get()`` and wrote null in their
    place, with a 202: ``drift_is_loud`` failed it, true to what it did ("20 drifted events of
    20 … corrupted or dropped silently"; "8 … of 14"). Stripe writes every field of an object
    (null where it has none) and never a null amount: it now answers 400 naming the field."""
    judged = init_and_run(sound, library, hazard, tmp_path)
    drift = judged["drift_is_loud"]
    assert drift["status"] == "pass", said(drift)
    assert "rejected loudly" in drift["summary"], said(drift)
