"""Provider signatures: the published vectors byte for byte, the others against an independent
computation, and `harness sign` as a user would pipe a body into it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core._errors import InputError
from harness.core._providers import PROVIDERS, exponential, provider
from harness.core._signing import SCHEMES, Rotation, Signer

from .conftest import harness

SLACK_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibI"
    b"GlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)


def test_standard_webhooks_vector() -> None:
    h = Signer("standard-webhooks", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").headers(
        b'{"test": 2432232314}', "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330
    )
    assert h == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }


def test_github_vector() -> None:
    h = Signer("github", "It's a Secret to Everybody").headers(b"Hello, World!", "d1", 0)
    assert h["X-Hub-Signature-256"] == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    again = Signer("github", "x").headers(b"", "d1", 5)["X-GitHub-Delivery"]
    assert h["X-GitHub-Delivery"] == again  # a redelivery keeps its GUID


def test_slack_vector() -> None:
    h = Signer("slack", "8f742231b10e8888abcd99yyyzzz85a5").headers(SLACK_BODY, "m", 1531420618)
    assert h == {
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "X-Slack-Request-Timestamp": "1531420618",
    }


def mac(secret: str, message: bytes) -> bytes:
    return hmac.new(secret.encode(), message, hashlib.sha256).digest()


def test_stripe_shopify_hubspot_attio_generic_by_their_documented_recipes() -> None:
    body, secret, ts = b'{"id": "evt_1"}', "whsec_test", 1700000000
    stripe = Signer("stripe", secret).headers(body, "evt_1", ts)["Stripe-Signature"]
    assert stripe == f"t={ts},v1={mac(secret, f'{ts}.'.encode() + body).hex()}"
    shop = Signer("shopify", secret).headers(body, "w1", ts, event_type="orders/create")
    assert shop["X-Shopify-Hmac-Sha256"] == base64.b64encode(mac(secret, body)).decode()
    assert shop["X-Shopify-Topic"] == "orders/create" and shop["X-Shopify-Webhook-Id"] == "w1"
    # shopify.dev's "Ignore duplicate webhooks" dedups by the event's id: a receiver reading it
    # read None on every delivery, its clean run made 1 order of 60 (gallery round 21).
    assert shop["X-Shopify-Event-Id"] == "w1"
    assert shop["X-Shopify-Triggered-At"].startswith("2023-11-14T22:13:20")
    url = "https://example.com/hooks?x=1"
    hub = Signer("hubspot", secret).headers(body, "e", ts, url=url)
    expected = base64.b64encode(mac(secret, b"POST" + url.encode() + body + b"1700000000000"))
    assert hub == {
        "X-HubSpot-Signature-v3": expected.decode(),
        "X-HubSpot-Request-Timestamp": "1700000000000",
    }
    attio = Signer("attio", secret).headers(body, "evt_1", ts)
    assert attio["Attio-Signature"] == attio["X-Attio-Signature"] == mac(secret, body).hex()
    assert attio["Idempotency-Key"] == "evt_1"
    generic = Signer("hmac", secret, "X-Hook-Sig").headers(body, "e", ts)
    assert generic == {"X-Hook-Sig": "sha256=" + mac(secret, body).hex()}
    assert Signer().headers(body, "e", ts) == {}


def test_profiles() -> None:
    assert set(PROVIDERS) == set(SCHEMES)
    assert PROVIDERS["github"].retries == () and PROVIDERS["github"].timeout == 10
    assert PROVIDERS["slack"].retries == (0, 60, 300) and PROVIDERS["slack"].timeout == 3
    assert PROVIDERS["slack"].retry_headers(2, "http_timeout") == {
        "X-Slack-Retry-Num": "1",
        "X-Slack-Retry-Reason": "http_timeout",
    }
    assert PROVIDERS["hubspot"].max_batch == 100
    assert PROVIDERS["stripe"].timeout is None  # not published: never guessed
    shopify = PROVIDERS["shopify"].retries
    assert len(shopify) == 8 and sum(shopify) == pytest.approx(4 * 3600)
    assert shopify[1] == pytest.approx(2 * shopify[0])
    assert sum(exponential(10, 3 * 86400)) == pytest.approx(3 * 86400)


def test_unknown_provider_suggests() -> None:
    with pytest.raises(InputError, match="did you mean 'hubspot'"):
        provider("hubspt")


def sign_cli(*args: str, body: bytes) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "sign", *args, "-"],
        input=body.decode(),
        capture_output=True,
        text=True,
        check=False,
    )


def test_sign_command_prints_the_vector_headers(tmp_path: Path) -> None:
    r = sign_cli(
        "--provider",
        "standard-webhooks",
        "--secret",
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "--id",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "--timestamp",
        "1614265330",
        body=b'{"test": 2432232314}',
    )
    assert r.returncode == 0
    assert "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" in r.stdout
    # The command's other runs in this process (one process above: its entry point and stdin).
    body = tmp_path / "slack.txt"
    body.write_bytes(SLACK_BODY)
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    args = ("--provider", "slack", "--secret", secret, "--timestamp", "1531420618", str(body))
    done = harness("sign", *args)
    assert done.code == 0, done.err
    assert (
        "X-Slack-Signature: v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        in done.out
    )


def test_sign_command_bad_input(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_text("{}")
    r = harness("sign", "--provider", "strip", "--secret", "s", str(body))
    assert r.code == 2 and "did you mean 'stripe'" in r.err
    r = harness(
        "sign", "--provider", "standard-webhooks", "--secret", "whsec_!!notbase64", str(body)
    )
    assert r.code == 2 and "not base64" in r.err and "Traceback" not in r.err


def test_bodies_are_laid_out_as_each_sender_lays_out_its_json() -> None:
    """GitHub, Shopify and HubSpot send compact JSON, Stripe pretty-printed, all as UTF-8: a
    receiver that re-serialises the body before checking its signature is put to the test."""
    text = json.dumps({"name": "Zoë O'Brien", "amount": 1.0, "items": [1, 2]})
    compact = '{"name":"Zoë O\'Brien","amount":1.0,"items":[1,2]}'.encode()
    for name in ("github", "shopify", "hubspot"):
        assert provider(name).body(text) == compact, name
    assert (
        provider("stripe").body(text)
        == json.dumps(json.loads(text), indent=2, ensure_ascii=False).encode()
    )
    assert provider("stripe").body(text).startswith(b'{\n  "name": "Zo\xc3\xab')
    assert provider("standard-webhooks").body(text) == text.encode()


def _verified(scheme: str, body: bytes, headers: dict[str, str], secret: str) -> bool:
    """Whether the provider's own library takes ``headers`` as ``body``'s, under ``secret``."""
    import stripe
    from slack_sdk.signature import SignatureVerifier
    from standardwebhooks import Webhook, WebhookVerificationError

    if scheme == "slack":
        stamp, signature = headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
        return SignatureVerifier(secret).is_valid(body, stamp, signature)
    try:
        if scheme == "stripe":
            event = stripe.Webhook.construct_event(body, headers["Stripe-Signature"], secret)
        else:
            event = Webhook(secret).verify(body, headers)
    except (stripe.SignatureVerificationError, WebhookVerificationError):
        return False
    assert event["id"] == "evt_1"
    return True


def test_the_providers_own_libraries_verify_what_the_harness_signs() -> None:
    """The Stripe SDK's ``construct_event``, the Standard Webhooks library's ``verify`` and the
    Slack SDK's ``SignatureVerifier`` take the harness's signatures — with one secret, and with
    both of a rotation's overlap, against either secret — and refuse them under another secret:
    a receiver written on them accepts every genuine delivery."""
    body, now = b'{"id": "evt_1", "type": "checkout.session.completed"}', int(time.time())
    old, new = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    for scheme in ("stripe", "standard-webhooks", "slack"):
        alone = Signer(scheme, old).headers(body, "evt_1", now)
        signed = [(alone, {old})]
        if scheme != "slack":  # Slack signs with one secret: no overlap
            rotating = Signer(scheme, old, rotation=Rotation(new, 0, 60))
            signed.append((rotating.headers(body, "evt_1", now, at=1), {old, new}))
        for headers, secrets in signed:
            for secret in (old, new):
                taken = _verified(scheme, body, headers, secret)
                assert taken == (secret in secrets), (scheme, secret, headers)
