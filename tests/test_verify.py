"""Signature verification for every scheme: the published vectors, round trips, tampering."""

from __future__ import annotations

import time

import pytest

from harness.core._errors import InputError
from harness.core._signing import SCHEMES, TIMESTAMPED, Signer, detect_scheme, verify

from .test_providers import SLACK_BODY

SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "http://127.0.0.1:8080/hooks/orders"
SIGNED = [s for s in SCHEMES if s != "none"]


def test_standard_webhooks_vector_verifies_at_its_time_only() -> None:
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    body = b'{"test": 2432232314}'
    assert verify("standard-webhooks", SW_SECRET, headers, body, now=1614265330 + 299)
    assert not verify("standard-webhooks", SW_SECRET, headers, body, now=1614265330 + 301)
    assert not verify("standard-webhooks", SW_SECRET, headers, body + b" ", now=1614265330)
    # Several signatures (a key rotation): one valid is enough.
    rotated = {**headers, "webhook-signature": "v1,bm90IGl0 " + headers["webhook-signature"]}
    assert verify("standard-webhooks", SW_SECRET, rotated, body, now=1614265330)


def test_github_vector() -> None:
    headers = {
        "X-Hub-Signature-256": (
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        )
    }
    secret = "It's a Secret to Everybody"
    assert verify("github", secret, headers, b"Hello, World!", now=0)
    assert not verify("github", secret, headers, b"Hello, World?", now=0)
    assert not verify("github", "another secret", headers, b"Hello, World!", now=0)


def test_slack_vector_and_its_five_minutes() -> None:
    headers = {
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
        "X-Slack-Request-Timestamp": "1531420618",
    }
    secret = "8f742231b10e8888abcd99yyyzzz85a5"
    assert verify("slack", secret, headers, SLACK_BODY, now=1531420618 + 60)
    assert not verify("slack", secret, headers, SLACK_BODY, now=1531420618 + 301)


@pytest.mark.parametrize("scheme", SIGNED)
def test_round_trip_forged_unsigned_and_tampered_body(scheme: str) -> None:
    now = int(time.time())
    body = b'{"id": "evt_1", "amount": 10}'
    signer = Signer(scheme, SW_SECRET)
    headers = signer.headers(body, "evt_1", now, event_type="order.paid", url=URL)
    assert detect_scheme(headers) == scheme
    assert verify(scheme, SW_SECRET, headers, body, now=now, url=URL)
    assert not verify(scheme, SW_SECRET, headers, body.replace(b"10", b"99"), now=now, url=URL)
    forged = signer.forger().headers(body, "evt_1", now, event_type="order.paid", url=URL)
    assert forged != headers and detect_scheme(forged) == scheme
    assert not verify(scheme, SW_SECRET, forged, body, now=now, url=URL)
    assert detect_scheme({"Content-Type": "application/json"}) is None


@pytest.mark.parametrize("scheme", SIGNED)
def test_only_timestamped_schemes_refuse_an_old_signature(scheme: str) -> None:
    now = int(time.time())
    body = b'{"id": "evt_1"}'
    old = Signer(scheme, SW_SECRET).headers(body, "evt_1", now - 3600, url=URL)
    # Without a signed timestamp an hour-old signature is as valid as a fresh one: a receiver
    # of those schemes can only refuse a replay by dedup on the delivery or event id.
    assert verify(scheme, SW_SECRET, old, body, now=now, url=URL) is (scheme not in TIMESTAMPED)


def test_hubspot_signs_the_url_and_hmac_its_header() -> None:
    now = int(time.time())
    headers = Signer("hubspot", "s").headers(b"[]", "e", now, url=URL)
    assert verify("hubspot", "s", headers, b"[]", now=now, url=URL)
    assert not verify("hubspot", "s", headers, b"[]", now=now, url=URL + "?x=1")
    generic = Signer("hmac", "s", "X-Hook-Sig").headers(b"{}", "e", now)
    assert detect_scheme(generic, "X-Hook-Sig") == "hmac"
    assert verify("hmac", "s", generic, b"{}", now=now, header="X-Hook-Sig")
    assert not verify("hmac", "s", generic, b"{}", now=now)  # looks for X-Signature


def test_malformed_headers_verify_nothing() -> None:
    now = time.time()
    assert not verify("stripe", "s", {"Stripe-Signature": "garbage"}, b"", now=now)
    assert not verify("stripe", "s", {"Stripe-Signature": "t=abc,v1=00"}, b"", now=now)
    assert not verify("slack", "s", {"X-Slack-Signature": "v0=00"}, b"", now=now)
    bad_secret = Signer("standard-webhooks", SW_SECRET).headers(b"", "e", int(now))
    assert not verify("standard-webhooks", "whsec_!!", bad_secret, b"", now=now)


def test_verify_refuses_an_unknown_scheme() -> None:
    with pytest.raises(InputError, match="cannot verify signature scheme 'none'"):
        verify("none", "s", {}, b"", now=0)
