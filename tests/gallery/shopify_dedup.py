"""Shopify ``orders/create`` -> a CRM deal, each webhook handled once. Stateful.

Written by the book (Shopify's docs): verify ``X-Shopify-Hmac-Sha256`` over the raw body,
answer within seconds, and handle each ``X-Shopify-Webhook-Id`` once — a redelivery keeps its
id. The ids handled are kept for the life of the process (a real one keeps them in Redis or a
table for days), so a webhook id seen in any earlier run is answered 200 and not acted on: as
it should be, for a redelivery. A harness that sent the same ids in its clean run and in the
run after it would see every event of the second run skipped.

Must get: ``no_lost_events`` and ``no_duplicate_effects`` pass under duplicates sent one after
the other, in a run after its clean run, in the same process. Its one gap: the id is marked once
the deal is written, so two copies at the same instant both pass the check (the built-in
duplicate-storm): ``no_duplicate_effects`` fails naming the race (tests/test_gallery_raced.py).

With ``DEDUP_HEADER=X-Shopify-Event-Id`` it keys by the event's id instead, the header
shopify.dev's "Ignore duplicate webhooks" names; a sender without that header gives it "" for
every webhook, and every one after the first is skipped as done.

    export SHOPIFY_WEBHOOK_SECRET=...
    python -m tests.gallery.shopify_dedup --downstream http://127.0.0.1:9100   # or CRM_URL=...
"""

from __future__ import annotations

import json
import os

import aiohttp
from aiohttp import web

from . import _serve, _shopify

HANDLED: web.AppKey[set[str]] = web.AppKey("handled", set)
CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


DEDUP_HEADER = os.environ.get("DEDUP_HEADER", "X-Shopify-Webhook-Id")


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[HANDLED] = set()

    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def orders_create(request: web.Request) -> web.Response:
        body = await request.read()
        if not _shopify.verified(body, request.headers.get("X-Shopify-Hmac-Sha256"), secret):
            return web.Response(status=401)
        webhook_id = request.headers.get(DEDUP_HEADER, "")
        handled = request.app[HANDLED]
        if webhook_id in handled:
            return web.Response(status=200)  # a redelivery: done before
        order = json.loads(body)
        deal = {
            "shopify_order": order["id"],
            "email": order.get("email"),
            "total": order.get("total_price"),
            "currency": order.get("currency"),
        }
        try:
            async with request.app[CRM].post("/deals", json=deal) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Shopify retries
        handled.add(webhook_id)  # once the work is done
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", orders_create)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.shopify_dedup", "CRM_URL")
    _serve.run(build_app(opts.downstream, os.environ["SHOPIFY_WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
