"""Scenario files: loading, the built-ins, name resolution, and what bad files are told."""

from __future__ import annotations

import json
import re
import textwrap
import typing
from pathlib import Path

import pytest

import harness
from harness.core._data_paths import data_dir
from harness.core._errors import InputError, ScenarioError, UnknownScenarioError
from harness.core._model import Model
from harness.core._scenario import (
    DeliverySpec,
    DownstreamSpec,
    InvariantSpec,
    ObserverSpec,
    Perturbation,
    RecordedSource,
    Route,
    Settle,
    SyntheticSource,
)
from harness.drive import _perturb
from harness.drive._drift import DRIFT_KINDS
from harness.scenario._errors import Doc
from harness.scenario._load import (
    Suite,
    builtin_catalogue,
    load_scenario,
    load_suite,
    parse_duration,
    resolve,
)
from harness.scenario._schema import PerturbationDoc, ScenarioDoc

BUILTIN_SCENARIOS = [
    "bulk-import-burst",
    "deploy-restart",
    "duplicate-storm",
    "import-run-twice",
    "out-of-order",
    "simultaneous-same-record",
]
# On a stateful double, judged against a baseline run as well (tests/test_state_runs.py).
STATEFUL_SCENARIOS = {"import-run-twice", "out-of-order", "simultaneous-same-record"}
# Downstream faults: their own settle and time scale (tests/test_fault_runs.py checks them).
FAULT_SCENARIOS = [
    "ambiguous-commit",
    "downstream-hangs",
    "downstream-outage",
    "downstream-throttled",
    "slow-downstream",
]
# Field drift: invoices and orders with drifted fields (tests/test_drift_runs.py runs them).
DRIFT_SCENARIOS = ["big-number-ids", "missing-field", "renamed-field"]
# Providers' retries and tampered deliveries (tests/test_provider_runs.py checks them), and
# a signing-secret rotation (tests/test_secret_rotation_hazard.py).
PROVIDER_SCENARIOS = [
    "forged-signature",
    "provider-retry-storm",
    "provider-retry-storm-shopify",
    "provider-retry-storm-slack",
    "provider-retry-storm-stripe",
    "replayed-delivery",
    "secret-rotation",
]

MINIMAL = """\
source:
  synthetic:
    example: {id: evt_1, data: {order_id: ord_1}}
    events: 4
    records: 2
    over: 1s
"""


def write(folder: Path, text: str, name: str = "my.scenario.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value)


# --- built-ins ----------------------------------------------------------------------------


def test_builtin_catalogue_lists_the_scenarios_and_the_suite_sorted() -> None:
    catalogue = builtin_catalogue()
    assert [(name, kind) for name, kind, _ in catalogue] == sorted(
        [
            (n, "scenario")
            for n in BUILTIN_SCENARIOS + FAULT_SCENARIOS + DRIFT_SCENARIOS + PROVIDER_SCENARIOS
        ]
        + [("standard", "suite"), ("year", "year")]
    )
    assert all(description and "\n" not in description for _, _, description in catalogue)


@pytest.mark.parametrize("name", BUILTIN_SCENARIOS)
def test_every_builtin_scenario_loads_with_the_shared_settings(name: str) -> None:
    path = data_dir("scenarios") / f"{name}.scenario.yaml"
    scenario = load_scenario(path)
    assert scenario.name == name  # the name `harness run` takes is the file's stem
    assert scenario.origin == str(path)
    assert isinstance(scenario.source, SyntheticSource)
    assert scenario.delivery == DeliverySpec(
        signing="standard-webhooks", secret_env="HARNESS_SECRET", timeout=5.0
    )
    assert scenario.settle == Settle(quiet=1.0, deadline=20.0)
    stateful = name in STATEFUL_SCENARIOS
    assert scenario.downstreams == (
        DownstreamSpec("api", (), stateful=True)
        if stateful
        else DownstreamSpec(
            "api",
            (Route("POST", "/payouts", 201), Route("PUT", "/contacts/{id}", 200)),
        ),
    )
    # per_key_order where a record gets several events: with one per record (events == records)
    # there is no order to keep, and the check could only be inconclusive. no_server_errors
    # but out of order, where an automation may refuse an event its predecessor has not
    # preceded, for the sender to bring it back (docs/invariants.md).
    source = scenario.source
    ordered = source.events > source.records
    assert [i.name for i in scenario.invariants] == [
        "no_lost_events",
        "no_duplicate_effects",
        *(["per_key_order"] if ordered else []),
        "ack_within",
        *(["no_server_errors"] if name != "out-of-order" else []),
    ] + (["final_state_matches_baseline"] if stateful else [])
    (ack,) = (i for i in scenario.invariants if i.name == "ack_within")
    assert ack.params == {"seconds": 2.0}


def test_builtin_duplicate_storm_has_its_two_duplicate_perturbations() -> None:
    (scenario,) = resolve(["duplicate-storm"])
    assert scenario.model is Model.LEDGER
    source = scenario.source
    assert isinstance(source, SyntheticSource)
    assert (source.events, source.records, source.over) == (60, 30, 3.0)
    assert (source.key_path, source.seq_path, source.time_path) == (
        "$.data.order_id",
        "$.sequence",
        "$.occurred_at",
    )
    assert source.example["data"]["customer"]["email"] == "ada@example.com"
    assert scenario.perturbations == (
        Perturbation("duplicate", {"rate": 0.3, "copies": 2, "spread": 0.0}),
        Perturbation("duplicate", {"rate": 0.1, "copies": 3, "spread": 1.0}),
    )


def test_builtin_register_scenarios_key_on_the_contact() -> None:
    for scenario in resolve(["simultaneous-same-record", "out-of-order"]):
        assert scenario.model is Model.REGISTER
        assert isinstance(scenario.source, SyntheticSource)
        assert scenario.source.key_path == "$.data.contact_id"
    simultaneous, reorder = resolve(["simultaneous-same-record", "out-of-order"])
    assert simultaneous.perturbations == (
        Perturbation("simultaneous", {"records": 8, "events": 3}),
    )
    assert reorder.perturbations == (Perturbation("reorder", {"window": 6, "rate": 1.0}),)


def test_data_dir_finds_the_builtins_in_a_checkout_or_a_wheel() -> None:
    folder = data_dir("scenarios")
    assert (folder / "standard.suite.yaml").is_file()
    package = Path(harness.__file__).resolve().parent
    if not (package / "_data").is_dir():  # a checkout: the folder at the top of the repo
        assert folder == package.parent / "scenarios"


# --- resolve --------------------------------------------------------------------------------


def test_resolve_expands_a_builtin_suite_in_its_order() -> None:
    names = [s.name for s in resolve(["standard"])]
    assert names == [
        "duplicate-storm",
        "bulk-import-burst",
        "simultaneous-same-record",
        "out-of-order",
        "downstream-outage",
        "downstream-throttled",
        "ambiguous-commit",
        "slow-downstream",
        "renamed-field",
        "missing-field",
        "big-number-ids",
        "provider-retry-storm",
        "provider-retry-storm-slack",
        "provider-retry-storm-stripe",
        "provider-retry-storm-shopify",
        "forged-signature",
        "replayed-delivery",
        "secret-rotation",
        "import-run-twice",
        "deploy-restart",
    ]
    suite = load_suite(data_dir("scenarios") / "standard.suite.yaml")
    assert isinstance(suite, Suite)
    assert [s.name for s in suite.scenarios] == names


def test_resolve_mixes_names_suites_and_paths(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL, "mine.scenario.yaml")
    scenarios = resolve(["out-of-order", str(path), "standard"])
    assert [s.name for s in scenarios][:2] == ["out-of-order", "mine"]
    assert len(scenarios) == 2 + len(resolve(["standard"]))


def test_resolve_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(UnknownScenarioError) as caught:
        resolve(["dupliate-storm"])
    assert str(caught.value) == (
        "unknown scenario 'dupliate-storm' — did you mean 'duplicate-storm'? "
        "`harness scenarios` lists them"
    )
    assert caught.value.exit_code == 2


def test_resolve_a_missing_path_says_so(tmp_path: Path) -> None:
    with pytest.raises(UnknownScenarioError, match=r"no scenario file .*nope\.yaml"):
        resolve([str(tmp_path / "nope.yaml")])


def test_a_user_suite_resolves_builtins_and_paths_relative_to_itself(tmp_path: Path) -> None:
    write(tmp_path / "mine", MINIMAL, "own.scenario.yaml")
    suite_file = write(
        tmp_path,
        """\
        description: mine
        suite: [out-of-order, mine/own.scenario.yaml]
        """,
        "team.suite.yaml",
    )
    suite = load_suite(suite_file)
    assert (suite.name, suite.description) == ("team", "mine")
    assert [s.name for s in suite.scenarios] == ["out-of-order", "own"]
    assert [s.name for s in resolve([str(suite_file)])] == ["out-of-order", "own"]


def test_suite_with_an_unknown_member_names_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: team
        suite:
          - duplicate-storm
          - bulk-import-brust
        """,
        "team.suite.yaml",
    )
    with pytest.raises(ScenarioError) as caught:
        load_suite(path)
    assert str(caught.value) == (
        f"{path}:4: suite[1]: unknown scenario 'bulk-import-brust' — "
        "did you mean 'bulk-import-burst'? `harness scenarios` lists them"
    )


def test_suite_may_not_list_a_suite(tmp_path: Path) -> None:
    path = write(tmp_path, "suite: [standard]\n", "team.suite.yaml")
    with pytest.raises(ScenarioError, match=r"team.suite.yaml:1: suite\[0\]: 'standard' .*suite"):
        load_suite(path)


def test_scenario_and_suite_loaders_refuse_each_others_files(tmp_path: Path) -> None:
    suite = write(tmp_path, "suite: [out-of-order]\n", "team.suite.yaml")
    scenario = write(tmp_path, MINIMAL)
    with pytest.raises(ScenarioError, match="is a suite"):
        load_scenario(suite)
    with pytest.raises(ScenarioError, match="is a scenario, not a suite"):
        load_suite(scenario)


# --- what a valid file becomes --------------------------------------------------------------


def test_a_minimal_scenario_gets_the_spec_defaults(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, MINIMAL))
    assert scenario.name == "my"  # my.scenario.yaml
    assert scenario.model is Model.LEDGER
    assert scenario.perturbations == ()
    assert scenario.downstreams == (DownstreamSpec(),)
    assert scenario.delivery == DeliverySpec()
    assert scenario.settle == Settle()
    assert [i.name for i in scenario.invariants] == [
        "no_lost_events",
        "no_duplicate_effects",
        "per_key_order",
        "ack_within",
    ]
    assert scenario.invariants[-1].params["seconds"] > 0  # the registry's default, filled in
    assert scenario.source == SyntheticSource(
        example={"id": "evt_1", "data": {"order_id": "ord_1"}}, events=4, records=2, over=1.0
    )


def test_a_full_scenario_maps_every_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        name: full
        description: everything
        model: register
        source:
          synthetic:
            example: {id: e, type: t, seq: 1, at: x, data: {k: r}}
            events: 10
            records: 3
            over: 500ms
            id: $.id
            key: $.data.k
            type: null
            sequence: $.seq
            time: $.at
            types: [a, b]
        perturbations:
          - burst: {within: 2m, count: 5}
          - replay:
          - duplicate: {rate: 1, copies: 4, spread: 2h}
        invariants:
          - per_key_order
          - ack_within: {seconds: 3}
        downstreams:
          - name: crm
            routes:
              - {method: post, path: /x, status: 202, body: {ok: true}, headers: {X-A: b},
                 delay: 150ms}
          - name: mail
        delivery:
          signing: hmac
          secret_env: MY_SECRET
          signature_header: X-Hub-Signature
          timeout: 2
          headers: {User-Agent: harness}
        settle: {quiet: 0, deadline: 1.5}
        marks: [slow]
        redact: [$.data.k]
        """,
    )
    s = load_scenario(path)
    assert (s.name, s.description, s.model) == ("full", "everything", Model.REGISTER)
    assert s.marks == ("slow",) and s.redact == ("$.data.k",)
    assert s.source == SyntheticSource(
        example={"id": "e", "type": "t", "seq": 1, "at": "x", "data": {"k": "r"}},
        events=10,
        records=3,
        over=0.5,
        id_path="$.id",
        key_path="$.data.k",
        type_path=None,
        seq_path="$.seq",
        time_path="$.at",
        types=("a", "b"),
    )
    assert s.perturbations == (
        Perturbation("burst", {"within": 120.0, "count": 5}),
        Perturbation("replay", {"times": 1, "gap": 1.0}),
        Perturbation("duplicate", {"rate": 1.0, "copies": 4, "spread": 7200.0}),
    )
    assert s.invariants == (
        InvariantSpec("per_key_order"),
        InvariantSpec("ack_within", {"seconds": 3.0}),
    )
    assert s.downstreams == (
        DownstreamSpec("crm", (Route("POST", "/x", 202, {"ok": True}, {"X-A": "b"}, 0.15),)),
        DownstreamSpec("mail"),
    )
    assert s.delivery == DeliverySpec(
        "hmac", "MY_SECRET", "X-Hub-Signature", 2.0, {"User-Agent": "harness"}
    )
    assert s.settle == Settle(0.0, 1.5)


def test_example_file_is_read_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "payload.json").write_text(json.dumps({"id": "x", "n": [1, 2]}))
    path = write(
        tmp_path / "sub",
        "source: {synthetic: {example_file: payload.json, events: 1, records: 1, over: 0}}\n",
    )
    source = load_scenario(path).source
    assert isinstance(source, SyntheticSource)
    assert source.example == {"id": "x", "n": [1, 2]}


def test_recorded_file_is_resolved_relative_to_the_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "events.jsonl").write_text('{"id": "a", "data": {"id": "k"}}\n')
    write(folder, "source:\n  recorded: {file: events.jsonl, key: $.data.id, over: 4m}\n")
    monkeypatch.chdir(tmp_path)  # the scenario's folder is not the working directory
    source = load_scenario(Path("scenarios/my.scenario.yaml")).source
    assert source == RecordedSource(
        path=(folder / "events.jsonl").absolute(), key_path="$.data.id", over=240.0
    )


# --- what a bad file is told ----------------------------------------------------------------


def test_malformed_yaml_gives_line_and_column(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        source:
          synthetic: {example: {a: 1}
            events: 1
        """,
    )
    message = error_of(path)
    # libyaml's wording ("did not find expected ...") where PyYAML has it, PyYAML's else.
    assert message.startswith(f"{path}:3:5: not valid YAML: ")
    assert "expected ',' or '}'" in message
    assert "flow mapping, which starts at line 2" in message


def test_wrong_type_gives_line_field_path_value_and_what_is_allowed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        source:
          synthetic:
            example: {a: 1}
            events: sixty
            records: 1
            over: 1
        """,
    )
    assert error_of(path) == (
        f"{path}:4: source.synthetic.events: 'sixty' is not allowed — "
        "must be an integer greater than 0: how many events to make"
    )


def test_out_of_range_value_in_a_list_item(tmp_path: Path) -> None:
    path = write(
        tmp_path, MINIMAL + "perturbations:\n  - burst: {within: 1}\n  - duplicate: {rate: 1.5}\n"
    )
    assert error_of(path) == (
        f"{path}:9: perturbations[1].duplicate.rate: 1.5 is not allowed — "
        "must be a number between 0 and 1"
    )


def test_unknown_field_lists_the_allowed_ones_and_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\n" + "modle: ledger\n" + MINIMAL)
    assert error_of(path) == (
        f"{path}:2: unknown field 'modle' — allowed: name, description, model, source, "
        "perturbations, invariants, downstreams, delivery, settle, faults, provider, time_scale, "
        "marks, redact, observer, correlate, tracer, expect, baseline, schedule, reset, restarts, "
        "restart, calendar (did you mean 'model'?)"
    )


def test_unknown_perturbation_kind_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "perturbations:\n  - reorde: {window: 3}\n")
    assert error_of(path) == (
        f"{path}:8: perturbations[0]: unknown field 'reorde' — allowed: duplicate, burst, "
        "simultaneous, reorder, replay, rename_field, drop_field, null_field, retype_field, "
        "add_field, tamper (did you mean 'reorder'?)"
    )


def test_a_perturbation_item_with_two_kinds(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "perturbations:\n  - {burst: {within: 1}, replay: {}}\n")
    assert error_of(path).startswith(
        f"{path}:8: perturbations[0]: has 2 keys (burst, replay) — each list item is one "
    )


@pytest.mark.parametrize("bad", ["3 sec", "-1", "1.5d", "true", "''"])
def test_bad_duration(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, MINIMAL + f"settle: {{quiet: {bad}}}\n")
    message = error_of(path)
    assert message.startswith(f"{path}:7: settle.quiet: ")
    assert message.endswith(
        "is not allowed — must be a duration: seconds as a number, or a string like "
        '"500ms", "3s", "4m", "2h"'
    )


def test_zero_where_a_positive_duration_is_needed(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "perturbations:\n  - burst: {within: 0ms}\n")
    assert (
        "perturbations[0].burst.within: '0ms' is not allowed — must be a duration greater than 0"
        in error_of(path)
    )


def test_deadline_shorter_than_quiet(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "settle:\n  quiet: 5s\n  deadline: 2s\n")
    assert error_of(path) == (
        f"{path}:9: settle.deadline: '2s' is not allowed — "
        "must be a duration of at least quiet (5 s)"
    )


def test_the_clean_runs_event_pace_is_read_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "settle: {event_quiet: 200ms, event_deadline: 2s}\n")
    assert load_scenario(path).settle == Settle(event_quiet=0.2, event_deadline=2.0)
    off = write(tmp_path, MINIMAL + "settle: {event_deadline: 0}\n", "off.yaml")
    assert load_scenario(off).settle == Settle(event_deadline=0.0)
    bad = write(
        tmp_path, MINIMAL + "settle:\n  event_quiet: 1s\n  event_deadline: 300ms\n", "b.yaml"
    )
    assert error_of(bad) == (
        f"{bad}:9: settle.event_deadline: '300ms' is not allowed — "
        "must be 0 or a duration of at least event_quiet (1 s)"
    )


def test_missing_required_fields_are_named_at_their_parent(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nsource:\n  synthetic:\n    example: {a: 1}\n    over: 1\n")
    assert error_of(path) == (
        f"{path}:3: source.synthetic: missing required field 'events' — "
        "must be an integer greater than 0: how many events to make\n"
        f"{path}:3: source.synthetic: missing required field 'records' — "
        "must be an integer greater than 0, at most events: how many records"
    )
    no_source = write(tmp_path, "name: x\n", "none.yaml")
    assert error_of(no_source) == (
        f"{no_source}:1: missing required field 'source' — "
        "must be a mapping with exactly one of: synthetic, recorded, openapi, schema"
    )


def test_source_needs_exactly_one_kind(tmp_path: Path) -> None:
    path = write(tmp_path, "source: {}\n")
    assert error_of(path) == (
        f"{path}:1: source: has none of synthetic, recorded, openapi, schema — give exactly "
        "one of them"
    )


def test_records_may_not_exceed_events(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("records: 2", "records: 9"))
    assert error_of(path) == (
        f"{path}:5: source.synthetic.records: 9 is not allowed — "
        "must be at most events (4): every record needs an event"
    )


@pytest.mark.parametrize("bad", ["data.order_id", "$", "$.", "$.data..id", "$[x]"])
def test_bad_json_path(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, MINIMAL + f"    key: '{bad}'\n")
    assert error_of(path) == (
        f"{path}:7: source.synthetic.key: {bad!r} is not allowed — must be a JSONPath like "
        "'$.data.order_id': '$.' then names, [0] or ['name'] steps"
    )


def test_literal_value_suggests_the_nearest(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "delivery: {signing: standard_webhooks}\n")
    assert error_of(path).endswith(
        "delivery.signing: 'standard_webhooks' is not allowed — "
        "must be one of: standard-webhooks, stripe, github, shopify, slack, hubspot, attio, hmac, "
        "none (did you mean 'standard-webhooks'?)"
    )


def test_unknown_invariant_suggests(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "invariants:\n  - per_key_order\n  - no_lost_event\n")
    message = error_of(path)
    assert message.startswith(f"{path}:9: invariants[1]: 'no_lost_event' is not allowed — ")
    assert message.endswith("(did you mean 'no_lost_events'?)")


def test_bad_invariant_parameter_is_placed_on_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, MINIMAL + "invariants:\n  - no_lost_events\n  - ack_within:\n      seconds: -1\n"
    )
    message = error_of(path)
    assert message.startswith(f"{path}:10: invariants[1].params.seconds: ")
    assert "-1" in message


def test_a_string_where_a_number_is_needed_is_not_coerced(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "delivery: {headers: {X-Count: 5}}\n")
    assert error_of(path).endswith(
        "delivery.headers.X-Count: 5 is not allowed — must be a valid string (quote it: '5')"
    )


def test_bad_header_name_is_a_key_error(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "delivery:\n  headers: {'Bad Header': x}\n")
    assert error_of(path) == (
        f"{path}:8: delivery.headers: key 'Bad Header' is not allowed — "
        "must be an HTTP header name, like X-Signature (no spaces or ':')"
    )


def test_duplicate_keys_are_refused_at_the_second_one(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "    events: 5\n")
    assert error_of(path) == (
        f"{path}:7: source.synthetic: key 'events' appears twice (first on line 4) — keep one"
    )


def test_values_yaml_reads_as_non_json_are_refused(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        source:
          synthetic:
            example: {at: 2026-01-01, n: .inf}
            events: 1
            records: 1
            over: 1
            on: 3
        """,
    )
    assert error_of(path) == (
        f"{path}:3: source.synthetic.example.at: '2026-01-01' is not allowed — "
        "YAML reads it as a date; quote it: '2026-01-01'\n"
        f"{path}:3: source.synthetic.example.n: '.inf' is not allowed — must be a finite number\n"
        f"{path}:7: source.synthetic: key 'on' is not allowed — YAML reads it as True; "
        "keys must be strings: quote it, 'on'"
    )


def test_merge_keys_work_and_overrides_are_not_duplicates(tmp_path: Path) -> None:
    text = """\
        source:
          synthetic: {example: {a: 1}, events: 1, records: 1, over: 1}
        perturbations:
          - duplicate: &base {rate: 0.2, copies: 3}
          - duplicate:
              <<: *base
              rate: RATE
        """
    scenario = load_scenario(write(tmp_path, text.replace("RATE", "0.5")))
    assert [p.params["rate"] for p in scenario.perturbations] == [0.2, 0.5]
    assert scenario.perturbations[1].params["copies"] == 3
    bad = write(tmp_path, text.replace("RATE", "7"), "bad.yaml")
    # The override is blamed on its own line, not on the anchor's.
    assert error_of(bad).startswith(f"{bad}:7: perturbations[1].duplicate.rate: 7 is not allowed")


def test_a_self_containing_alias_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "marks: &m [a, *m]\n")
    assert error_of(path) == f"{path}:7: marks[1]: a YAML alias that contains itself"


def test_empty_file_and_wrong_top_level(tmp_path: Path) -> None:
    empty = write(tmp_path, "", "empty.yaml")
    assert error_of(empty).startswith(f"{empty}:1: the file holds nothing — a scenario is")
    listed = write(tmp_path, "- a\n", "list.yaml")
    assert error_of(listed).startswith(f"{listed}:1: the file holds a list — a scenario is")


def test_missing_files_named_by_the_scenario(tmp_path: Path) -> None:
    recorded = write(tmp_path, "source:\n  recorded:\n    file: nope.jsonl\n")
    assert error_of(recorded) == (
        f"{recorded}:3: source.recorded.file: 'nope.jsonl' is not allowed — there is no file "
        f"{str(tmp_path / 'nope.jsonl')!r} (paths are relative to the scenario file)"
    )
    (tmp_path / "list.json").write_text("[1]")
    example = write(
        tmp_path,
        "source: {synthetic: {example_file: list.json, events: 1, records: 1, over: 1}}\n",
        "ex.yaml",
    )
    assert "holds a JSON list, not an object" in error_of(example)


def test_duplicate_downstream_names(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "downstreams:\n  - name: crm\n  - name: crm\n")
    assert error_of(path).startswith(f"{path}:9: downstreams[1].name: 'crm' is not allowed")


def test_many_problems_are_reported_together_in_line_order(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL + "model: legder\nmarks: [a, 3]\nsettle: {quiet: x}\n")
    lines = error_of(path).splitlines()
    assert [re.findall(r"\.yaml:(\d+): ", line) for line in lines] == [["7"], ["8"], ["9"]]


def test_unreadable_scenario_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.yaml")


def test_scenario_errors_are_input_errors() -> None:
    assert issubclass(ScenarioError, InputError)
    assert ScenarioError("x").exit_code == 2


# --- the pieces agree with each other -------------------------------------------------------


def test_perturbation_kinds_match_the_planner() -> None:
    assert sorted(PerturbationDoc.model_fields) == sorted(_perturb.KINDS + DRIFT_KINDS)


def test_models_match_the_model_enum() -> None:
    annotation = ScenarioDoc.model_fields["model"].annotation
    assert set(typing.get_args(annotation)) == {m.value for m in Model}


def test_every_field_says_what_it_allows() -> None:
    def docs(cls: type[Doc]) -> list[type[Doc]]:
        return [cls, *(d for sub in cls.__subclasses__() for d in docs(sub))]

    for cls in docs(Doc):
        for name, info in cls.model_fields.items():
            assert info.description, f"{cls.__name__}.{name}"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (3, 3.0),
        (0.25, 0.25),
        ("500ms", 0.5),
        ("700ms", 0.7),  # not 700 * 0.001 = 0.7000000000000001
        ("2300ms", 2.3),
        ("0.1m", 6.0),
        ("3s", 3.0),
        ("4m", 240.0),
        ("2h", 7200.0),
        (" 1.5 s ", 1.5),
        ("3", None),
        (True, None),
        ("1d", None),
        (float("inf"), None),
        (None, None),
    ],
)
def test_parse_duration(value: object, seconds: float | None) -> None:
    assert parse_duration(value) == seconds


def test_signing_names_match_the_signature_schemes() -> None:
    from typing import get_args

    from harness.core._signing import SCHEMES
    from harness.scenario._schema import DeliveryDoc

    assert set(get_args(DeliveryDoc.model_fields["signing"].annotation)) == set(SCHEMES)


def test_faults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL
        + "downstreams: [{name: crm}]\n"
        + "faults:\n"
        + "  - {downstream: crm, at: 10s, for: 4m, mode: status}\n"
        + "  - {downstream: crm, at: 0, for: 1s, mode: throttle, retry_after: 2s,"
        + " route: post /payouts}\n",
    )
    a, b = load_scenario(path).faults
    assert (a.downstream, a.mode, a.at, a.duration, a.status) == ("crm", "status", 10, 240, 503)
    assert (b.mode, b.retry_after, b.route) == ("throttle", 2.0, "POST /payouts")


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            "{downstream: crn, at: 0, for: 1s, mode: status}",
            "faults[0].downstream: 'crn' is not allowed — must name one of the scenario's "
            "downstreams: crm",
        ),
        (
            "{downstream: crm, at: 0, for: 1s, mode: outage}",
            "faults[0].mode: 'outage' is not allowed — must be one of: status, throttle, timeout, "
            "reset, slow, commit-then-fail, fail-first-n, rate-limit",
        ),
        ("{downstream: crm, at: 0, fo: 1s, mode: status}", "(did you mean 'for'?)"),
        (
            "{downstream: crm, at: 0, for: 0s, mode: status}",
            "faults[0].for: '0s' is not allowed — must be a duration greater than 0",
        ),
        (
            "{downstream: crm, at: 0, for: 1s, mode: status, status: 200}",
            "faults[0].status: 200 is not allowed — must be an HTTP status from 400 to 599",
        ),
        (
            "{downstream: crm, at: 0, for: 1s, mode: status, route: /payouts}",
            "must be a method and a path, like 'POST /payouts'",
        ),
    ],
)
def test_bad_faults(tmp_path: Path, fault: str, message: str) -> None:
    path = write(tmp_path, MINIMAL + "downstreams: [{name: crm}]\nfaults:\n  - " + fault + "\n")
    assert message in error_of(path)


# --- stateful downstreams and the observer (docs/state.md) ------------------------------------


def test_stateful_and_observer_are_read_into_the_spec(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL
        + "downstreams:\n  - {name: crm, stateful: true}\n"
        + "observer: {url: 'http://127.0.0.1:8000/state', records: $.contacts, key: $.id}\n",
    )
    scenario = load_scenario(path)
    assert scenario.downstreams == (DownstreamSpec("crm", (), stateful=True),)
    assert scenario.observer == ObserverSpec("http://127.0.0.1:8000/state", "$.contacts", "$.id")
    root = write(
        tmp_path, MINIMAL + "observer: {url: 'http://[::1]:8000/', records: $, key: $.k}\n"
    )
    assert load_scenario(root).observer == ObserverSpec("http://[::1]:8000/", "$", "$.k")


@pytest.mark.parametrize(
    ("tail", "line", "expected"),
    [
        (
            "downstreams:\n  - name: crm\n    stateful: yes please\n",
            9,
            "downstreams[0].stateful: 'yes please' is not allowed — must be true or false",
        ),
        (
            "observer:\n  url: ftp://127.0.0.1/state\n  records: $.contacts\n  key: $.id\n",
            8,
            "observer.url: 'ftp://127.0.0.1/state' is not allowed — must be an http:// URL "
            "with a host",
        ),
        (
            "observer:\n  url: http://127.0.0.1/state\n  records: contacts\n  key: $.id\n",
            9,
            "observer.records: 'contacts' is not allowed — must be a JSONPath",
        ),
        (
            "observer:\n  url: http://127.0.0.1/state\n  records: $.contacts\n",
            7,
            "observer: missing required field 'key' — must be a JSONPath to each record's key",
        ),
        (
            "observer:\n  url: http://127.0.0.1/state\n  records: $\n  key: $.id\n  keys: $.x\n",
            11,
            "observer: unknown field 'keys' — allowed: url, records, key (did you mean 'key'?)",
        ),
    ],
)
def test_bad_stateful_or_observer_keys_name_their_line(
    tmp_path: Path, tail: str, line: int, expected: str
) -> None:
    path = write(tmp_path, MINIMAL + tail)
    message = error_of(path)
    assert message.startswith(f"{path}:{line}: "), message
    assert expected in message, message


# --- a downstream's merges: and appends: routes ---------------------------------------------


def test_merges_and_appends_routes_are_loaded(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINIMAL
        + "downstreams:\n"
        + "  - name: crm\n"
        + "    merges: ['PATCH /crm/v3/objects/contacts/{id}', 'post /contacts/upsert']\n"
        + "    appends: ['PATCH /v1/blocks/{id}/children', 'post /graphql  customerCreate']\n",
    )
    [crm] = load_scenario(path).downstreams
    assert crm.merges == ("PATCH /crm/v3/objects/contacts/{id}", "POST /contacts/upsert")
    assert crm.appends == ("PATCH /v1/blocks/{id}/children", "POST /graphql customerCreate")


@pytest.mark.parametrize(
    ("routes", "line", "said"),
    [
        (
            "    merges: ['GET /contacts/{id}']\n",
            9,
            "downstreams[0].merges[0]: 'GET /contacts/{id}' is not allowed — must be a PATCH, POST "
            "or PUT and a path whose writes merge into the resource, like "
            "'PATCH /crm/v3/objects/contacts/{id}'",
        ),
        (
            "    merges: ['PATCH /contacts/{id']\n",
            9,
            "must be a method and a path whose segments are literal, a whole '{name}', or a "
            "trailing '*', like 'PATCH /contacts/{id}'",
        ),
        (
            "    merges: ['PATCH /c/{id}']\n    appends: ['PATCH /b', 'PATCH /c/{id}']\n",
            10,
            "downstreams[0].appends: 'PATCH /c/{id}' is also in merges — a route's writes either "
            "merge into the resource (a repeat is harmless) or add to it (a repeat is a "
            "duplicate); keep it in one of them",
        ),
        (  # the same route, its parameter named otherwise: appends: won at judge time, unsaid
            "    merges: ['PATCH /c/{id}']\n    appends: ['PATCH /c/{contact}']\n",
            10,
            "downstreams[0].appends: 'PATCH /c/{contact}' is also in merges (as 'PATCH /c/{id}') "
            "— a route's writes either merge into the resource",
        ),
        (  # an append's route was told it must 'merge into the resource'
            "    appends: ['GET /v1/blocks/{id}/children']\n",
            9,
            "downstreams[0].appends[0]: 'GET /v1/blocks/{id}/children' is not allowed — must be "
            "a PATCH, POST or PUT and a path whose writes add to the resource each time, like "
            "'PATCH /v1/blocks/{id}/children'",
        ),
        (  # a GraphQL mutation's field is POSTed
            "    merges: ['PATCH /graphql customerSet']\n",
            9,
            "downstreams[0].merges[0]: 'PATCH /graphql customerSet' is not allowed — "
            "'customerSet' after the path must be the name of a GraphQL mutation's field, after "
            "a POST: like 'POST /graphql customerSet'",
        ),
        (
            "    merges: ['POST /graphql customer-set']\n",
            9,
            "'customer-set' after the path must be the name of a GraphQL mutation's field",
        ),
    ],
)
def test_a_bad_merges_or_appends_route_is_refused_at_its_line(
    tmp_path: Path, routes: str, line: int, said: str
) -> None:
    path = write(tmp_path, MINIMAL + "downstreams:\n  - name: crm\n" + routes)
    error = error_of(path)
    assert f"{path}:{line}" in error, error
    assert said in error, error
