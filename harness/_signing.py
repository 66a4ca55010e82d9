"""Signing schemes for deliveries: generic HMAC and Standard Webhooks.

Each scheme turns (body, delivery id, timestamp, secret) into the headers a sender adds,
and can verify them, so the demo's sound automation and the tests share one definition.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from dataclasses import dataclass

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
    return prefix + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True, slots=True)
class Signer:
    """How deliveries are signed. ``scheme`` is ``none``, ``hmac`` or ``standard-webhooks``."""

    scheme: str = "none"
    secret: str = ""
    header: str = "X-Signature"  # for ``hmac``

    def headers(self, body: bytes, msg_id: str, timestamp: int) -> dict[str, str]:
        if self.scheme == "standard-webhooks":
            return {
                "webhook-id": msg_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": standard_webhooks_signature(
                    self.secret, msg_id, timestamp, body
                ),
            }
        if self.scheme == "hmac":
            return {self.header: hmac_signature(self.secret, body)}
        return {}


SCHEMES = ("none", "hmac", "standard-webhooks")
