"""Drift perturbations: the transforms (seeded, rate/from/types, each kind, lossy retype), how a
run records them, how the schedule ignores them, and the YAML errors for bad drift params."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.core._errors import ScenarioError
from harness.core._js_numbers import through_double
from harness.core._model import Event
from harness.core._scenario import Perturbation
from harness.drive._drift import DriftRecord, arrived, drift, drift_sentence, records_of
from harness.drive._perturb import plan
from harness.engine import RunOptions, prepare
from harness.scenario._load import load_scenario, resolve

from .conftest import SECRET

BIG = 820982911946154508


def events(n: int = 20, *, types: tuple[str, ...] = ("invoice.paid",)) -> list[Event]:
    return [
        Event(
            f"evt_{i}",
            f"inv_{i}",
            i,
            types[i % len(types)],
            float(i),
            {
                "id": f"evt_{i}",
                "data": {"account_id": BIG + 2 * i, "amount": 100 + i, "cur": "usd"},
            },
        )
        for i in range(n)
    ]


def p(kind: str, **params: Any) -> Perturbation:
    return Perturbation(kind, params)


@pytest.mark.parametrize(
    ("leaf", "verdict"),
    [
        (BIG, "intact"),
        (str(BIG), "intact"),  # Twitter's id_str
        (820982911946154500, "rounded"),  # JavaScript's shortest form of the nearest double
        (820982911946154496, "rounded"),  # Python's int(float(x)): the double's exact value
        (8.209829119461545e17, "rounded"),  # a JSON float
        ("8.209829119461545e+17", "rounded"),
        ("820982911946154500", "rounded"),
        (820982911946154000, "changed"),  # another double
        (None, "changed"),
        ("", "changed"),
        (True, "changed"),
        ("820982911946154508x", "changed"),
    ],
)
def test_one_rule_says_how_a_64_bit_id_arrived_in_any_printed_form(leaf: Any, verdict: str) -> None:
    assert arrived(leaf, BIG) == verdict


def test_through_double_rounds_a_64_bit_integer_as_javascript_prints_it() -> None:
    assert through_double(BIG) == 820982911946154500  # JSON.stringify of the nearest double
    assert through_double(2**53 + 1) == 9007199254740992
    assert through_double(1999) == 1999 and isinstance(through_double(1999), int)
    assert through_double(19.99) == 19.99


@pytest.mark.parametrize(
    ("perturbation", "field", "expected"),
    [
        (p("rename_field", path="$.data.account_id", to="accountId"), "accountId", "moved"),
        (p("drop_field", path="$.data.account_id"), "account_id", "gone"),
        (p("null_field", path="$.data.account_id"), "account_id", None),
        (p("retype_field", path="$.data.account_id", to="string"), "account_id", "text"),
        (p("retype_field", path="$.data.account_id", to="double"), "account_id", "rounded"),
        (p("add_field", path="$.data.region", value="eu"), "region", "eu"),
    ],
)
def test_each_kind_changes_the_payload_and_records_the_original(
    perturbation: Perturbation, field: str, expected: Any
) -> None:
    before = events(1)
    after, [record] = drift(before, [perturbation], seed=1)
    data = after[0].payload["data"]
    original = before[0].payload["data"]["account_id"]
    if expected == "moved":
        assert list(data) == ["accountId", "amount", "cur"]  # the renamed key keeps its place
        assert data["accountId"] == original
    elif expected == "gone":
        assert field not in data
    elif expected == "text":
        assert data[field] == str(original)
    elif expected == "rounded":
        assert data[field] == through_double(original) != original
    else:
        assert data[field] == expected
    assert before[0].payload["data"]["account_id"] == original  # pure: the input is untouched
    want = None if perturbation.kind == "add_field" else original
    assert record.events == {"evt_0": want}
    assert record.kind == perturbation.kind and record.path == perturbation.params["path"]


def test_retype_to_number_parses_a_numeric_string_and_leaves_others() -> None:
    evs = [
        Event("a", "k", 0, "t", 0.0, {"n": "42"}),
        Event("b", "k", 1, "t", 1.0, {"n": "4.5"}),
        Event("c", "k", 2, "t", 2.0, {"n": "abc"}),
    ]
    after, [record] = drift(evs, [p("retype_field", path="$.n", to="number")], seed=1)
    assert [e.payload["n"] for e in after] == [42, 4.5, "abc"]
    assert record.events == {"a": "42", "b": "4.5"}  # "abc" cannot be retyped: not drifted


def test_a_double_retype_of_a_small_integer_changes_nothing_and_is_not_recorded() -> None:
    _, [record] = drift(events(3), [p("retype_field", path="$.data.amount", to="double")], seed=1)
    assert record.events == {}


def test_rate_is_seeded_and_from_and_types_select_events() -> None:
    rate = [p("null_field", path="$.data.amount", rate=0.5)]
    first = drift(events(), rate, seed=7)[1][0].events
    assert first == drift(events(), rate, seed=7)[1][0].events
    assert first != drift(events(), rate, seed=8)[1][0].events
    assert 0 < len(first) < 20
    since = [p("drop_field", path="$.data.amount", **{"from": 10.0})]
    assert set(drift(events(), since, seed=1)[1][0].events) == {f"evt_{i}" for i in range(10, 20)}
    typed = [p("drop_field", path="$.data.amount", types=["b"])]
    mixed = events(types=("a", "b"))
    assert set(drift(mixed, typed, seed=1)[1][0].events) == {f"evt_{i}" for i in range(1, 20, 2)}


def test_a_drifted_event_is_drifted_on_every_delivery(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drift changes the event (its one body), so a duplicate carries the same drift."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    base = resolve(["renamed-field"])[0]
    from dataclasses import replace

    scenario = replace(
        base,
        perturbations=(
            Perturbation("duplicate", {"rate": 1.0, "copies": 2}),
            *base.perturbations,
        ),
    )
    run = prepare(scenario, RunOptions.create("http://127.0.0.1:9/h", seed=3))
    [record] = records_of(run.info.settings)
    assert len(record.events) == 20  # invoices from 10 s of 20 s on
    assert len(run.schedule) == 80  # the schedule still doubles every event
    for ev in run.events:
        body = json.loads(run.bodies[ev.seq])
        renamed = "accountId" in body["data"]
        assert renamed == (ev.id in record.events) == (ev.occurred_at >= 10)
        if renamed:
            assert body["data"]["accountId"] == record.events[ev.id]
            assert ev.id.startswith("evt_" + run.info.tracer_tag)  # tracing came first


def test_plan_ignores_drift_kinds_and_still_refuses_unknown_ones() -> None:
    evs = events(4)
    with_drift = [p("drop_field", path="$.data.amount"), p("replay", times=1, gap=1.0)]
    assert plan(evs, with_drift, 1) == plan(evs, [p("replay", times=1, gap=1.0)], 1)
    with pytest.raises(ScenarioError, match="rename_field"):
        plan(evs, [p("shuffle")], 1)


def test_records_round_trip_through_json() -> None:
    record = DriftRecord("rename_field", "$.data.account_id", "accountId", None, {"e": BIG})
    settings = json.loads(json.dumps({"drift": [record.to_json()]}))
    assert records_of(settings) == [record]  # a 64-bit original survives exactly
    assert records_of({}) == []


# --- YAML -----------------------------------------------------------------------------------

SCENARIO = """\
name: drifting
source:
  synthetic:
    example:
      id: evt_1
      data:
        account_id: 820982911946154508
        email: ada@example.com
    events: 4
    records: 2
    over: 1s
    key: $.data.email
    type: null
perturbations:
{perturbation}
"""


def load(tmp_path: Path, perturbation: str) -> Any:
    path = tmp_path / "s.scenario.yaml"
    path.write_text(SCENARIO.format(perturbation=perturbation))
    return load_scenario(path)


def test_drift_params_load_with_defaults_and_from(tmp_path: Path) -> None:
    s = load(tmp_path, "  - rename_field: {path: $.data.email, to: emailAddress, from: 500ms}")
    [pert] = s.perturbations
    assert pert.kind == "rename_field"
    assert pert.params == {
        "path": "$.data.email",
        "to": "emailAddress",
        "rate": 1.0,
        "from": 0.5,
        "types": [],
    }


@pytest.mark.parametrize(
    ("perturbation", "messages"),
    [
        (
            "  - drop_field: {path: $.data.emial}",
            [
                "s.scenario.yaml:15: perturbations[0].drop_field.path: '$.data.emial' is not "
                "allowed — the example payload has no such field; it has",
                "$.data.account_id, $.data.email",
            ],
        ),
        (
            "  - retype_field: {path: $.data.email, to: number}",
            ["s.scenario.yaml:15", "needs a string holding a number"],
        ),
        ("  - retype_field: {path: $.data.email, to: int}", ["s.scenario.yaml:15", "double"]),
        ("  - add_field: {path: $.data.email, value: 1}", ["already has this field"]),
        (
            "  - rename_field: {path: $.data.email, to: account_id}",
            ["already has a field 'account_id'"],
        ),
        ("  - null_field: {path: $.data.email, rate: 2}", ["s.scenario.yaml:15", "rate"]),
        ("  - null_field: {path: $.data.email, form: 2s}", ["s.scenario.yaml:15", "form"]),
        ("  - null_field: {path: data.email}", ["s.scenario.yaml:15", "JSONPath"]),
        (
            "  - null_field: {path: $.data.email, types: [order.paid]}",
            ["s.scenario.yaml:15", "types[0]: 'order.paid' is not allowed", "of type event"],
        ),
        (
            "  - null_field: {path: $.data.email, from: 5s}",
            ["from: 5 s is not allowed — the last event occurs at 0.75 s"],
        ),
    ],
)
def test_bad_drift_params_are_errors_with_file_and_line(
    tmp_path: Path, perturbation: str, messages: list[str]
) -> None:
    with pytest.raises(ScenarioError) as info:
        load(tmp_path, perturbation)
    text = str(info.value)
    for message in messages:
        assert message in text, text


def test_the_report_describes_a_drift_in_words() -> None:
    params = {"path": "$.data.email", "rate": 0.2, "from": 10.0, "types": ["order.paid"]}
    assert drift_sentence("drop_field", params) == (
        "$.data.email dropped for 20% of events of type order.paid from 10 s on"
    )
    double = {"path": "$.data.account_id", "to": "double"}
    assert drift_sentence("retype_field", double) == (
        "$.data.account_id rounded through a double for all events"
    )


@pytest.mark.parametrize(
    ("perturbation", "message"),
    [
        (p("rename_field", path="$.data.email"), "needs 'to'"),
        (p("drop_field", to="x"), "needs 'path'"),
        (p("null_field", path="data.email"), "path 'data.email' must start with"),
        (p("retype_field", path="$.a", to="int"), "'int' is not a type it knows"),
    ],
)
def test_a_drift_built_in_python_with_bad_params_is_refused(
    perturbation: Perturbation, message: str
) -> None:
    with pytest.raises(ScenarioError, match=message):
        drift(events(1), [perturbation], seed=1)
