"""The YAML of a downstream's life: ``auth:``, ``page_size:``, ``shape_changes:`` under a
downstream, ``rate-limit`` with ``rate:`` under faults — what loads, and every bad value refused
at its file:line with what to write instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core._errors import ScenarioError
from harness.core._scenario import AuthSpec, ShapeChange
from harness.scenario._load import load_scenario

HEAD = """\
source:
  synthetic:
    example: {id: evt_1, data: {order_id: ord_1}}
    events: 4
    records: 2
    over: 1s
"""


def write(folder: Path, text: str) -> Path:
    path = folder / "life.scenario.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    return path


def test_a_downstreams_life_loads_into_the_scenario(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
downstreams:
  - name: crm
    stateful: true
    page_size: 20
    auth: {kind: oauth, token_path: /v1/token, lifetime: 1h}
    shape_changes:
      - {at: 10s, rename: {amount: amount_cents}, route: GET /deals/*}
  - name: mail
    auth: {kind: api-key, header: X-Api-Key, key_env: MAIL_KEY, next_key_env: MAIL_KEY_2,
           rotate_at: 2h}
faults:
  - {downstream: crm, mode: rate-limit, rate: 5, at: 0s, for: 1m}
""",
    )
    scenario = load_scenario(path)
    crm, mail = scenario.downstreams
    assert crm.auth == AuthSpec("oauth", token_path="/v1/token", lifetime=3600.0)
    assert crm.page_size == 20
    assert crm.shape_changes == (ShapeChange(10.0, {"amount": "amount_cents"}, "GET /deals/*"),)
    assert mail.auth == AuthSpec(
        "api-key", header="X-Api-Key", key_env="MAIL_KEY", next_key_env="MAIL_KEY_2", rotate_at=7200
    )
    (fault,) = scenario.faults
    assert (fault.mode, fault.rate) == ("rate-limit", 5.0)


BAD = [
    (
        "downstreams:\n  - name: crm\n    auth: {kind: saml}\n",
        "9: downstreams[0].auth.kind: 'saml' is not allowed — must be one of: oauth, api-key",
    ),
    (
        "downstreams:\n  - name: crm\n    auth: {kind: oauth, lifetime: 0s}\n",
        "9: downstreams[0].auth.lifetime: '0s' is not allowed — must be a duration greater than 0",
    ),
    (
        "downstreams:\n  - name: crm\n    auth:\n      kind: oauth\n      key_env: X_KEY\n",
        "9: downstreams[0].auth: has key_env, which oauth does not use — oauth takes token_path "
        "and lifetime, api-key takes header, key_env, next_key_env and rotate_at",
    ),
    (
        "downstreams:\n  - name: crm\n    auth:\n      kind: api-key\n      rotate_at: 72h\n",
        "9: downstreams[0].auth: gives only one of next_key_env and rotate_at — a rotation needs "
        "both",
    ),
    (
        "downstreams:\n  - name: crm\n    auth: {kind: api-key, key_env: sk_live_abcdef}\n",
        "9: downstreams[0].auth.key_env: 'sk…' (14 chars) is not an environment variable name",
    ),
    (
        "downstreams:\n  - name: crm\n    auth: {kind: oauth, token_path: '/oauth/{x}'}\n",
        "9: downstreams[0].auth: has token_path '/oauth/{x}' — give one literal path",
    ),
    (
        "downstreams:\n  - name: crm\n    stateful: true\n    page_size: 0\n",
        "10: downstreams[0].page_size: 0 is not allowed — must be an integer greater than 0",
    ),
    (
        "downstreams:\n  - name: crm\n    page_size: 10\n",
        "9: downstreams[0].page_size: 10 is not allowed without stateful: true",
    ),
    (
        "downstreams:\n  - name: crm\n    shape_changes:\n      - {at: 1s, rename: {}}\n",
        "10: downstreams[0].shape_changes[0].rename: {} is not allowed — must be a mapping of "
        "field names to their new names",
    ),
    (
        "downstreams:\n  - name: crm\n    shape_changes:\n"
        "      - {at: 1s, rename: {a: b}, route: 'GET deals'}\n",
        "10: downstreams[0].shape_changes[0].route: 'GET deals' is not allowed",
    ),
    (
        "downstreams:\n  - name: crm\n    forward_to: http://127.0.0.1:9\n"
        "    auth: {kind: oauth}\n",
        "10: downstreams[0].auth is not allowed with forward_to — the real API checks its own",
    ),
    (
        "downstreams: [{name: crm}]\nfaults:\n"
        "  - {downstream: crm, mode: rate-limit, at: 0s, for: 1m}\n",
        "9: faults[0]: has mode: rate-limit without rate — say how many calls a real second",
    ),
    (
        "downstreams: [{name: crm}]\nfaults:\n"
        "  - {downstream: crm, mode: rate-limit, rate: -1, at: 0s, for: 1m}\n",
        "9: faults[0].rate: -1 is not allowed — must be a number greater than 0",
    ),
    (
        "downstreams: [{name: crm}]\nfaults:\n"
        "  - {downstream: crm, mode: status, rate: 3, at: 0s, for: 1m}\n",
        "9: faults[0]: has rate, which only mode: rate-limit uses",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD, ids=[m.split(":")[1] for _, m in BAD])
def test_a_bad_value_is_refused_at_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}:{message}")
