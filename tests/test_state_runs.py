"""Final state against a baseline run, end to end: real automations, a stateful double.

* a read-modify-write CRM sync without a lock per contact loses simultaneous updates: its
  contacts end in another state than in the baseline run (tests/broken_automations.py), and
  the same sync with a lock per contact ends right;
* the fragile demo creates every order twice when an import runs twice;
* the sound demo passes import-run-twice, out-of-order and simultaneous-same-record whole;
* ``harness check`` judges the same offline, the baseline read from the journal;
* under commit-then-fail, retries without an Idempotency-Key create payouts twice, and the
  sound demo's retries with its key are replayed by the store and change nothing.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import harness
from harness.core._model import Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.engine import RunResult
from harness.history import load, load_all, run_ids
from harness.scenario._load import resolve

from .conftest import SECRET
from .conftest import harness as harness_cli
from .fault_scenarios import automation, fault_scenario, run_side_by_side_on

pytestmark = pytest.mark.integration

BROKEN = "tests.broken_automations"
FINAL = "final_state_matches_baseline"


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)


def run(names: list[str], hook: str, port: int, journal: Path) -> list[RunResult]:
    return harness.run(
        resolve(names), hook, seed=11, downstream=f"127.0.0.1:{port}", journal=journal
    )


def verdicts(result: RunResult) -> dict[str, Verdict]:
    return {v.invariant: v for v in result.verdicts}


def test_an_unlocked_read_modify_write_sync_loses_simultaneous_updates(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    with automation(BROKEN, "--mode", "read-modify-write") as (hook, port):
        (result,) = run(["simultaneous-same-record"], hook, port, journal)
    final = verdicts(result)[FINAL]
    assert final.status is Status.FAIL, final.summary
    assert "end in another state than in the baseline run simultaneous-same-record-baseline@" in (
        final.summary
    )
    assert final.summary.count("differ") == 1
    line = final.evidence.lines[0]
    # The record, the field with both values, and the writes (and their events) behind it.
    assert line.startswith("record con_") and "api /contacts: names: [" in line
    assert "(baseline [" in line and "written by PUT /contacts/con_" in line
    assert final.evidence.effect_ids and final.evidence.event_ids
    effects = {e.id: e for e in result.history.effects}
    assert all(effects[i].method == "PUT" for i in final.evidence.effect_ids)
    # The baseline is a run of its own in the journal; its tokens are not this run's.
    baseline = result.history.baseline
    assert baseline is not None
    assert baseline.info.tracer_tag != result.history.info.tracer_tag
    assert [d.attempt for d in baseline.deliveries] == [1] * len(baseline.events)
    assert len(run_ids(journal)) == 2
    # Offline: the same verdict from the journal alone.
    checked = harness_cli("check", str(journal))
    assert checked.code == 1, checked.out + checked.err
    assert FINAL in checked.out


def test_the_same_sync_with_a_lock_per_contact_ends_like_the_baseline(tmp_path: Path) -> None:
    with automation(BROKEN, "--mode", "read-modify-write-locked") as (hook, port):
        (result,) = run(["simultaneous-same-record"], hook, port, tmp_path / "j.db")
    final = verdicts(result)[FINAL]
    assert final.passed, final.summary
    assert "no record ends in another state than in the baseline run" in final.summary
    assert final.summary.endswith("12 records compared")


def test_the_fragile_demo_creates_every_order_twice_when_an_import_runs_twice(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "j.db"
    with automation("harness.demo.fragile") as (hook, port):
        (result,) = run(["import-run-twice"], hook, port, journal)
    found = verdicts(result)
    assert found["no_duplicate_effects"].status is Status.FAIL
    final = found[FINAL]
    assert final.status is Status.FAIL
    assert final.summary.startswith("40 of 40 records end in another state")
    line = final.evidence.lines[0]
    assert "api /payouts: 2 records (all alike) where the baseline has 1" in line
    assert "written by POST /payouts" in line
    # Both copies of the order, with the two events' deliveries' effects.
    assert len(final.evidence.effect_ids) == 2 * len(final.evidence.lines)
    stored = load(journal, result.history.info.run_id)
    assert len([r for r in stored.states if r.source == "api"]) == 80
    assert stored.baseline is not None and len(stored.baseline.states) == 40


def test_the_sound_demo_passes_every_final_state_scenario(tmp_path: Path) -> None:
    names = ["import-run-twice", "out-of-order", "simultaneous-same-record"]
    journal = tmp_path / "j.db"
    results = run_side_by_side_on(
        "harness.demo.sound", names, journal, seed=11, state=tmp_path / "state", instances=3
    )
    for name, result in zip(names, results, strict=True):
        failed = [v for v in result.verdicts if not v.passed]
        assert not failed, (name, [(v.invariant, v.summary) for v in failed])
        assert FINAL in verdicts(result)
    checked = harness_cli("check", str(journal))
    assert checked.code == 0, checked.out + checked.err
    # The baselines are judged inside the runs that name them, not as runs of their own (the
    # three instances' journals merged into one hold the runs in the order they started).
    assert sorted(h.info.scenario for h in load_all(journal)) == sorted(names)
    assert "-baseline (" not in checked.out  # no run header of its own
    assert len(run_ids(journal)) == 2 * len(names)


def _ambiguous_on_a_stateful_double() -> harness.Scenario:
    """Every payout taken and then answered 502 for 20 s, on a double that keeps them."""
    base = fault_scenario("commit-then-fail", quiet=40, status=502)
    return replace(
        base,
        downstreams=(harness.DownstreamSpec("api", stateful=True),),
        invariants=(*base.invariants, InvariantSpec(FINAL)),
    )


def test_commit_then_fail_on_a_stateful_double_separates_retries_with_and_without_key(
    tmp_path: Path,
) -> None:
    scenario = _ambiguous_on_a_stateful_double()
    with automation(BROKEN, "--mode", "retry-without-key") as (hook, port):
        (careless,) = harness.run(
            scenario, hook, seed=2, downstream=f"127.0.0.1:{port}", journal=tmp_path / "a.db"
        )
    final = verdicts(careless)[FINAL]
    assert final.status is Status.FAIL, final.summary
    assert "api /payouts: " in final.evidence.lines[0]
    assert "records where the baseline has 2" in final.evidence.lines[0]  # 2 orders each
    with automation("harness.demo.sound", state=tmp_path / "state") as (hook, port):
        (careful,) = harness.run(
            scenario, hook, seed=2, downstream=f"127.0.0.1:{port}", journal=tmp_path / "b.db"
        )
    assert verdicts(careful)[FINAL].passed, verdicts(careful)[FINAL].summary
    # Its retries carried the event's key: the store replayed the first answer each time.
    replays = [e for e in careful.history.effects if e.method == "POST" and not e.committed]
    assert replays and all(e.header("Idempotency-Key") for e in replays)
    assert len([r for r in careful.history.states if r.source == "api"]) == 12


def test_the_baseline_delivers_each_event_once_even_under_a_retrying_provider(
    tmp_path: Path,
) -> None:
    # The fragile demo acks after a 1 s downstream call, past the provider's 500 ms ack
    # timeout: the perturbed run is retried, the baseline must not be (each event once).
    (storm,) = resolve(["provider-retry-storm"])
    assert isinstance(storm.source, harness.SyntheticSource)
    scenario = replace(
        storm,
        source=replace(storm.source, events=3, records=3),
        invariants=(*storm.invariants, InvariantSpec(FINAL)),
    )
    journal = tmp_path / "j.db"
    with automation("harness.demo.fragile") as (hook, port):
        (result,) = harness.run(
            [scenario], hook, seed=11, downstream=f"127.0.0.1:{port}", journal=journal
        )
    retried = [d for d in result.history.deliveries if ".r" in d.id]
    assert retried, "the perturbed run should be retried by the provider"
    baseline = load(journal, result.history.info.run_id).baseline
    assert baseline is not None
    assert sorted(d.event_id for d in baseline.deliveries) == sorted(
        ev.id for ev in baseline.events
    )
    assert {d.attempt for d in baseline.deliveries} == {1}
    assert baseline.info.settings["retries"] == []
