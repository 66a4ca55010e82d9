"""The Redactor's recognitions: URL userinfo, credential-like query parameters, the signing
secret by its keyed fingerprint, the environment's secrets, values redacted under a secret key
wherever else they appear (numbers too); and the CLI lines printed before a run is known."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from harness.cli._processes import free_port
from harness.core._fingerprint import Fingerprint, fingerprint
from harness.core._model import Delivery, Effect, Event, Model, Outcome
from harness.history import History, Journal, RunInfo, load, payload_text
from harness.report._redact import SECRET_LABEL, Redactor

from .conftest import harness, listening

SECRET = "whsec_c2VlZGVkLXNpZ25pbmcta2V5LTEyMzQ1Ng=="  # base64 with '/'-free padding


def _history(
    *,
    settings: dict[str, object] | None = None,
    payload: object = None,
    effect_body: str = "{}",
    answer_body: str | None = None,
    target: str = "http://127.0.0.1:8000/hook",
) -> History:
    info = RunInfo(
        run_id="r@zq",
        scenario="s",
        seed=1,
        target=target,
        target_name="127.0.0.1:8000",
        model=Model.LEDGER,
        invariants=(),
        started_at="2026-01-01T00:00:00+00:00",
        tracer_tag="zq",
        settings=settings or {},
    )
    event = Event(id="evt_1", key="k1", seq=1, type="t", occurred_at=0.0, payload=payload or {})
    delivery = Delivery("dlv_1", "evt_1", 1, 0.0, 0.0, 0.1, 500, Outcome.FAILED, None, answer_body)
    effect = Effect("eff_1", "api", 0.2, "POST", "/x", {}, effect_body, 201, ("evt_1",))
    return History(info, [event], [delivery], [effect])


def test_url_userinfo_is_replaced_in_any_text_and_its_password_anywhere() -> None:
    r = Redactor.for_runs([_history(target="http://alice:pa55w0rd-xyz@127.0.0.1:8000/h")], {})
    assert r.text("GET http://alice:pa55w0rd-xyz@127.0.0.1:8000/h") == (
        "GET http://[redacted]@127.0.0.1:8000/h"
    )
    assert "pa55w0rd-xyz" not in r.text("the password was pa55w0rd-xyz")
    assert r.text("mail ada@example.com") == "mail ada@example.com"


@pytest.mark.parametrize(
    "query",
    [
        "?api_key=V",
        "?apikey=V",
        "&access_token=V",
        "?client_secret=V",
        "?X-Amz-Signature=V",
        "?password=V",
        "?key=V",
        "?code=V",
        ";jsessionid=V",
        "?refresh_token=V",
    ],
)
def test_credential_query_parameters_are_replaced(query: str) -> None:
    shown = Redactor().text(f"POST /hooks/orders{query.replace('V', 'seedvalue123')}&page=2")
    assert "seedvalue123" not in shown and "[redacted]" in shown and "page=2" in shown


def test_a_neutral_query_is_kept() -> None:
    assert Redactor().text("GET /orders?page=2&id=7&sort=asc") == "GET /orders?page=2&id=7&sort=asc"


def test_a_query_value_is_redacted_wherever_else_it_appears() -> None:
    h = _history()
    h.effects[0] = dataclasses.replace(h.effects[0], path="/x?api_key=seedvalue123")
    r = Redactor.for_runs([h], {})
    assert "seedvalue123" not in r.body('{"echo": "seedvalue123"}')


def test_the_fingerprint_recognises_the_secret_with_its_variable_unset() -> None:
    stored = fingerprint(SECRET)
    assert SECRET not in json.dumps(stored)
    r = Redactor.for_runs([_history(settings={"secret_fingerprint": stored})], {})
    for shown in (
        f"Bearer {SECRET}",
        json.dumps({"debug": SECRET}),
        f"/hooks/{SECRET}/x",
        f"/cb?k={quote(SECRET, safe='')}",
        f"header X-Debug: {SECRET}, more",
    ):
        assert SECRET not in r.text(shown), shown
        assert quote(SECRET, safe="") not in r.text(shown), shown
    assert r.text(f"echo {SECRET}") == f"echo {SECRET_LABEL}"
    # Learned once, then replaced wherever it appears, even glued to other text.
    assert SECRET not in r.text(f"x{SECRET}y")
    assert r.text(SECRET[:-3] + "zzz") == SECRET[:-3] + "zzz"


def test_a_fingerprint_matches_only_its_secret() -> None:
    found = Fingerprint.parse(fingerprint(SECRET))
    assert found is not None and found.matches(SECRET) and not found.matches(SECRET + "x")
    assert Fingerprint.parse({"salt": "zz", "hmac": "00"}) is None
    assert Fingerprint.parse(None) is None
    # A new salt per run: two fingerprints of one secret differ.
    assert fingerprint(SECRET) != fingerprint(SECRET)


def test_secrets_of_the_environment_are_replaced() -> None:
    env = {"GITHUB_TOKEN": "ghp_seed0123456789", "DB_PASSWORD": "hunter2hunter2", "HOME": "/root"}
    r = Redactor.for_environment(env)
    assert r.text("token ghp_seed0123456789 pw hunter2hunter2 in /root") == (
        f"token {SECRET_LABEL} pw {SECRET_LABEL} in /root"
    )


def test_a_number_redacted_under_a_secret_key_is_redacted_under_any_key() -> None:
    payload = {"card_number": 4242424242424242, "reference": 4242424242424242, "amount": 1999}
    r = Redactor.for_runs([_history(payload=payload)], {})
    shown = r.payload("r@zq", payload)
    assert shown["card_number"] == shown["reference"]
    assert str(shown["reference"]).startswith("[redacted") and shown["amount"] == 1999
    body = r.body(json.dumps({"ref": 4242424242424242, "n": 7}))
    assert json.loads(body)["ref"] == shown["reference"]  # still JSON, the same label


def test_values_under_secret_keys_in_effects_and_answers_are_redacted_anywhere() -> None:
    h = _history(
        effect_body=json.dumps({"card_number": "5555444433332222"}),
        answer_body='{"error": "bad", "api_key": "ak_seed_0987654321", "detail": "cut sho',
    )
    r = Redactor.for_runs([h], {})
    shown = r.text("evidence: 5555444433332222 and ak_seed_0987654321")
    assert "5555444433332222" not in shown and "ak_seed_0987654321" not in shown


def test_a_secret_key_spelt_with_escapes_in_a_body_is_found() -> None:
    """An automation's body may escape any character of a key (``\\u0074oken`` is "token"):
    a body with an escape is read as JSON, not searched as text; an answer's body cut short
    has its keys' escapes read."""
    h = _history(
        effect_body='{"\\u0074oken": "tok_escaped_0123456789"}',
        answer_body='{"api\\u005fkey": "ak_escaped_9876543210", "detail": "cut sho',
    )
    r = Redactor.for_runs([h], {})
    shown = r.text("evidence: tok_escaped_0123456789 and ak_escaped_9876543210")
    assert "tok_escaped_0123456789" not in shown and "ak_escaped_9876543210" not in shown


def test_a_forms_credential_field_with_a_percent_encoded_name_is_redacted() -> None:
    """``api%5Fkey`` is ``api_key`` once decoded, as the target reads the form or the
    query."""
    h = _history(effect_body="api%5Fkey=ak_form_0123456789&note=hi+there")
    shown = Redactor.for_runs([h], {}).text("evidence: ak_form_0123456789")
    assert "ak_form_0123456789" not in shown
    # And in a URL's query: an effect's path.
    effect = dataclasses.replace(h.effects[0], path="/charges?api%5Fkey=ak_path_0123456789#top")
    h = dataclasses.replace(h, effects=[effect])
    shown = Redactor.for_runs([h], {}).text("evidence: ak_path_0123456789")
    assert "ak_path_0123456789" not in shown


def test_a_card_number_key_in_camel_case_is_secret_looking() -> None:
    h = _history(effect_body=json.dumps({"cardNumber": "4111222233334444", "n": 1}))
    shown = Redactor.for_runs([h], {}).text("evidence: 4111222233334444")
    assert "4111222233334444" not in shown


def test_a_loaded_runs_payloads_are_searched_for_secrets_and_left_undecoded(tmp_path: Path) -> None:
    """A journal's payloads stay JSON text until read: the redaction decodes for itself, and
    does not keep, those whose text names a secret-looking key or may once decoded (an escape:
    here a key with a Kelvin sign, which lowers to "k"), and finds their secrets."""
    payloads: list[object] = [
        {"name": "Ada", "amount": 12},
        {"Api-Key": "ak_live_0001122334455"},
        {"to\u212aen": "tok_0009988776655"},
        {"note": "text, nothing hidden"},
    ]
    h = _history()
    events = [Event(f"e{i}", "k", i, "t", 0.0, p) for i, p in enumerate(payloads)]
    journal = Journal(tmp_path / "run.db")
    journal.begin(h.info, events)
    journal.end("complete", 1.0)
    journal.close()
    loaded = load(tmp_path / "run.db", h.info.run_id)
    r = Redactor.for_runs([loaded], {})
    assert [payload_text(e) is None for e in loaded.events] == [False] * 4
    shown = r.text("ak_live_0001122334455 and tok_0009988776655")
    assert "ak_live" not in shown and "tok_000" not in shown


def test_cli_errors_are_redacted(tmp_path: Path) -> None:
    done = harness(
        "run", "duplicate-storm", "--target", f"http://127.0.0.1:{free_port()}/h?token=seedtok987",
        "--journal", str(tmp_path / "j.db"), cwd=tmp_path,
    )  # fmt: skip
    assert done.code == 3
    assert "seedtok987" not in done.out + done.err and "token=[redacted]" in done.err


def test_cli_usage_errors_are_redacted(tmp_path: Path) -> None:
    done = harness("run", "x", "--target", "t", "--seed", "?api_key=seedtok987", cwd=tmp_path)
    assert done.code == 2
    assert "seedtok987" not in done.err and "api_key=[redacted]" in done.err


def test_the_standalone_double_prints_calls_redacted(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "downstream", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Waited for with a bare socket: an httpx error class can be another module's copy
        # here (pytester's inner runs restore sys.modules in this worker) and slip an except.
        assert listening(port, 30), "the double did not start"
        httpx.post(f"http://127.0.0.1:{port}/charges?api_key=seedtok987", json={})
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert "/charges?api_key=[redacted]" in out
    assert "seedtok987" not in out + err
