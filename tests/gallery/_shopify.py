"""Shopify webhook verification, as Shopify's docs give it: ``X-Shopify-Hmac-Sha256`` is the
base64 HMAC-SHA256 of the raw body under the app's secret."""

from __future__ import annotations

import base64
import hashlib
import hmac


def verified(body: bytes, header: str | None, secret: str) -> bool:
    """Does ``header`` prove ``body`` came from Shopify?"""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), header or "")
