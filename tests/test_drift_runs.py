"""Field drift against real automation processes: careless ones fail drift_is_loud for each
kind of drift with evidence naming events and effects, the sound demo passes, and
``harness check`` on the journal says the same."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

import harness
from harness.core._model import Status, Verdict
from harness.core._scenario import InvariantSpec, Perturbation, Route, Scenario, SyntheticSource
from harness.engine import RunResult
from harness.scenario._load import resolve

from .conftest import SECRET, unmet
from .conftest import harness as harness_cli
from .fault_scenarios import automation, run_side_by_side_on

CARELESS = "tests.drift_automations"
SOUND = "harness.demo.sound"
# Each kind of drift on half the invoices (from 4 s of 8 s): the other half is the reference.
DRIFTS: dict[str, dict[str, Any]] = {
    "rename_field": {"path": "$.data.account_id", "to": "accountId"},
    "drop_field": {"path": "$.data.email"},
    "null_field": {"path": "$.data.amount"},
    # A small number sent as text is a change; a 64-bit id as its digits is not (DIGITS).
    "retype_field": {"path": "$.data.amount", "to": "string"},
    "add_field": {"path": "$.data.region", "value": "eu"},
}


def drifting(
    kind: str, params: dict[str, Any], invariants: tuple[InvariantSpec, ...] = ()
) -> Scenario:
    base = resolve(["renamed-field"])[0]
    assert isinstance(base.source, SyntheticSource)
    return replace(
        base,
        name=f"drift-{kind}-{params.get('to', 'x')}",
        source=replace(base.source, events=16, records=16, over=8.0),
        perturbations=(Perturbation(kind, {**params, "from": 4.0}),),
        invariants=invariants or base.invariants,
    )


SCENARIOS = [drifting(kind, params) for kind, params in DRIFTS.items()]
DOUBLE = drifting("retype_field", {"path": "$.data.account_id", "to": "double"})
DIGITS = drifting("retype_field", {"path": "$.data.account_id", "to": "string"})


def loud(result: RunResult) -> Verdict:
    [v] = [v for v in result.verdicts if v.invariant == "drift_is_loud"]
    return v


def run(scenarios: list[Scenario], hook: str, port: int, journal: Path) -> list[RunResult]:
    return harness.run(scenarios, hook, seed=5, downstream=f"127.0.0.1:{port}", journal=journal)


@pytest.mark.integration
def test_a_lenient_flow_fails_drift_is_loud_for_each_kind_of_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    scenarios = [*SCENARIOS, DOUBLE, DIGITS]
    results = run_side_by_side_on(
        CARELESS, scenarios, tmp_path / "j.db", "--mode", "lenient", seed=5, instances=4
    )
    expected = {
        "rename_field": "carried null at $.account_id instead of ",
        "drop_field": 'carried "" at $.email instead of "',
        "null_field": "carried null at $.amount instead of ",
        "retype_field": "at $.amount instead of ",
    }
    *results, digits = results
    for scenario, result in zip([*SCENARIOS, DOUBLE], results, strict=True):
        v = loud(result)
        kind = scenario.perturbations[0].kind
        if kind == "add_field":
            # A new field the flow ignores changes nothing it writes: harmless, and said so.
            assert v.status is Status.PASS, v.summary
            assert "8 harmless drift" in v.summary
            continue
        assert v.status is Status.FAIL, (scenario.name, v.summary)
        assert "8 drifted events of 8" in v.summary
        line = v.evidence.lines[0]
        want = "at $.account_id instead of " if scenario is DOUBLE else expected[kind]
        assert want in line, line
        assert line.startswith("event evt_") and "delivered once (dlv_" in line
        assert v.evidence.event_ids and v.evidence.effect_ids and v.evidence.delivery_ids
        assert f" {v.evidence.effect_ids[0]} carried " in line
    double = loud(results[-1]).evidence.lines[0]
    assert "retyped to double" in double and "POST /invoices eff_" in double
    assert "(rounded through a double)" in double
    # The flow passes a 64-bit id sent as text on as it came, digit for digit: the one rule of
    # big_numbers_intact says that is the value intact, and so does drift_is_loud.
    v = loud(digits)
    assert v.status is Status.PASS, v.summary
    assert "8 processed correctly" in v.summary


@pytest.mark.integration
def test_the_sound_demo_passes_every_kind_of_drift_and_big_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    big = replace(resolve(["big-number-ids"])[0], source=SCENARIOS[0].source)
    results = run_side_by_side_on(
        SOUND, [*SCENARIOS, big], tmp_path / "j.db", seed=5, state=tmp_path / "state", instances=4
    )
    for scenario, result in zip([*SCENARIOS, big], results, strict=True):
        assert not unmet(result.verdicts), scenario.name
        kind = scenario.perturbations[0].kind
        summary = loud(result).summary
        assert ("harmless" if kind == "add_field" else "rejected loudly") in summary, summary


@pytest.mark.integration
def test_an_alert_on_the_alert_route_is_loud(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    alerted = (InvariantSpec("drift_is_loud", {"alert_route": "POST /alerts"}),)
    scenario = drifting("rename_field", DRIFTS["rename_field"], alerted)
    api = scenario.downstreams[0]
    downstream = replace(api, routes=(*api.routes, Route("POST", "/alerts", 201)))
    scenario = replace(scenario, downstreams=(downstream,))
    with automation(CARELESS, "--mode", "alerting") as (hook, port):
        [result] = run([scenario], hook, port, tmp_path / "j.db")
    v = loud(result)
    assert v.status is Status.PASS, v.summary
    assert "8 rejected loudly" in v.summary and "alert POST /alerts eff_" in v.evidence.lines[0]


@pytest.mark.integration
def test_harness_check_gives_the_same_verdict_offline(tmp_path: Path) -> None:
    journal = tmp_path / "j.db"
    with automation(CARELESS, "--mode", "lenient") as (hook, port):
        r = harness_cli(
            "run",
            "missing-field",
            "--target",
            hook,
            "--downstream",
            f"127.0.0.1:{port}",
            "--journal",
            str(journal),
            "--seed",
            "2",
        )
    assert r.code == 1, r.out + r.err
    assert "drift_is_loud" in r.out
    again = harness_cli("check", str(journal))
    assert again.code == 1, again.out + again.err
    first = [line for line in r.out.splitlines() if "drift_is_loud" in line]
    assert first and first == [line for line in again.out.splitlines() if "drift_is_loud" in line]
