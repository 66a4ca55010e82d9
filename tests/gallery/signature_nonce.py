"""Stripe checkouts -> the CRM's orders, deduplicated by the delivery's signature.

Its author read two pieces of advice on one page — "protect your webhook against replays" and
"webhooks can be delivered more than once" — and met both with one set: after checking
``Stripe-Signature``, the header's value is remembered, and a request whose header was seen
before is refused as a replay (400). A copy of a request, byte for byte, is then never handled
twice, and its author took that for deduplication. It keys nothing by the event id.

But Stripe signs each attempt anew: ``t=`` is the time of that attempt, and ``v1=`` covers it
(PROVIDERS.md), so a redelivery a second later, and every retry, carries a header never seen
before and is handled again — a second order. Only copies sent within the same second share a
header: the second is refused with 400, which Stripe counts as a failure and retries later,
with a new header: an order again. Each checkout is ordered inside the request (``POST
/orders``), answered 200 after it, 500 when it failed.

Must get: under duplicate-storm ``no_duplicate_effects`` fails naming the checkouts ordered
more than once, and ``accepts_genuine`` fails on the copies refused with 400 (signed with the
secret it was given, on time); nothing lost. With ``DEDUP=event`` (each event id handled once,
claimed before the call and released when it fails, and no replay set: the signature's
5-minute tolerance is the replay protection) every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.signature_nonce --port 8000
"""

from __future__ import annotations

import logging
import os

import aiohttp
from aiohttp import web

from . import _serve
from ._stripe import order_of, read_event

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
SEEN: web.AppKey[set[str]] = web.AppKey("seen", set)
BY_EVENT = os.environ.get("DEDUP") == "event"

log = logging.getLogger("signature_nonce")


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[SEEN] = set()
    app.cleanup_ctx.append(_serve.client_session(API, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        seen = request.app[SEEN]
        key = event["id"] if BY_EVENT else request.headers["Stripe-Signature"]
        if key in seen:
            if BY_EVENT:
                return web.json_response({"received": True})
            log.warning("replayed request refused: %s", event["id"])
            return web.json_response({"error": "replayed request"}, status=400)
        seen.add(key)
        if event.get("type") != "checkout.session.completed":
            return web.json_response({"received": True})
        try:
            async with request.app[API].post("/orders", json=order_of(event)) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            if BY_EVENT:
                seen.discard(key)
            return web.json_response({"error": "CRM unavailable"}, status=500)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


if __name__ == "__main__":
    _serve.run_stripe("python -m tests.gallery.signature_nonce", "CRM_URL", build_app)
