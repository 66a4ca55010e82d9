"""An order event -> a payout. Verifies the signature against the one secret it was given.

Its author read the signing secret once, from ``HARNESS_SECRET``, and compares each delivery's
``Stripe-Signature`` with it the way Stripe's SDK does (any ``v1`` that matches will do) — or,
for a Standard Webhooks (Svix) sender, its ``webhook-signature`` the way their libraries do
(any ``v1,`` entry). It knows nothing of a second secret: ``HARNESS_SECRET_NEXT`` is never
read. When the sender rolls its secret, every delivery still carries the old secret's signature
during the overlap — all is well — and from the end of the overlap only the new one's: each is
answered 400 ("no v1 signature matches"), the sender retries, gives up, and the payouts stop.
Nothing else complains.

Must get: ``accepts_genuine`` fail, the deliveries refused from the end of the overlap named,
with the cause "refused from ... on (the rotation began at ...): does the automation accept
the new secret?"; the sound demo, given both secrets, passes the same scenario.

    export HARNESS_SECRET=whsec_...
    python -m tests.gallery.one_secret --downstream http://127.0.0.1:9100   # or API_URL=...
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve
from ._stripe import TOLERANCE, SignatureError, construct_event

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def build_app(api_url: str, secret: str) -> web.Application:
    app = web.Application()

    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            # The flaw: one secret, read once at start; a rotated one is never accepted.
            event = verified(body, request.headers, secret)
        except SignatureError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        payout = {
            "event": event.get("id"),
            "order_id": data.get("order_id"),
            "amount": data.get("amount"),
        }
        try:
            async with request.app[API].post(
                "/payouts", json=payout, headers={"Idempotency-Key": event["id"]}
            ) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": f"payouts: {exc}"}, status=500)
        return web.json_response({"received": True})

    app.router.add_post("/hooks/orders", webhook)
    return app


def verified(body: bytes, headers: Mapping[str, str], secret: str) -> dict[str, Any]:
    """The event, when its Stripe or Standard Webhooks signature was made with ``secret``."""
    if "Stripe-Signature" in headers:
        return construct_event(body, headers["Stripe-Signature"], secret)
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not (msg_id and stamp.isdigit() and "webhook-signature" in headers):
        raise SignatureError("no Stripe-Signature or webhook-signature header")
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    if not any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split()):
        raise SignatureError("no v1 signature matches")
    if abs(time.time() - int(stamp)) > TOLERANCE:
        raise SignatureError("timestamp outside the tolerance")
    event: dict[str, Any] = json.loads(body)
    return event


def main() -> None:
    opts = _serve.options("python -m tests.gallery.one_secret", "API_URL")
    _serve.run(build_app(opts.downstream, os.environ["HARNESS_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
