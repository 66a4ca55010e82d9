"""Signature schemes: what each sender adds to a request so a receiver can verify it.

Standard Webhooks, Stripe, GitHub, Shopify, Slack, HubSpot v3, Attio and generic HMAC, each
reproducing its provider's published vector (tests/test_providers.py). Verification of every
scheme lives here too (``verify``, ``detect_scheme``), so the demo's sound automation, the
tests and users' receivers share one reading of each recipe.

Timestamped schemes (TIMESTAMPED) reject a stale timestamp; for the others a signature stays
valid forever, so a receiver's only replay protection is dedup by the delivery or event id.

A secret rotated on a date (``Rotation``) is signed the provider's way: Stripe and Standard
Webhooks (Svix) put one signature per secret in their header during the overlap
(MULTI_SIGNATURE); every other scheme carries one signature, so its sender can only switch from
the old secret to the new one at a moment — a rotation with an overlap is refused for them
(``check_rotation``). A sender's clock skew moves every timestamp it signs and stamps.
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
            f"Standard Webhooks secret is not base64 after the 'whsec_' prefix: {_why_not(raw)}",
            hint="use a secret of the form whsec_<base64>, as Svix and Standard Webhooks issue",
        ) from None


def _why_not(raw: str) -> str:
    """Where base64 decoding of a secret fails, saying nothing of the secret's characters."""
    for at, char in enumerate(raw, 1):
        if char not in _BASE64:
            return f"its character {at} (after any prefix) is not one of A-Z a-z 0-9 + / ="
    return f"its {len(raw)} characters are not a whole number of base64 groups of 4 (pad with =)"


_BASE64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


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
    return verify("standard-webhooks", secret, headers, body, now=now, tolerance=tolerance)


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
    # During a rotation's overlap (MULTI_SIGNATURE schemes only): the other secret, whose
    # signature follows ``secret``'s in the same header.
    also: str = ""


def _secrets(r: SignRequest) -> tuple[str, ...]:
    return (r.secret, r.also) if r.also else (r.secret,)


def _standard(r: SignRequest) -> dict[str, str]:
    # Space-separated signatures, one per secret: `v1,<old> v1,<new>` during an overlap.
    sigs = [standard_webhooks_signature(s, r.msg_id, r.timestamp, r.body) for s in _secrets(r)]
    return {
        "webhook-id": r.msg_id,
        "webhook-timestamp": str(r.timestamp),
        "webhook-signature": " ".join(sigs),
    }


def _stripe(r: SignRequest) -> dict[str, str]:
    # One `v1=` per secret after the timestamp: `t=...,v1=<old>,v1=<new>` during an overlap.
    signed = f"{r.timestamp}.".encode() + r.body
    v1 = ",".join(f"v1={_hex(s, signed)}" for s in _secrets(r))
    return {"Stripe-Signature": f"t={r.timestamp},{v1}"}


# The header a scheme sends the event's type in, where the body need not hold it.
TYPE_HEADERS = {"github": "X-GitHub-Event", "shopify": "X-Shopify-Topic"}


def _github(r: SignRequest) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": "sha256=" + _hex(r.secret, r.body),
        # A GUID, the same on a redelivery of the same event.
        "X-GitHub-Delivery": str(uuid.uuid5(uuid.NAMESPACE_URL, r.msg_id)),
        TYPE_HEADERS["github"]: r.event_type or "ping",
    }


def _shopify(r: SignRequest) -> dict[str, str]:
    return {
        "X-Shopify-Hmac-Sha256": _b64(r.secret, r.body),
        "X-Shopify-Webhook-Id": r.msg_id,
        # Shopify's "Ignore duplicate webhooks" names this one as the key to dedup by; with one
        # subscription a topic, the webhook's id and the event's are one event's, on every retry.
        "X-Shopify-Event-Id": r.msg_id,
        TYPE_HEADERS["shopify"]: r.event_type,
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


MULTI_SIGNATURE = frozenset({"standard-webhooks", "stripe"})
"""Schemes whose header carries several signatures: a sender signs with both secrets while a
rotation overlaps. The others (GitHub, Shopify, Slack, HubSpot, Attio, generic HMAC) carry one:
their sender switches secrets at a moment."""


@dataclass(frozen=True, slots=True)
class Rotation:
    """A signing-secret rotation on the run's clock (run seconds since the run began): the old
    secret alone before ``start``, both in ``[start, end)`` (an overlap: MULTI_SIGNATURE
    schemes only), the new ``secret`` alone from ``end``."""

    secret: str  # the next secret
    start: float
    end: float

    def secrets(self, old: str, at: float) -> tuple[str, ...]:
        """The secrets a delivery sent at ``at`` (run seconds) is signed with, in order."""
        if at < self.start:
            return (old,)
        return (old, self.secret) if at < self.end else (self.secret,)


DEFAULT_OVERLAP = 86400.0  # Svix keeps the old secret valid for 24 hours after a rotation


def default_overlap(scheme: str) -> float:
    """The overlap of a rotation that names none: a day where the scheme signs with both
    secrets (MULTI_SIGNATURE), none (a switch at a moment) where it carries one signature."""
    return DEFAULT_OVERLAP if scheme in MULTI_SIGNATURE else 0.0


def check_rotation(scheme: str, overlap: float) -> str | None:
    """Why ``scheme``'s sender cannot rotate with ``overlap`` seconds of both secrets, or
    None when it can."""
    if scheme == "none":
        return (
            "the deliveries are not signed (delivery.signing: none): there is no secret to rotate"
        )
    if overlap > 0 and scheme not in MULTI_SIGNATURE:
        return (
            f"the {scheme} scheme carries one signature, so its sender cannot sign with two "
            "secrets during an overlap; set overlap: 0 — the sender switches to the new secret "
            "at `at`, as when the secret is changed in the provider's settings"
        )
    return None


def _untrimmed(secret: str) -> None:
    """InputError for a secret that starts or ends with white space: no provider issues one,
    and a line break kept from a file or a here-string (`echo`, a .env line, a Kubernetes
    secret made from a file) signs every delivery wrong — 401s, or a verifier fed the same
    variable that passes what the provider's signature would not."""
    if secret != secret.strip():
        end = "ends" if secret[-1:].isspace() else "starts"
        kind = "a line break" if any(c in "\r\n" for c in secret) else "a space or tab"
        raise InputError(
            f"it {end} with {kind}, which no provider's secret does",
            hint="give the secret without it (read from a file: "
            "\"$(tr -d '[:space:]' < secret.txt)\")",
        )


@dataclass(frozen=True, slots=True)
class Signer:
    """How deliveries are signed: one of SCHEMES, with the secret and the generic header.

    ``rotation``: the secret rotated during the run (``headers(..., at=)`` picks the secrets of
    that moment); ``skew``: seconds the sender's clock runs ahead (+) or behind (-) — added to
    every timestamp it signs and stamps, the network's timing unchanged.
    """

    scheme: str = "none"
    secret: str = ""
    header: str = "X-Signature"  # for ``hmac``
    rotation: Rotation | None = None
    skew: float = 0.0

    def headers(
        self,
        body: bytes,
        msg_id: str,
        timestamp: int,
        *,
        event_type: str = "",
        url: str = "",
        at: float = 0.0,
    ) -> dict[str, str]:
        """The signature headers of one request sent at Unix time ``timestamp`` (as the
        sender's clock would say it, ``skew`` added), ``at`` run seconds into the run."""
        secrets = (
            (self.secret,) if self.rotation is None else self.rotation.secrets(self.secret, at)
        )
        request = SignRequest(
            body,
            secrets[0],
            msg_id,
            timestamp + round(self.skew),
            event_type,
            "POST",
            url,
            self.header,
            secrets[1] if len(secrets) > 1 else "",
        )
        return SCHEMES[self.scheme](request)

    def secrets(self) -> tuple[str, ...]:
        """Every secret this signer may sign with: the one, and the next of a rotation."""
        return (self.secret,) if self.rotation is None else (self.secret, self.rotation.secret)

    def check(self, where: str | None = None) -> None:
        """Sign an empty body with each secret once, so a secret the scheme cannot use
        (``whsec_`` without base64) is an InputError before the first delivery, not one per
        delivery."""
        try:
            for secret in self.secrets():
                _untrimmed(secret)
                Signer(self.scheme, secret, self.header).headers(b"", "msg_check", 0)
        except InputError as exc:
            if where is None:
                raise
            raise InputError(str(exc).split("\n  hint: ")[0], where=where, hint=exc.hint) from None

    def forger(self) -> Signer:
        """A signer of the same scheme with a wrong secret: valid-looking, forged signatures."""
        digest = hashlib.sha256(b"forged:" + self.secret.encode()).digest()
        wrong = "whsec_" + base64.b64encode(digest).decode()
        return Signer(self.scheme, wrong, self.header, skew=self.skew)


# --- verification ---------------------------------------------------------------------------

TIMESTAMPED = frozenset({"standard-webhooks", "stripe", "slack", "hubspot"})
"""Schemes that sign a timestamp: a receiver can refuse a replayed (stale) delivery."""

DEFAULT_TOLERANCE = 300.0  # seconds of clock skew every timestamped provider documents


def _eq(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def _fresh(ts: str | None, now: float, tolerance: float, *, per_second: int = 1) -> int | None:
    """The timestamp as an int when it is a number within ``tolerance`` of ``now``."""
    if ts is None or not ts.isdigit():
        return None
    value = int(ts)
    return value if abs(now - value / per_second) <= tolerance else None


def _verify_standard(h: Mapping[str, str], v: _Check) -> bool:
    msg_id, sigs = h.get("webhook-id"), h.get("webhook-signature")
    ts = _fresh(h.get("webhook-timestamp"), v.now, v.tolerance)
    if not (msg_id and sigs) or ts is None:
        return False
    try:
        expected = standard_webhooks_signature(v.secret, msg_id, ts, v.body)
    except InputError:  # a secret that is not whsec_<base64> verifies nothing
        return False
    return any(_eq(expected, s) for s in sigs.split())


def _verify_stripe(h: Mapping[str, str], v: _Check) -> bool:
    parts = [p.partition("=") for p in h.get("stripe-signature", "").split(",")]
    stamps = [val for key, _, val in parts if key.strip() == "t"]
    ts = _fresh(stamps[0].strip() if len(stamps) == 1 else None, v.now, v.tolerance)
    if ts is None:
        return False
    expected = _hex(v.secret, f"{ts}.".encode() + v.body)
    return any(_eq(expected, val.strip()) for key, _, val in parts if key.strip() == "v1")


def _verify_github(h: Mapping[str, str], v: _Check) -> bool:
    return _eq("sha256=" + _hex(v.secret, v.body), h.get("x-hub-signature-256"))


def _verify_shopify(h: Mapping[str, str], v: _Check) -> bool:
    return _eq(_b64(v.secret, v.body), h.get("x-shopify-hmac-sha256"))


def _verify_slack(h: Mapping[str, str], v: _Check) -> bool:
    ts = _fresh(h.get("x-slack-request-timestamp"), v.now, v.tolerance)
    if ts is None:
        return False
    return _eq("v0=" + _hex(v.secret, f"v0:{ts}:".encode() + v.body), h.get("x-slack-signature"))


def _verify_hubspot(h: Mapping[str, str], v: _Check) -> bool:
    millis = h.get("x-hubspot-request-timestamp")
    if _fresh(millis, v.now, v.tolerance, per_second=1000) is None:
        return False
    source = v.method.upper().encode() + v.url.encode() + v.body + str(millis).encode()
    return _eq(_b64(v.secret, source), h.get("x-hubspot-signature-v3"))


def _verify_attio(h: Mapping[str, str], v: _Check) -> bool:
    given = h.get("attio-signature") or h.get("x-attio-signature")
    return _eq(_hex(v.secret, v.body), given)


def _verify_generic(h: Mapping[str, str], v: _Check) -> bool:
    return _eq(hmac_signature(v.secret, v.body), h.get(v.header.lower()))


@dataclass(frozen=True, slots=True)
class _Check:
    secret: str
    body: bytes
    now: float
    tolerance: float
    url: str
    method: str
    header: str


_VERIFIERS: Mapping[str, Callable[[Mapping[str, str], _Check], bool]] = {
    "standard-webhooks": _verify_standard,
    "stripe": _verify_stripe,
    "github": _verify_github,
    "shopify": _verify_shopify,
    "slack": _verify_slack,
    "hubspot": _verify_hubspot,
    "attio": _verify_attio,
    "hmac": _verify_generic,
}

# The header that tells each scheme apart, most specific first (GitHub's X-Hub-Signature-256
# before a generic X-Signature).
_MARKERS = (
    ("webhook-signature", "standard-webhooks"),
    ("stripe-signature", "stripe"),
    ("x-slack-signature", "slack"),
    ("x-hubspot-signature-v3", "hubspot"),
    ("x-hub-signature-256", "github"),
    ("x-shopify-hmac-sha256", "shopify"),
    ("attio-signature", "attio"),
    ("x-attio-signature", "attio"),
)


def detect_scheme(headers: Mapping[str, str], header: str = "X-Signature") -> str | None:
    """The signature scheme whose header the request carries; None for an unsigned request.

    ``header`` is the generic ``hmac`` scheme's header, recognised last.
    """
    lower = {k.lower() for k in headers}
    for marker, scheme in _MARKERS:
        if marker in lower:
            return scheme
    return "hmac" if header.lower() in lower else None


def verify(
    scheme: str,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance: float = DEFAULT_TOLERANCE,
    url: str = "",
    method: str = "POST",
    header: str = "X-Signature",
) -> bool:
    """True when ``headers`` carry a valid signature of ``body`` by ``scheme`` with ``secret``.

    Timestamped schemes also need a timestamp within ``tolerance`` seconds of ``now`` (Unix
    seconds). HubSpot signs the request's ``method`` and full ``url``; ``header`` names the
    generic ``hmac`` scheme's header. Raises InputError for an unknown scheme or ``none``.
    """
    check = _VERIFIERS.get(scheme)
    if check is None:
        raise InputError(
            f"cannot verify signature scheme {scheme!r}",
            hint=f"use one of {', '.join(_VERIFIERS)} ('none' signs nothing to verify)",
        )
    lower = {k.lower(): v for k, v in headers.items()}
    return check(lower, _Check(secret, body, now, tolerance, url, method, header))
