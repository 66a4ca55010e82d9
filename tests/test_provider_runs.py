"""Provider retries and tampered deliveries end to end, against real automation processes.

The sound demo passes every invariant of the four built-in scenarios; the fragile demo and
the broken verifiers of tests/broken_verifiers.py fail the ones their holes break, with
evidence naming deliveries, events and effects.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

import harness
from harness.core._model import Status, Verdict
from harness.core._providers import PROVIDERS
from harness.core._scenario import Perturbation
from harness.scenario._load import resolve

from .conftest import SECRET, late_by_the_machine, unmet
from .conftest import harness as harness_cli
from .fault_scenarios import automation, run_side_by_side_on
from .test_gallery import QUICK_QUIET

pytestmark = pytest.mark.integration

STORMS = [
    "provider-retry-storm",
    "provider-retry-storm-slack",
    "provider-retry-storm-stripe",
    "provider-retry-storm-shopify",
]
SECURITY = ["forged-signature", "replayed-delivery"]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)


def run(
    module: str, scenarios: list[str | harness.Scenario], tmp_path: Path, *args: str
) -> dict[str, dict[str, Verdict]]:
    """The scenarios shared out among four instances of the automation, into one journal.
    The sound demo acknowledges before its work, the others call before they answer (QUICK)."""
    sound = module.endswith("sound")
    results = run_side_by_side_on(
        module,
        scenarios,
        tmp_path / "j.db",
        *args,
        seed=11,
        state=tmp_path / "state" if sound else None,
        instances=4,
        settle_quiet=None if sound else QUICK_QUIET,
    )
    return {r.history.info.scenario: {v.invariant: v for v in r.verdicts} for r in results}


def failed(verdicts: dict[str, Verdict]) -> set[str]:
    return {name for name, v in verdicts.items() if v.status is Status.FAIL}


@pytest.mark.long
def test_sound_passes_every_provider_and_security_scenario(tmp_path: Path) -> None:
    found = run("harness.demo.sound", [*STORMS, *SECURITY], tmp_path)
    assert set(found) == {*STORMS, *SECURITY}
    bad = {s: unmet(list(vs.values())) for s, vs in found.items()}
    assert not any(bad.values()), bad
    # Judged again offline from the journal alone: the tampered ids are in the History.
    checked = harness_cli("check", str(tmp_path / "j.db"), "--report", str(tmp_path / "r.html"))
    held = all(v.passed for verdicts in found.values() for v in verdicts.values())
    assert checked.code == (0 if held else 1), checked.out + checked.err


@pytest.mark.long
def test_fragile_is_retried_into_duplicates_and_accepts_tampering(tmp_path: Path) -> None:
    found = run("harness.demo.fragile", [*STORMS, *SECURITY], tmp_path)
    for storm in STORMS:
        assert "no_duplicate_effects" in failed(found[storm])
        ack = found[storm]["ack_within"]
        assert ack.status is Status.FAIL or late_by_the_machine(ack.status.value, ack.summary)
    slack = found["provider-retry-storm-slack"]["no_duplicate_effects"]
    assert ".r1 200" in slack.evidence.lines[0] and ".r3 200" in slack.evidence.lines[0]
    assert "rejects_forged" in failed(found["forged-signature"])
    assert {"rejects_forged", "no_duplicate_effects"} <= failed(found["replayed-delivery"])
    forged = found["forged-signature"]["rejects_forged"]
    assert forged.evidence.delivery_ids and forged.evidence.effect_ids
    assert forged.evidence.event_ids
    assert {line.split()[0] for line in forged.evidence.lines} <= {"forged", "unsigned", "stale"}
    assert (
        "was answered 200 — expected a 4xx; it caused POST /payouts eff_"
        in (forged.evidence.lines[0])
    )
    # Events that only ever arrived tampered are not owed an effect.
    assert found["forged-signature"]["no_lost_events"].passed
    report = harness_cli("report", str(tmp_path / "j.db"), "--format", "md")
    assert report.code == 1
    for words in (
        "Delivered as slack does: ack timeout 500 ms, up to 3 retries",
        "20% of deliveries sent with a forged signature",
        "30% of deliveries replayed 1 s later as captured, signed 1 h before",
        "**Tampered deliveries accepted.**",
    ):
        assert words in report.out, words


@pytest.mark.long
def test_a_check_without_the_timestamp_accepts_stale_and_replayed(tmp_path: Path) -> None:
    found = run(
        "tests.broken_verifiers",
        [*SECURITY, "provider-retry-storm"],
        tmp_path,
        "--mode",
        "no-timestamp-check",
    )
    forged = found["forged-signature"]["rejects_forged"]
    assert forged.status is Status.FAIL
    # Forged and unsigned ones were refused: only the stale ones are witnesses.
    assert {line.split()[0] for line in forged.evidence.lines} == {"stale"}
    replayed = found["replayed-delivery"]["rejects_forged"]
    assert replayed.status is Status.FAIL and replayed.evidence.effect_ids
    assert replayed.evidence.lines[0].startswith("replayed delivery dlv_")
    assert "no_duplicate_effects" in failed(found["provider-retry-storm"])


def test_a_check_that_lets_unsigned_requests_through(tmp_path: Path) -> None:
    found = run(
        "tests.broken_verifiers", ["forged-signature"], tmp_path, "--mode", "accepts-unsigned"
    )
    verdict = found["forged-signature"]["rejects_forged"]
    assert verdict.status is Status.FAIL
    assert {line.split()[0] for line in verdict.evidence.lines} == {"unsigned"}


def github_replay() -> harness.Scenario:
    """Replays under a scheme without a timestamp: only dedup by id can refuse them."""
    base = resolve(["replayed-delivery"])[0]
    return dataclasses.replace(
        base,
        name="github-replay",
        delivery=dataclasses.replace(base.delivery, signing="github"),
        perturbations=(Perturbation("tamper", {"mode": "replayed", "rate": 0.3, "after": 1.0}),),
    )


def test_a_replay_without_a_timestamp_is_judged_by_its_effect(tmp_path: Path) -> None:
    sound = run("harness.demo.sound", [github_replay()], tmp_path / "sound")["github-replay"]
    # The sound automation answers the replay 200 (a duplicate it drops): no effect, a pass.
    assert sound["rejects_forged"].passed, sound["rejects_forged"].summary
    broken = run(
        "tests.broken_verifiers", [github_replay()], tmp_path / "b", "--mode", "no-timestamp-check"
    )["github-replay"]["rejects_forged"]
    assert broken.status is Status.FAIL
    assert "was answered 200; it caused POST /payouts eff_" in broken.evidence.lines[0]


def test_the_history_names_the_tampered_deliveries(tmp_path: Path) -> None:
    with automation("harness.demo.fragile") as (hook, port):
        (result,) = harness.run(
            "replayed-delivery",
            hook,
            seed=3,
            downstream=f"127.0.0.1:{port}",
            journal=tmp_path / "j.db",
            settle_quiet=QUICK_QUIET,
        )
    settings = result.history.info.settings
    tampered = settings["tampered"]
    assert tampered and set(tampered.values()) == {"replayed"}
    assert settings["signing"] == "standard-webhooks"
    ids = {d.id for d in result.history.deliveries}
    assert set(tampered) <= ids
    assert json.loads(result.history.info.to_json())["settings"]["tampered"] == tampered


def test_sound_takes_hubspot_batches_event_by_event_and_dedups_inside_a_batch(
    tmp_path: Path,
) -> None:
    """HubSpot sends arrays of up to 100 events; twins of duplicate-storm share a batch."""
    base = resolve(["duplicate-storm"])[0]
    hubspot = PROVIDERS["hubspot"].with_overrides(2, None)
    scenario = dataclasses.replace(
        base,
        name="hubspot-batches",
        delivery=dataclasses.replace(base.delivery, signing="hubspot", provider=hubspot),
    )
    state = tmp_path / "state"
    with automation("harness.demo.sound", state=state) as (hook, port):
        (result,) = harness.run(
            [scenario], hook, seed=11, downstream=f"127.0.0.1:{port}", journal=tmp_path / "j.db"
        )
    assert unmet(result.verdicts) == []
    deliveries = result.history.deliveries
    assert len(deliveries) > len(result.history.events)  # the storm's twins were delivered
    requests = {(d.sent_at, d.status) for d in deliveries}
    assert len(requests) * 10 < len(deliveries)  # a few requests, each a batch of many
    payouts = [e for e in result.history.effects if e.committed and e.path == "/payouts"]
    assert sorted(e.event_ids for e in payouts) == sorted((ev.id,) for ev in result.history.events)
