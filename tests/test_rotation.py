"""A signing-secret rotation and the sender's clock skew, as the signer writes them: the
published vectors inside two-signature headers, verified by the harness's own verifiers."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from harness.core._model import Delivery, Status
from harness.core._providers import PROVIDERS
from harness.core._scenario import DeliverySpec, SecretRotation
from harness.core._signing import (
    MULTI_SIGNATURE,
    SCHEMES,
    Rotation,
    Signer,
    check_rotation,
    verify,
)
from harness.drive._deliver import Deliverer
from harness.drive._schedule import Slot
from harness.drive._target import parse_target
from harness.scenario._load import load_scenario

from .test_providers import SLACK_BODY

# Standard Webhooks' published vector (PROVIDERS.md).
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID, SW_TS, SW_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
SW_SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
# Another whsec_ secret: the one rotated away from.
OLD_SW = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
GITHUB_SECRET, GITHUB_BODY = "It's a Secret to Everybody", b"Hello, World!"
GITHUB_SIG = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
SLACK_SECRET, SLACK_TS = "8f742231b10e8888abcd99yyyzzz85a5", 1531420618
SLACK_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def _rotating(scheme: str, old: str, new: str, start: float, end: float) -> Signer:
    return Signer(scheme, old, rotation=Rotation(new, start, end))


def test_standard_webhooks_overlap_carries_both_signatures_the_vector_second() -> None:
    signer = _rotating("standard-webhooks", OLD_SW, SW_SECRET, 10.0, 20.0)
    before = signer.headers(SW_BODY, SW_ID, SW_TS, at=9.9)["webhook-signature"]
    during = signer.headers(SW_BODY, SW_ID, SW_TS, at=10.0)["webhook-signature"]
    after = signer.headers(SW_BODY, SW_ID, SW_TS, at=20.0)["webhook-signature"]
    old_sig = Signer("standard-webhooks", OLD_SW).headers(SW_BODY, SW_ID, SW_TS)
    assert before == old_sig["webhook-signature"] != SW_SIG
    # The provider's way: space-separated `v1,<old> v1,<new>`, byte for byte.
    assert during == f"{before} {SW_SIG}"
    assert after == SW_SIG
    headers = {"webhook-id": SW_ID, "webhook-timestamp": str(SW_TS), "webhook-signature": during}
    for secret in (OLD_SW, SW_SECRET):  # a receiver holding either secret accepts it
        assert verify("standard-webhooks", secret, headers, SW_BODY, now=SW_TS)
    third = "whsec_" + "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="
    assert not verify("standard-webhooks", third, headers, SW_BODY, now=SW_TS)
    only_new = {**headers, "webhook-signature": after}
    assert not verify("standard-webhooks", OLD_SW, only_new, SW_BODY, now=SW_TS)


def test_stripe_overlap_is_one_t_and_two_v1() -> None:
    body, ts = b'{"id": "evt_1"}', 1700000000
    signer = _rotating("stripe", "whsec_old", "whsec_new", 0.0, 5.0)
    header = signer.headers(body, "evt_1", ts, at=1.0)["Stripe-Signature"]

    def v1(secret: str) -> str:
        return hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()

    assert header == f"t={ts},v1={v1('whsec_old')},v1={v1('whsec_new')}"
    for secret in ("whsec_old", "whsec_new"):
        assert verify("stripe", secret, {"Stripe-Signature": header}, body, now=ts)
    assert not verify("stripe", "whsec_other", {"Stripe-Signature": header}, body, now=ts)
    after = signer.headers(body, "evt_1", ts, at=5.0)["Stripe-Signature"]
    assert after == f"t={ts},v1={v1('whsec_new')}"


@pytest.mark.parametrize("scheme", sorted(set(SCHEMES) - MULTI_SIGNATURE - {"none"}))
def test_one_signature_schemes_switch_at_a_moment_and_refuse_an_overlap(scheme: str) -> None:
    why = check_rotation(scheme, 3600.0)
    assert why is not None and "one signature" in why and "overlap: 0" in why
    assert check_rotation(scheme, 0.0) is None
    assert check_rotation("none", 0.0) is not None  # nothing signed: nothing to rotate


def test_github_switches_to_the_new_secret_at_the_rotation() -> None:
    signer = _rotating("github", "the old secret", GITHUB_SECRET, 7.0, 7.0)
    before = signer.headers(GITHUB_BODY, "m", 0, at=6.99)["X-Hub-Signature-256"]
    after = signer.headers(GITHUB_BODY, "m", 0, at=7.0)["X-Hub-Signature-256"]
    assert after == GITHUB_SIG != before
    assert verify("github", "the old secret", {"X-Hub-Signature-256": before}, GITHUB_BODY, now=0)


def test_clock_skew_moves_the_signed_timestamp_and_the_stamped_one() -> None:
    # A sender 120 s behind signs at SLACK_TS what a true clock calls SLACK_TS + 120.
    headers = Signer("slack", SLACK_SECRET, skew=-120).headers(SLACK_BODY, "m", SLACK_TS + 120)
    assert headers["X-Slack-Signature"] == SLACK_SIG
    assert headers["X-Slack-Request-Timestamp"] == str(SLACK_TS)
    ahead = Signer("standard-webhooks", SW_SECRET, skew=30).headers(SW_BODY, SW_ID, SW_TS - 30)
    assert ahead["webhook-signature"] == SW_SIG and ahead["webhook-timestamp"] == str(SW_TS)
    # Within the documented 300 s a receiver accepts the skewed delivery; past it, refuses.
    skewed = Signer("stripe", "whsec_x", skew=299).headers(b"{}", "e", SW_TS)
    assert verify("stripe", "whsec_x", skewed, b"{}", now=SW_TS)
    far = Signer("stripe", "whsec_x", skew=301).headers(b"{}", "e", SW_TS)
    assert not verify("stripe", "whsec_x", far, b"{}", now=SW_TS)
    # A forger keeps the sender's clock: only its secret is wrong.
    forged = Signer("slack", SLACK_SECRET, skew=-120).forger().headers(SLACK_BODY, "m", 0)
    assert forged["X-Slack-Request-Timestamp"] == "-120"


@pytest.fixture
async def flaky() -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A receiver that answers 500 to an event's first attempt and 200 to the next."""
    seen: list[dict[str, str]] = []

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        seen.append(dict(request.headers))
        return web.Response(status=500 if len(seen) == 1 else 200)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", seen
    await runner.cleanup()


async def test_a_retry_is_signed_at_its_own_send_time(flaky: Any) -> None:
    url, seen = flaky
    found: list[Delivery] = []
    # The secret switches 1 s into the run; the provider retries 2 s after the first attempt.
    signer = _rotating("standard-webhooks", OLD_SW, SW_SECRET, 1.0, 1.0)
    provider = PROVIDERS["standard-webhooks"].with_overrides((2.0,), None)
    deliverer = Deliverer(
        parse_target(url),
        signer,
        timeout=5.0,
        clock=lambda: time.monotonic() - t0,
        on_delivery=found.append,
        provider=provider,
    )
    body = json.dumps({"id": "evt_1"}).encode()
    t0 = time.monotonic()  # the run's clock starts here, not before the Deliverer is made
    await asyncio.wait_for(deliverer.run([Slot(0.0, 0)], [body], ["evt_1"]), 30)
    assert [d.status for d in found] == [500, 200]
    assert found[0].sent_at < 1.0 <= found[1].sent_at

    def verifies(headers: dict[str, str], secret: str) -> bool:
        return verify("standard-webhooks", secret, headers, body, now=time.time())

    assert verifies(seen[0], OLD_SW) and not verifies(seen[0], SW_SECRET)
    assert verifies(seen[1], SW_SECRET) and not verifies(seen[1], OLD_SW)


SCENARIO = """\
source:
  synthetic:
    example: {id: evt_1, data: {order_id: ord_1}}
    events: 4
    records: 2
    over: 1s
    key: $.data.order_id
"""


@pytest.mark.parametrize(
    ("provider", "rotation", "overlap"),
    [
        ("stripe", "{next_secret_env: NEXT, at: 2h}", 86400.0),  # a day of both, Svix's way
        ("standard-webhooks", "{next_secret_env: NEXT, at: 2h, overlap: 30m}", 1800.0),
        ("github", "{next_secret_env: NEXT, at: 2h}", 0.0),  # one signature: a switch
        ("slack", "{next_secret_env: NEXT, at: 2h, overlap: 0}", 0.0),
    ],
)
def test_yaml_rotation_and_skew(
    tmp_path: Path, provider: str, rotation: str, overlap: float
) -> None:
    path = tmp_path / "r.scenario.yaml"
    path.write_text(
        SCENARIO + f"provider: {provider}\ndelivery: {{rotation: {rotation}, clock_skew: -2m}}\n"
    )
    delivery = load_scenario(path).delivery
    assert delivery.rotation == SecretRotation("NEXT", 7200.0, overlap)
    assert delivery.clock_skew == -120.0
    plain = tmp_path / "p.scenario.yaml"
    plain.write_text(SCENARIO + "delivery: {signing: none, clock_skew: 90}\n")
    assert load_scenario(plain).delivery == DeliverySpec(signing="none", clock_skew=90.0)


# -- a run: the engine signs each delivery at its send time, on the sender's skewed clock --------

SEEN: list[tuple[dict[str, str], bytes]] = []


async def recording_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI receiver that keeps every delivery's headers and body and answers 200."""
    if scope["type"] != "http":
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    SEEN.append(({k.decode(): v.decode() for k, v in scope["headers"]}, body))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


# The rotation's times count from the start of the run, as fault windows do: the deliveries start
# a little later (the run's doubles start first), so each phase is given a second here.
ROTATING_RUN = SCENARIO.replace("events: 4", "events: 12").replace("over: 1s", "over: 3s") + (
    "provider: {name: stripe, retries: 0}\n"
    "invariants: [no_duplicate_effects]\n"
    "delivery:\n"
    "  rotation: {next_secret_env: ROTATION_TEST_NEXT, at: 1.5s, overlap: 0.75s}\n"
    "  clock_skew: 120s\n"
)


def test_a_run_signs_old_both_new_on_a_skewed_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import harness

    old, new = "whsec_run_old", "whsec_run_new"
    monkeypatch.setenv("HARNESS_SECRET", old)
    monkeypatch.setenv("ROTATION_TEST_NEXT", new)
    path = tmp_path / "rotating.scenario.yaml"
    path.write_text(ROTATING_RUN)
    SEEN.clear()
    before = time.time()
    (result,) = harness.run(
        str(path),
        "tests.test_rotation:recording_app",
        seed=3,
        journal=tmp_path / "j.db",
        downstream="127.0.0.1:0",  # not the default 9100, which anything else may hold
    )
    after = time.time()
    settings = result.history.info.settings
    assert settings["rotation"] == {
        "start": 1.5,
        "end": 2.25,
        "next_secret_env": "ROTATION_TEST_NEXT",
    }
    assert settings["clock_skew"] == 120.0
    assert [i.name for i in result.history.info.invariants] == [
        "no_duplicate_effects",
        "accepts_genuine",
    ]
    found = {v.invariant: v for v in result.verdicts}
    assert found["accepts_genuine"].status is Status.PASS, found["accepts_genuine"]
    # The recording app calls no API: no duplicate among none proves nothing, and says so.
    unseen = found["no_duplicate_effects"]
    assert unseen.status is Status.INCONCLUSIVE and "made no call" in unseen.summary, unseen
    sent_at = {d.event_id: d.sent_at for d in result.history.deliveries}
    phases = {"old": 0, "both": 0, "new": 0}
    assert len(SEEN) == 12
    for headers, body in SEEN:
        header = headers["stripe-signature"]
        stamp = int(header.split(",")[0].removeprefix("t="))
        assert before + 120 - 1 <= stamp <= after + 120  # the sender's clock, 2 minutes ahead
        at = sent_at[json.loads(body)["id"]]
        phase = "old" if at < 1.5 else "both" if at < 2.25 else "new"
        phases[phase] += 1
        signs = {s for s in (old, new) if verify("stripe", s, headers, body, now=stamp)}
        assert signs == {"old": {old}, "both": {old, new}, "new": {new}}[phase], (phase, header)
        assert header.count("v1=") == (2 if phase == "both" else 1)
        # A receiver on a true clock with Stripe's 300 s tolerance accepts it all the same.
        assert verify("stripe", new if phase == "new" else old, headers, body, now=time.time())
    assert all(phases.values()), phases


def test_harness_sign_prints_the_overlap_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    body = tmp_path / "body.json"
    body.write_bytes(SW_BODY)
    args = ["sign", "--provider", "standard-webhooks", "--secret", OLD_SW, "--id", SW_ID]
    main([*args, "--timestamp", str(SW_TS), "--next-secret", SW_SECRET, str(body)])
    old_sig = Signer("standard-webhooks", OLD_SW).headers(SW_BODY, SW_ID, SW_TS)
    expected = f"webhook-signature: {old_sig['webhook-signature']} {SW_SIG}"
    assert expected in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        main(["sign", "--provider", "github", "--secret", "s", "--next-secret", "t", str(body)])
    assert refused.value.code == 2
    assert "--next-secret: --next-secret is not allowed — the github scheme carries one" in (
        capsys.readouterr().err
    )


def test_a_rotation_made_in_python_is_checked_when_the_run_is_prepared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a planner builds (SecretRotation's default overlap is a day) meets the same rules."""
    from dataclasses import replace

    from harness.core._errors import InputError
    from harness.engine import signer_for

    path = tmp_path / "g.scenario.yaml"
    path.write_text(SCENARIO + "provider: github\n")
    github = load_scenario(path)
    monkeypatch.setenv("HARNESS_SECRET", "first")
    monkeypatch.setenv("PLANNED_NEXT", "second")
    rotating = replace(github.delivery, rotation=SecretRotation("PLANNED_NEXT", 3600.0))
    with pytest.raises(InputError, match="the github scheme carries one signature") as refused:
        signer_for(replace(github, delivery=rotating))
    assert "overlap: 0" in str(refused.value)
    switch = replace(rotating, rotation=SecretRotation("PLANNED_NEXT", 3600.0, 0.0))
    signer = signer_for(replace(github, delivery=switch), scale=0.01)
    assert signer.rotation == Rotation("second", 36.0, 36.0)
    monkeypatch.setenv("PLANNED_NEXT", "first")
    with pytest.raises(InputError, match="would change nothing"):
        signer_for(replace(github, delivery=switch))
    backwards = replace(rotating, rotation=SecretRotation("PLANNED_NEXT", 0.0, -1.0))
    with pytest.raises(InputError, match="overlap: -1 is not allowed"):
        signer_for(replace(github, delivery=backwards))
