"""Shopify ``orders/create`` -> the fulfilment service's orders, the HMAC checked when there is
one.

Its author verifies ``X-Shopify-Hmac-Sha256`` as Shopify's docs give it, inside a helper
written for the shop's two senders: Shopify, which signs, and an old internal order tool that
posts the same JSON unsigned. So the helper refuses a request whose header is present and wrong
(401) and lets one without the header through — "nobody can forge a signature they do not
send". Each ``X-Shopify-Webhook-Id`` is handled once (an unsigned request has none, and is
handled every time); each order ``POST /orders``, 500 when it fails so that Shopify retries.

Anyone who knows the URL can then create orders by leaving the header out: fulfilment ships
what nobody paid for. The same fail-open check is reported again and again: "a POST request
without a signature header is still accepted because the verification helper returns ``true``
when ``signature`` is falsy" (krkn-chaos/krkn#1277), an Express ``verify`` callback that only
warns when ``x-hub-signature-256`` is missing (fbsamples/whatsapp-business-jaspers-market#37).

With ``REQUIRE_SIGNATURE=1`` a request without the header is refused 401 too.

Must get, under forged-signature: ``rejects_forged`` fails naming the unsigned deliveries
answered 2xx and the orders they made, and nothing else (a forged signature and a stale one
are refused: no timestamp is signed, so a replay is a redelivery); with
``REQUIRE_SIGNATURE=1`` it holds.

    export SHOPIFY_WEBHOOK_SECRET=...
    FULFILMENT_URL=http://127.0.0.1:9100 python -m tests.gallery.unsigned_orders --port 8000
"""

from __future__ import annotations

import json
import os

import aiohttp
from aiohttp import web

from . import _serve, _shopify

HELD: web.AppKey[set[str]] = web.AppKey("held", set)
FULFILMENT: web.AppKey[aiohttp.ClientSession] = web.AppKey("fulfilment", aiohttp.ClientSession)


def trusted(body: bytes, header: str | None, secret: str, *, required: bool) -> bool:
    if header is None and not required:
        return True  # the flaw: "the internal tool does not sign"
    return _shopify.verified(body, header, secret)


def build_app(fulfilment_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[HELD] = set()
    required = os.environ.get("REQUIRE_SIGNATURE") == "1"
    app.cleanup_ctx.append(_serve.client_session(FULFILMENT, fulfilment_url))

    async def orders_create(request: web.Request) -> web.Response:
        body = await request.read()
        if not trusted(
            body, request.headers.get("X-Shopify-Hmac-Sha256"), secret, required=required
        ):
            return web.Response(status=401)
        order = json.loads(body)
        webhook_id = request.headers.get("X-Shopify-Webhook-Id")
        held = request.app[HELD]
        if webhook_id and webhook_id in held:
            return web.Response(status=200)
        fulfilment = {
            "order": order.get("id"),
            "name": order.get("name"),
            "email": order.get("email"),
            "total": order.get("total_price"),
            "currency": order.get("currency"),
        }
        try:
            async with request.app[FULFILMENT].post("/orders", json=fulfilment) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Shopify retries
        if webhook_id:
            held.add(webhook_id)
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", orders_create)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.unsigned_orders", "FULFILMENT_URL")
    _serve.run(build_app(opts.downstream, os.environ["SHOPIFY_WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
