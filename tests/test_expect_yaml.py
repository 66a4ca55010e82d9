"""``expect:`` and ``baseline:`` in scenario files: what they build, and what bad ones are told."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core._errors import InputError
from harness.core._scenario import ExpectedRequest, ExpectSpec, InvariantSpec
from harness.engine import without_baseline
from harness.scenario._load import load_scenario

from .test_scenario_yaml import error_of, write

SOURCE = """\
source:
  synthetic:
    example: {id: evt_1, type: order.paid, data: {order_id: ord_1}}
    types: [order.created, order.paid]
    events: 4
    records: 2
    over: 1s
    type: $.type
"""
ONE_DOWNSTREAM = "downstreams: [{name: api}]\n"
TWO_DOWNSTREAMS = "downstreams: [{name: api}, {name: crm}]\n"


def test_expect_builds_one_spec_per_type(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SOURCE
        + TWO_DOWNSTREAMS
        + """\
expect:
  order.paid:
    - POST /payouts
    - {request: "put /contacts/{id}", downstream: crm, count: 2}
  order.created: none
""",
    )
    scenario = load_scenario(path)
    assert scenario.expect == (
        ExpectSpec(
            "order.paid",
            (
                ExpectedRequest("POST", "/payouts", None, 1),
                ExpectedRequest("PUT", "/contacts/{id}", "crm", 2),
            ),
        ),
        ExpectSpec("order.created", ()),
    )
    assert scenario.baseline is True


def test_one_request_alone_and_the_only_downstream_filled_in(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + ONE_DOWNSTREAM + "expect: {order.paid: POST /payouts}\n")
    assert load_scenario(path).expect == (
        ExpectSpec("order.paid", (ExpectedRequest("POST", "/payouts", "api", 1),)),
    )


@pytest.mark.parametrize(
    ("block", "line", "message"),
    [
        (
            "expect:\n  order.payed: [POST /payouts]\n",
            11,
            "expect.order.payed: 'order.payed' is not allowed — no event of the source has that "
            "type; its events are of type order.created, order.paid (did you mean 'order.paid'?)",
        ),
        (
            "expect:\n  order.paid:\n    - {request: POST /payouts, downstream: crn}\n",
            12,
            "expect.order.paid[0].downstream: 'crn' is not allowed — must name one of the "
            "scenario's downstreams: api",
        ),
        (
            "expect:\n  order.paid: [/payouts]\n",
            11,
            "expect.order.paid[0].request: '/payouts' is not allowed — must be an HTTP method "
            "and a path, like 'POST /deals' or 'PUT /contacts/{id}'",
        ),
        (
            'expect:\n  order.paid: ["* /payouts"]\n',
            11,
            "must be an HTTP method and a path",
        ),
        (
            "expect:\n  order.paid: ['POST /pay{outs}']\n",
            11,
            "must be a method and a path whose segments are literal, a whole '{name}', or a "
            "trailing '*'",
        ),
        (
            "expect:\n  order.paid:\n    - {request: POST /payouts, count: 0}\n",
            12,
            "expect.order.paid[0].count: 0 is not allowed — must be an integer greater than 0",
        ),
        (
            "expect:\n  order.paid:\n    - {request: POST /payouts, cout: 2}\n",
            12,
            "expect.order.paid[0]: unknown field 'cout' — allowed: request, downstream, count "
            "(did you mean 'count'?)",
        ),
        (
            "expect:\n  order.paid: []\n",
            11,
            "expect.order.paid: [] is not allowed — must list at least one request — write none "
            "for a type the automation ignores on purpose",
        ),
        (
            "expect: [POST /payouts]\n",
            10,
            "expect: ['POST /payouts'] is not allowed — must be a mapping of event types to the "
            "requests each event of the type must cause",
        ),
        (
            "baseline: 'off'\n",
            10,
            "baseline: 'off' is not allowed — must be true or false",
        ),
        (
            "invariants: [no_lost_events, final_state_matches_baseline]\nbaseline: false\n",
            11,
            "baseline: false is not allowed — final_state_matches_baseline compares the run "
            "with the clean run; remove it from invariants, or leave baseline out",
        ),
    ],
)
def test_bad_expect_or_baseline_names_its_line(
    tmp_path: Path, block: str, line: int, message: str
) -> None:
    path = write(tmp_path, SOURCE + ONE_DOWNSTREAM + block)
    error = error_of(path)
    assert error.startswith(f"{path}:{line}: "), error
    assert message in error, error


def test_a_recorded_sources_types_are_not_known_before_it_is_read(tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text(json.dumps({"id": "e1", "type": "a"}) + "\n")
    path = write(
        tmp_path,
        "source: {recorded: {file: events.jsonl}}\nexpect: {anything: none}\nbaseline: false\n",
    )
    scenario = load_scenario(path)
    assert scenario.expect == (ExpectSpec("anything"),)
    assert scenario.baseline is False


def test_no_baseline_refuses_a_scenario_that_compares_final_states(tmp_path: Path) -> None:
    path = write(tmp_path, SOURCE + "invariants: [final_state_matches_baseline]\n")
    scenario = load_scenario(path)
    assert scenario.invariants == (InvariantSpec("final_state_matches_baseline"),)
    with pytest.raises(InputError) as caught:
        without_baseline([scenario], "--no-baseline")
    assert "names final_state_matches_baseline, which compares the run with the clean run" in (
        str(caught.value)
    )
    plain = load_scenario(write(tmp_path, SOURCE, "plain.yaml"))
    assert [s.baseline for s in without_baseline([plain], "--no-baseline")] == [False]
