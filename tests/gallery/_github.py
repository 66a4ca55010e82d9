"""GitHub webhook verification, as GitHub's docs give it: ``X-Hub-Signature-256`` is
``sha256=`` and the hex HMAC-SHA256 of the raw body under the webhook's secret."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from aiohttp import web


def verified(body: bytes, header: str | None, secret: bytes) -> bool:
    """Does ``header`` prove ``body`` came from GitHub?"""
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header or "")


async def read_issues(request: web.Request, secret: bytes) -> dict[str, Any] | web.Response:
    """The ``issues`` payload ``request`` carries, or the answer to give it instead: 401 where
    ``X-Hub-Signature-256`` does not prove it came from GitHub, 204 for another event."""
    body = await request.read()
    if not verified(body, request.headers.get("X-Hub-Signature-256"), secret):
        return web.Response(status=401)
    if request.headers.get("X-GitHub-Event") != "issues":
        return web.Response(status=204)
    payload: dict[str, Any] = json.loads(body)
    return payload
