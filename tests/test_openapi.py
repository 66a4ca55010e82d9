"""Events from an OpenAPI webhook or a JSON Schema, and downstream contracts (issue #15, 4-5).

The fast tests load scenarios and check requests against a contract in process; the
integration tests run ``harness`` as a real process against ``tests.gallery.contact_sync`` on
loopback, once sending the fields the CRM's document requires and once dropping ``name``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core._errors import ScenarioError
from harness.core._model import FailureClass, Status
from harness.core._scenario import ContractSpec, InvariantSpec, SchemaSource
from harness.double._contract import CONTRACT_MARK, CONTRACT_VIOLATION_MARK, Contract
from harness.drive._schema_events import draw_instances
from harness.drive._sources import load_stream
from harness.history import load_all
from harness.history._history import Mark
from harness.invariants import judge
from harness.scenario._hazards import resolve_hazards
from harness.scenario._load import load_scenario
from harness.scenario._project import load_project

from .conftest import harness
from .test_gallery import automation, run, said, verdicts
from .test_invariants import clean_ledger

DOCS = Path(__file__).resolve().parent / "openapi"
SCENARIO = DOCS / "order-paid.yaml"


def copy_docs(tmp_path: Path) -> Path:
    for name in ("orders.openapi.yaml", "crm.openapi.yaml", "order-paid.yaml"):
        shutil.copy(DOCS / name, tmp_path / name)
    return tmp_path


def scenario_text(**source: object) -> str:
    fields = {
        "file": "orders.openapi.yaml",
        "webhook": "order.paid",
        "events": 40,
        "records": 10,
        "over": "2s",
        "id": "$.id",
        "key": "$.data.order_id",
        "type": "$.type",
        **source,
    }
    return yaml.safe_dump({"name": "t", "source": {"openapi": fields}}, sort_keys=False)


def error_of(path: Path) -> str:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return str(caught.value)


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of ``path`` that holds ``text``."""
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if text in line)


# --- events from a webhook's schema ---------------------------------------------------------


def test_events_are_valid_deterministic_and_reach_the_boundaries() -> None:
    scenario = load_scenario(SCENARIO)
    source = scenario.source
    assert isinstance(source, SchemaSource)
    first = load_stream(replace_events(source, 60), 7).events
    again = load_stream(replace_events(source, 60), 7).events
    other = load_stream(replace_events(source, 60), 8).events
    assert [e.payload for e in first] == [e.payload for e in again]
    assert [e.payload for e in first] != [e.payload for e in other]
    validator = jsonschema.Draft202012Validator(
        source.schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    for event in first:
        assert not list(validator.iter_errors(event.payload)), event.payload
    assert len({e.id for e in first}) == 60
    assert len({e.key for e in first}) == 6
    assert {e.type for e in first} == {"order.paid"}
    amounts = [e.payload["data"]["amount"] for e in first]
    assert 1 in amounts  # the schema's minimum
    assert any("note" not in e.payload["data"] for e in first)  # an optional field left out
    assert any("note" in e.payload["data"] for e in first)
    assert any("phone" not in e.payload["data"]["customer"] for e in first)


def replace_events(source: SchemaSource, events: int) -> SchemaSource:
    from dataclasses import replace

    return replace(source, events=events)


def test_a_json_schema_file_is_a_source(tmp_path: Path) -> None:
    (tmp_path / "signup.schema.json").write_text(
        json.dumps(
            {
                "$defs": {"email": {"type": "string", "format": "email"}},
                "type": "object",
                "required": ["user_id", "email"],
                "properties": {
                    "user_id": {"type": "integer", "minimum": 100},
                    "email": {"$ref": "#/$defs/email"},
                },
            }
        )
    )
    path = tmp_path / "s.yaml"
    path.write_text(
        "source:\n  schema:\n    file: signup.schema.json\n    events: 5\n    records: 5\n"
        "    over: 1s\n    key: $.user_id\n"
    )
    events = load_stream(load_scenario(path).source, 1).events
    assert [e.key for e in events] and all(int(e.key) > 100 for e in events)
    assert all("@" in e.payload["email"] for e in events)


def test_a_path_the_schema_lacks_is_refused_at_its_line(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(key="$.data.order"))
    error = error_of(path)
    assert error.startswith(f"{path}:{line_of(path, 'key:')}: source.openapi.key: ")
    assert "'$.data.order' is not allowed" in error
    assert "$.data.order_id" in error  # what the schema has instead


def test_an_unknown_webhook_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text(webhook="order.payed"))
    error = error_of(path)
    assert error.startswith(f"{path}:{line_of(path, 'webhook:')}: source.openapi.webhook: ")
    assert "its webhooks are: order.paid" in error


def test_a_document_that_is_not_openapi_is_refused_at_its_line(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    (tmp_path / "orders.openapi.yaml").write_text("swagger: '2.0'\nopenapi: 2.0\npaths: {}\n")
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text())
    error = error_of(path)
    assert error.startswith(f"{tmp_path / 'orders.openapi.yaml'}:2: not an OpenAPI 3 document")


def test_a_broken_ref_is_refused_at_the_line_of_the_ref(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    document = tmp_path / "orders.openapi.yaml"
    document.write_text(document.read_text().replace("schemas/Customer", "schemas/Customr"))
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text())
    error = error_of(path)
    ref_line = line_of(document, "schemas/Customr")
    assert error.startswith(f"{document}:{ref_line}: $ref '#/components/schemas/Customr' leads")


def test_a_remote_ref_is_refused_and_bundling_advised(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    document = tmp_path / "orders.openapi.yaml"
    document.write_text(
        document.read_text().replace('"#/components/schemas/Customer"', "customer.yaml")
    )
    path = tmp_path / "s.yaml"
    path.write_text(scenario_text())
    error = error_of(path)
    assert error.startswith(f"{document}:{line_of(document, 'customer.yaml')}: ")
    assert "only local references" in error and "bundle" in error


def test_drift_names_fields_of_the_schema_optional_ones_too(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    path = tmp_path / "s.yaml"
    text = scenario_text()
    path.write_text(
        text + "perturbations:\n  - rename_field: {path: $.data.customer.phone, to: tel}\n"
    )
    load_scenario(path)
    path.write_text(text + "perturbations:\n  - drop_field: {path: $.data.customer.fax}\n")
    error = error_of(path)
    assert "perturbations[0].drop_field.path: '$.data.customer.fax' is not allowed" in error


# --- contracts ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crm() -> Contract:
    document = yaml.safe_load((DOCS / "crm.openapi.yaml").read_text())
    return Contract(ContractSpec(document, "crm.openapi.yaml"), seed=3)


def test_a_request_missing_a_required_field_is_refused_naming_it(crm: Contract) -> None:
    checked = crm.check("POST", "/v1/contacts", json.dumps({"email": "ada@example.com"}))
    assert checked.status == 422
    assert checked.problems == ("$: required field 'name' is missing",)
    assert checked.operation == "POST /contacts"


def test_types_and_formats_are_checked_without_repeating_the_values(crm: Contract) -> None:
    body = {"email": "not-an-address", "name": 7}
    checked = crm.check("POST", "/contacts", json.dumps(body))
    assert checked.problems == ("$.email: must be a valid email", "$.name: must be of type string")
    assert "not-an-address" not in json.dumps(checked.body)


def test_unknown_paths_and_methods_get_the_apis_answers(crm: Contract) -> None:
    assert crm.check("POST", "/v1/deals", "{}").status == 404
    refused = crm.check("DELETE", "/v1/contacts/42", "")
    assert refused.status == 405 and refused.operation == "DELETE /contacts/{id}"
    assert crm.check("GET", "/v1/contacts/42", "").problems == ()


def test_a_valid_request_gets_a_body_its_response_schema_allows(crm: Contract) -> None:
    checked = crm.check("POST", "/v1/contacts", json.dumps({"email": "a@b.io", "name": "Ada"}))
    assert checked.problems == () and checked.status == 201
    document = yaml.safe_load((DOCS / "crm.openapi.yaml").read_text())
    contact = {"$ref": "#/components/schemas/Contact", "components": document["components"]}
    jsonschema.validate(checked.body, contact)


def test_a_contract_that_is_not_openapi_is_refused_at_its_line(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    (tmp_path / "crm.openapi.yaml").write_text("info: {}\nopenapi: '2.0'\n")
    path = tmp_path / "s.yaml"
    path.write_text(
        scenario_text() + "downstreams:\n  - name: crm\n    contract: {file: crm.openapi.yaml}\n"
    )
    error = error_of(path)
    assert error.startswith(f"{tmp_path / 'crm.openapi.yaml'}:2: not an OpenAPI 3 document")


def test_a_contract_names_the_invariant_unless_the_scenario_names_its_own(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    scenario = load_scenario(tmp_path / "order-paid.yaml")
    assert "effects_match_contract" in [i.name for i in scenario.invariants]
    path = tmp_path / "own.yaml"
    path.write_text(
        scenario_text() + "downstreams:\n  - name: crm\n    contract: {file: crm.openapi.yaml}\n"
        "invariants: [no_lost_events]\n"
    )
    assert [i.name for i in load_scenario(path).invariants] == ["no_lost_events"]


def test_no_contract_is_inconclusive_and_contract_marks_are_judged() -> None:
    plain = clean_ledger()
    [verdict] = judge(plain, [InvariantSpec("effects_match_contract")])
    assert verdict.status is Status.INCONCLUSIVE
    assert "no downstream has a contract" in verdict.summary
    checked = clean_ledger()
    checked.marks.append(Mark(0.0, CONTRACT_MARK, json.dumps(CRM)))
    [verdict] = judge(checked, [InvariantSpec("effects_match_contract")])
    assert verdict.status is Status.PASS, verdict.summary
    refused = {"effect": "eff_2", "operation": "POST /contacts", "problems": ["$: no"], **CRM}
    checked.marks.append(Mark(1.0, CONTRACT_VIOLATION_MARK, json.dumps(refused)))
    [verdict] = judge(checked, [InvariantSpec("effects_match_contract")])
    assert verdict.status is Status.FAIL
    assert verdict.failure_class is FailureClass.SILENT
    assert verdict.evidence.effect_ids == ("eff_2",)
    assert "POST /contacts to api: the API would refuse it — $: no" in verdict.evidence.lines[0]


CRM = {"downstream": "api", "document": "crm.openapi.yaml"}


# --- real processes on loopback -------------------------------------------------------------


@pytest.mark.integration
def test_an_automation_that_sends_the_required_fields_holds(tmp_path: Path) -> None:
    with automation("contact_sync", "/hooks/orders") as target:
        done, report = run(target, str(SCENARIO), tmp_path)
    contract = verdicts(report)["effects_match_contract"]
    assert contract["status"] == "pass", said(contract)
    assert "match the contract" in contract["summary"]
    assert done.code == 0, done.out


@pytest.mark.integration
def test_an_automation_that_drops_a_required_field_fails(tmp_path: Path) -> None:
    renamed = {"CONTACT_NAME_FIELD": "full_name"}
    with automation("contact_sync", "/hooks/orders", renamed) as target:
        done, report = run(target, str(SCENARIO), tmp_path)
    contract = verdicts(report)["effects_match_contract"]
    assert contract["status"] == "fail", said(contract)
    assert "required field 'name' is missing" in said(contract)
    assert "POST /contacts" in contract["summary"]
    assert done.code == 1
    # Judged again offline, from the journal alone: the same verdict.
    runs = load_all(tmp_path / "journal.db")
    [history] = [h for h in runs if not h.info.scenario.endswith("-baseline")]
    [again] = judge(history, [InvariantSpec("effects_match_contract")])
    assert again.status.value == "fail"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("change", "found"),
    [
        (("openapi: 3.1.0", "openapi: 2.0"), "orders.openapi.yaml:1: not an OpenAPI 3 document"),
        (("schemas/Customer", "schemas/Nobody"), "leads nowhere"),
    ],
)
def test_bad_documents_exit_2_with_one_line_and_no_traceback(
    tmp_path: Path, change: tuple[str, str], found: str
) -> None:
    copy_docs(tmp_path)
    document = tmp_path / "orders.openapi.yaml"
    document.write_text(document.read_text().replace(*change))
    done = harness("run", str(tmp_path / "order-paid.yaml"), "--target", "http://127.0.0.1:9/x")
    assert done.code == 2, done.out + done.err
    assert found in done.err
    assert "Traceback" not in done.err


@pytest.mark.integration
def test_unknown_webhook_through_the_command(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    scenario = tmp_path / "order-paid.yaml"
    scenario.write_text(scenario.read_text().replace("webhook: order.paid", "webhook: refund"))
    done = harness("run", str(scenario), "--target", "http://127.0.0.1:9/x")
    assert done.code == 2
    assert f"{scenario}:{line_of(scenario, 'webhook:')}: source.openapi.webhook: " in done.err
    assert "Traceback" not in done.err


def test_a_project_makes_its_events_from_a_webhook_and_drift_picks_schema_fields(
    tmp_path: Path,
) -> None:
    copy_docs(tmp_path)
    path = tmp_path / "harness.yaml"
    path.write_text(
        "provider: standard-webhooks\nevents:\n  - openapi: orders.openapi.yaml\n"
        "    webhook: order.paid\n    id: $.id\n    key: $.data.order_id\n    type: $.type\n"
        "downstreams:\n  - name: crm\n    contract: {file: crm.openapi.yaml}\n"
    )
    found = resolve_hazards(
        ["renamed-field", "missing-field", "duplicate-storm"], load_project(path)
    )
    assert not found.skipped
    schema = next(iter(found.scenarios)).source
    assert isinstance(schema, SchemaSource)
    properties = {p for p, _ in leaves(schema.example)}
    for scenario in found.scenarios:
        assert isinstance(scenario.source, SchemaSource)
        assert scenario.downstreams[0].contract is not None
        for p in scenario.perturbations:
            if "path" in p.params:
                assert p.params["path"] in properties, p
    drift = [p for s in found.scenarios for p in s.perturbations if "path" in p.params]
    assert {"rename_field", "drop_field"} <= {p.kind for p in drift}
    events = load_stream(found.scenarios[0].source, 1).events
    assert len(events) == found.scenarios[0].source.events


def leaves(example: object) -> list[tuple[str, object]]:
    from harness.core import _paths

    return [(_paths.render(steps), value) for steps, value in _paths.leaves(example)]


def test_a_project_webhook_needs_its_key(tmp_path: Path) -> None:
    copy_docs(tmp_path)
    path = tmp_path / "harness.yaml"
    path.write_text("events:\n  - openapi: orders.openapi.yaml\n    webhook: order.paid\n")
    with pytest.raises(ScenarioError) as caught:
        load_project(path)
    assert f"{path}:2: events[0]: has openapi and no key" in str(caught.value)


def test_without_the_openapi_extra_a_schema_source_names_it(tmp_path: Path) -> None:
    """Schemathesis is an extra: without it, loading says how to install it (exit 2's error)."""
    copy_docs(tmp_path)
    code = textwrap.dedent(
        f"""
        import sys
        class NoSchemathesis:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "schemathesis":
                    raise ImportError("not installed")
        sys.meta_path.insert(0, NoSchemathesis())
        from harness.core._errors import ScenarioError
        from harness.scenario._load import load_scenario
        try:
            load_scenario({str(tmp_path / "order-paid.yaml")!r})
        except ScenarioError as exc:
            print(exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "pip install 'automation-harness[openapi]'" in done.stdout, done.stdout + done.stderr
    assert "orders.openapi.yaml:" in done.stdout


def test_inside_a_hypothesis_test_the_same_events_are_drawn() -> None:
    """``harness explore`` and users' own property tests run harness runs inside @given."""
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    alone = draw_instances(schema, 5, 1)
    inside: list[list[object]] = []

    @settings(max_examples=2, database=None, deadline=None)
    @given(st.integers())
    def outer(_: int) -> None:
        inside.append(draw_instances(schema, 5, 1))

    outer()
    assert inside == [alone, alone]
