"""Signature schemes: what each sender adds to a request so a receiver can verify it.

Standard Webhooks, Stripe, GitHub, Shopify, Slack, HubSpot v3, Attio and generic HMAC, each
reproducing its provider's published vector (tests/test_providers.py). Verification of
Standard Webhooks lives here too, so the demo's sound automation and the tests share it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ._errors import InputError


@functools.lru_cache(maxsize=8)  # decoded once per secret, not once per delivery
def _standard_webhooks_key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    try:
        return base64.b64decode(raw, validate=True)
    except ValueError:
        raise InputError(
            f"Standard Webhooks secret is not base64 after the 'whsec_' prefix: {secret[:6]!r}...",
            hint="use a secret of the form whsec_<base64>, as Svix and Standard Webhooks issue",
        ) from None


def standard_webhooks_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256(id.timestamp.body)>``."""
    key = _standard_webhooks_key(secret)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_standard_webhooks(
    secret: str, headers: dict[str, str], body: bytes, *, now: float, tolerance: float = 300
) -> bool:
    """True when the headers carry a valid, fresh Standard Webhooks signature for ``body``."""
    lower = {k.lower(): v for k, v in headers.items()}
    msg_id = lower.get("webhook-id")
    ts = lower.get("webhook-timestamp")
    sigs = lower.get("webhook-signature")
    if not (msg_id and ts and sigs) or not ts.isdigit():
        return False
    if abs(now - int(ts)) > tolerance:
        return False
    expected = standard_webhooks_signature(secret, msg_id, int(ts), body)
    return any(hmac.compare_digest(expected, s) for s in sigs.split())


def hmac_signature(secret: str, body: bytes, prefix: str = "sha256=") -> str:
    """Generic HMAC: ``sha256=<hex HMAC-SHA256(secret, body)>``."""
    return prefix + _hex(secret, body)


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _b64(secret: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


@dataclass(frozen=True, slots=True)
class SignRequest:
    """What a sender signs: the raw body and the request around it."""

    body: bytes
    secret: str
    msg_id: str  # the delivery/event id the sender puts in its headers (same on a redelivery)
    timestamp: int  # Unix seconds
    event_type: str = ""
    method: str = "POST"
    url: str = ""
    header: str = "X-Signature"  # the generic scheme's header


def _standard(r: SignRequest) -> dict[str, str]:
    return {
        "webhook-id": r.msg_id,
        "webhook-timestamp": str(r.timestamp),
        "webhook-signature": standard_webhooks_signature(r.secret, r.msg_id, r.timestamp, r.body),
    }


def _stripe(r: SignRequest) -> dict[str, str]:
    signed = f"{r.timestamp}.".encode() + r.body
    return {"Stripe-Signature": f"t={r.timestamp},v1={_hex(r.secret, signed)}"}


def _github(r: SignRequest) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": "sha256=" + _hex(r.secret, r.body),
        # A GUID, the same on a redelivery of the same event.
        "X-GitHub-Delivery": str(uuid.uuid5(uuid.NAMESPACE_URL, r.msg_id)),
        "X-GitHub-Event": r.event_type or "ping",
    }


def _shopify(r: SignRequest) -> dict[str, str]:
    return {
        "X-Shopify-Hmac-Sha256": _b64(r.secret, r.body),
        "X-Shopify-Webhook-Id": r.msg_id,
        "X-Shopify-Topic": r.event_type,
        "X-Shopify-Triggered-At": datetime.fromtimestamp(r.timestamp, UTC).isoformat(),
    }


def _slack(r: SignRequest) -> dict[str, str]:
    base = f"v0:{r.timestamp}:".encode() + r.body
    return {
        "X-Slack-Signature": "v0=" + _hex(r.secret, base),
        "X-Slack-Request-Timestamp": str(r.timestamp),
    }


def _hubspot(r: SignRequest) -> dict[str, str]:
    millis = str(r.timestamp * 1000)
    source = r.method.upper().encode() + r.url.encode() + r.body + millis.encode()
    return {"X-HubSpot-Signature-v3": _b64(r.secret, source), "X-HubSpot-Request-Timestamp": millis}


def _attio(r: SignRequest) -> dict[str, str]:
    digest = _hex(r.secret, r.body)
    return {"Attio-Signature": digest, "X-Attio-Signature": digest, "Idempotency-Key": r.msg_id}


def _generic(r: SignRequest) -> dict[str, str]:
    return {r.header: hmac_signature(r.secret, r.body)}


def _unsigned(r: SignRequest) -> dict[str, str]:
    return {}


SCHEMES: Mapping[str, Callable[[SignRequest], dict[str, str]]] = {
    "standard-webhooks": _standard,
    "stripe": _stripe,
    "github": _github,
    "shopify": _shopify,
    "slack": _slack,
    "hubspot": _hubspot,
    "attio": _attio,
    "hmac": _generic,
    "none": _unsigned,
}


@dataclass(frozen=True, slots=True)
class Signer:
    """How deliveries are signed: one of SCHEMES, with the secret and the generic header."""

    scheme: str = "none"
    secret: str = ""
    header: str = "X-Signature"  # for ``hmac``

    def headers(
        self, body: bytes, msg_id: str, timestamp: int, *, event_type: str = "", url: str = ""
    ) -> dict[str, str]:
        request = SignRequest(
            body, self.secret, msg_id, timestamp, event_type, "POST", url, self.header
        )
        return SCHEMES[self.scheme](request)
