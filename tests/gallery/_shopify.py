"""Shopify webhook verification, as Shopify's docs give it: ``X-Shopify-Hmac-Sha256`` is the
base64 HMAC-SHA256 of the raw body under the app's secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from aiohttp import web


def verified(body: bytes, header: str | None, secret: str) -> bool:
    """Does ``header`` prove ``body`` came from Shopify?"""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), header or "")


async def read_order(request: web.Request, secret: str) -> dict[str, Any] | None:
    """The order ``request`` carries, or None where ``X-Shopify-Hmac-Sha256`` does not prove
    it came from Shopify (to be answered 401)."""
    body = await request.read()
    if not verified(body, request.headers.get("X-Shopify-Hmac-Sha256"), secret):
        return None
    order: dict[str, Any] = json.loads(body)
    return order
