"""GitHub webhook verification, as GitHub's docs give it: ``X-Hub-Signature-256`` is
``sha256=`` and the hex HMAC-SHA256 of the raw body under the webhook's secret."""

from __future__ import annotations

import hashlib
import hmac


def verified(body: bytes, header: str | None, secret: bytes) -> bool:
    """Does ``header`` prove ``body`` came from GitHub?"""
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")
