"""``harness record``: a capture proxy in front of a real automation process, on loopback.

The proxy forwards a live run to the sound demo (which verifies every signature, so a byte
changed on the way fails the run), passes its answers back, and writes the capture file with
PII pseudonymised consistently and no signature, secret or raw email on disk.
"""

from __future__ import annotations

import json
import re
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.cli._processes import Service, free_port
from harness.history import load_all

from .conftest import SECRET, Automation, harness, run_against, start_automation, start_module

pytestmark = pytest.mark.integration

KEY = "capture-key-0123456789abcdef"
OTHER_KEY = "another-key-0123456789abcdef"
NAME = ("--pseudonymise", "$.data.customer.name")
SCENARIO = """\
name: captured
model: ledger
source:
  synthetic:
    example:
      id: evt_1
      type: order.paid
      occurred_at: "2026-01-01T00:00:00Z"
      sequence: 1
      data:
        order_id: ord_1
        customer: {name: Ada Lovelace, email: ada@example.com, phone: "+1 415-555-0132"}
        amount: 1999
        currency: usd
        note: Gift wrap please
        api_key: sk_live_abcdefghijklmnop
    events: 6
    records: 3
    over: 1s
    id: $.id
    key: $.data.order_id
    type: $.type
    sequence: $.sequence
    time: $.occurred_at
invariants: [no_lost_events, no_duplicate_effects]
downstreams:
  - name: api
    routes:
      - {method: POST, path: /payouts, status: 201}
delivery: {signing: standard-webhooks, secret_env: HARNESS_SECRET, timeout: 5s}
settle: {quiet: 1s, deadline: 20s}
"""
BODY = {
    "id": "evt_9",
    "data": {
        "customer": {"name": "Grace Hopper", "email": "Grace.Hopper@navy.example.com"},
        "contact": "grace.hopper@navy.example.com",
        "phone": "+44 20 7946 0958",
        "token": "tok_very_secret_value",
        "amount": 1.50,
    },
}


@contextmanager
def proxy(forward_to: str, output: Path, *args: str, key: str | None = KEY) -> Iterator[Service]:
    """``harness record`` in front of ``forward_to``; ``key`` None: --no-pseudonymise."""
    keyed = ["--key-env", "CAPTURE_KEY"] if key is not None else ["--no-pseudonymise"]
    listen = ["--listen", "127.0.0.1:0", "--forward-to", forward_to, "-o", str(output)]
    service = start_module(
        "record",
        "harness",
        ["record", *listen, *keyed, *args],
        {"CAPTURE_KEY": key or "", "HARNESS_SECRET": SECRET},
    )
    try:
        yield service
    finally:
        service.stop()


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def shape(text: str) -> str:
    """Letters as a/A, digits as 9: what format-preserving keeps — any letter, "é" and "Ł"
    as "a" and "A" (a synthetic name may hold them: several faker locales)."""
    return "".join(
        "A" if c.isupper() else "a" if c.isalpha() else "9" if c.isdigit() else c for c in text
    )


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_live_run_through_the_proxy_passes_and_is_captured_scrubbed(
    sound: Automation, tmp_path: Path
) -> None:
    capture = tmp_path / "capture.jsonl"
    scenario = tmp_path / "captured.scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    phone = ("--pseudonymise", "$.data.customer.phone")  # faker writes some as bare digits
    with proxy(sound.service.url, capture, *NAME, *phone) as p:
        done = harness(
            "run",
            str(scenario),
            "--no-project",
            "--target",
            p.url + "/hooks/orders",
            "--downstream",
            f"127.0.0.1:{sound.downstream_port}",
            "--journal",
            str(tmp_path / "run.db"),
        )
    # The sound demo verified every signature: the proxy changed no byte on the way.
    assert done.code == 0, done.err
    captured = lines(capture)
    sent_payloads = {e.id: e.payload for h in load_all(tmp_path / "run.db") for e in h.events}
    assert len(captured) == 12  # the clean run's 6 deliveries and the run's 6
    text = capture.read_text(encoding="utf-8")
    compared = 0
    for line in captured:
        assert line["method"] == "POST" and line["path"] == "/hooks/orders"
        assert line["response"]["status"] == 202  # type: ignore[index]  # the sound demo acks
        headers = {k.lower() for k in line["headers"]}  # type: ignore[union-attr]
        assert "webhook-id" in headers and "webhook-signature" not in headers
        body = json.loads(line["body"])  # type: ignore[arg-type]
        customer = body["data"]["customer"]
        assert re.fullmatch(r"user_[0-9a-f]{10}@example\.invalid", customer["email"])
        if body["id"] not in sent_payloads:  # the clean run's, journalled apart
            continue
        compared += 1
        sent = sent_payloads[body["id"]]["data"]["customer"]
        # Each digit replaced, the punctuation kept: the shape of the number sent.
        assert shape(customer["phone"]) == shape(sent["phone"])
        assert customer["phone"] != sent["phone"]
        assert body["data"]["api_key"] == "[redacted]"
        # A name stays words of the same lengths and capitals (the tracer's token included).
        assert shape(customer["name"]) == shape(sent["name"])
        assert customer["name"] != sent["name"]
    assert compared == 6
    replay_capture(capture, tmp_path)
    # Whole words: a pseudonym's hex may hold "ada" by chance (user_0740b9ada1@...).
    for raw in ("ada", "Ada", "Lovelace", "sk_live_", "415-555-0132", SECRET, SECRET[6:]):
        assert re.search(rf"(?<![0-9A-Za-z]){re.escape(raw)}", text) is None, raw


REPLAY = """\
name: replayed
model: ledger
source:
  recorded:
    file: {file}
    format: capture
    key: $.data.order_id
correlate:
  - {{effect: {{header: Idempotency-Key}}, event: $.id}}
invariants: [no_lost_events, no_duplicate_effects]
downstreams:
  - name: api
    routes: [{{method: POST, path: /payouts, status: 201}}]
delivery: {{signing: standard-webhooks, secret_env: HARNESS_SECRET, timeout: 5s}}
settle: {{quiet: 1s, deadline: 20s}}
"""


def replay_capture(capture: Path, tmp_path: Path) -> None:
    """The capture replays as a recorded source, re-signed, with no raw PII on disk after it —
    against a fresh automation: the one recorded remembers the ids and drops them as repeats."""
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    sound = start_automation("sound", fresh)
    try:
        replay_against(sound, capture, tmp_path)
    finally:
        sound.service.stop()


def replay_against(sound: Automation, capture: Path, tmp_path: Path) -> None:
    scenario = tmp_path / "replayed.scenario.yaml"
    scenario.write_text(REPLAY.format(file=capture), encoding="utf-8")
    done = run_against(sound, scenario, tmp_path / "replay.db")
    assert done.code == 0, done.out + done.err
    assert "12 deliveries" in done.out or "12 events" in done.out, done.out
    for raw in (b"Lovelace", b"sk_live_"):
        assert raw not in (tmp_path / "replay.db").read_bytes()


def test_the_answer_goes_back_and_the_same_key_gives_the_same_pseudonyms(
    sound: Automation, tmp_path: Path
) -> None:
    data = json.dumps(BODY).encode()
    headers = {"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=deadbeef"}
    captures = [tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"]
    answers = []
    for capture, key in zip(captures, (KEY, KEY, OTHER_KEY), strict=True):
        with proxy(sound.service.url, capture, "--max", "1", *NAME, key=key) as p:
            answers.append(
                post(p.url + "/hooks/orders?email=grace%40navy.example.com", data, headers)
            )
            assert p.process.wait(10) == 0  # --max 1: it stops by itself, file written
    # The sound demo's own answer to a bad signature, passed back as it gave it.
    status, answer_headers, body = answers[0]
    assert status == 401 and b"signature" in body.lower()
    assert answer_headers["Content-Type"].startswith("application/json")
    a, b, c = (lines(path)[0] for path in captures)
    assert a["body"] == b["body"] and a["query"] == b["query"]  # one key, one pseudonym
    assert a["body"] != c["body"]
    scrubbed = json.loads(a["body"])  # type: ignore[arg-type]
    # One person, one pseudonym, whatever the case of the address.
    assert scrubbed["data"]["customer"]["email"] == scrubbed["data"]["contact"]
    assert re.fullmatch(r"\+44 \d\d \d{4} \d{4}", scrubbed["data"]["phone"])
    assert scrubbed["data"]["token"] == "[redacted]"
    assert scrubbed["data"]["amount"] == 1.5 and '"amount": 1.5}' in a["body"]  # type: ignore[operator]
    assert "Stripe-Signature" not in a["headers"]  # type: ignore[operator]
    for path in captures:
        text = path.read_text(encoding="utf-8")
        for raw in ("grace", "Grace", "7946", "tok_very", "deadbeef"):
            assert raw not in text, raw


def test_sigterm_stops_the_proxy_cleanly_with_the_file_written(
    sound: Automation, tmp_path: Path
) -> None:
    capture = tmp_path / "capture.jsonl"
    with proxy(sound.service.url, capture) as p:
        post(p.url + "/hooks/orders", b'{"id": "evt_1"}', {"Content-Type": "application/json"})
        p.process.send_signal(signal.SIGTERM)
        assert p.process.wait(10) == 0
    assert len(lines(capture)) == 1


def test_no_pseudonymise_keeps_pii_and_still_drops_secrets(
    sound: Automation, tmp_path: Path
) -> None:
    capture = tmp_path / "capture.jsonl"
    with proxy(sound.service.url, capture, "--max", "1", key=None) as p:
        post(p.url + "/x", json.dumps(BODY).encode(), {"Authorization": "Bearer abcdefgh"})
        assert p.process.wait(10) == 0
    text = capture.read_text(encoding="utf-8")
    assert "Grace.Hopper@navy.example.com" in text
    assert "tok_very" not in text and "abcdefgh" not in text


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--listen", "nonsense:x"], {"K": KEY}, "--listen"),
        (["--listen", "10.1.2.3:0"], {"K": KEY}, "not a loopback"),
        (["--forward-to", "http://example.com/"], {"K": KEY}, "--allow-host example.com"),
        (["--forward-to", "ftp://127.0.0.1/"], {"K": KEY}, "--forward-to"),
        ([], {}, "--key-env: the environment variable K is not set"),
        ([], {"K": "short"}, "fewer than 16"),
        (["--pseudonymise", "data.email"], {"K": KEY}, "--pseudonymise"),
        (["--max", "0"], {"K": KEY}, "--max"),
        (["--for", "-1"], {"K": KEY}, "--for"),
        (["--for", "ten"], {"K": KEY}, "--for: 'ten' is not a duration"),
    ],
)
def test_bad_inputs_exit_2_before_listening(
    tmp_path: Path, args: list[str], env: dict[str, str], says: str
) -> None:
    base = {"--listen": "127.0.0.1:0", "--forward-to": "http://127.0.0.1:9/", "--key-env": "K"}
    for flag in args[::2]:
        base.pop(flag, None)
    argv = [x for pair in base.items() for x in pair] + args
    done = harness("record", *argv, "-o", str(tmp_path / "c.jsonl"), env=env)
    assert done.code == 2, done.err
    assert says in done.err and "Traceback" not in done.err
    assert len(done.err.strip().splitlines()) <= 2  # the error and its hint
    assert not (tmp_path / "c.jsonl").exists()


def test_without_a_key_it_refuses_and_says_how(tmp_path: Path) -> None:
    done = harness(
        "record",
        "--listen",
        "127.0.0.1:0",
        "--forward-to",
        "http://127.0.0.1:9/",
        "-o",
        str(tmp_path / "c.jsonl"),
    )
    assert done.code == 2
    assert "--key-env" in done.err and "--no-pseudonymise" in done.err


def test_an_automation_that_is_down_is_a_502_and_the_delivery_is_still_captured(
    tmp_path: Path,
) -> None:
    capture = tmp_path / "capture.jsonl"
    down = f"http://127.0.0.1:{free_port()}"
    with proxy(down, capture, "--for", "30", "--max", "1") as p:
        status, _, body = post(p.url + "/hooks/orders", b'{"id": "evt_1"}', {})
        assert p.process.wait(10) == 0
    assert status == 502 and b"could not be reached" in body
    [line] = lines(capture)
    assert line["response"]["status"] == 502  # type: ignore[index]


@pytest.mark.parametrize("duration", ["0.5", "500ms"])
def test_for_a_duration_stops_it_with_nothing_captured(tmp_path: Path, duration: str) -> None:
    capture = tmp_path / "capture.jsonl"
    with proxy("http://127.0.0.1:9", capture, "--for", duration) as p:
        assert p.process.wait(10) == 0
    assert capture.read_text(encoding="utf-8") == ""
