"""Shopify ``orders/create`` -> loyalty points: read the member's balance, write it back. Flawed.

A point per whole unit of the order's total, on the customer's loyalty account: ``GET
/members/{customer id}`` for the balance (404: a new member, none yet), then ``PUT
/members/{customer id}`` with ``points`` = balance + the order's points. Each webhook is
handled once (``X-Shopify-Webhook-Id``), after its HMAC is checked. Nothing holds the read and
the write of one member together: two orders of one customer handled at once both read the
same balance, and the second ``PUT`` overwrites the first's points — a lost update. Every
order made its write; the balance is short.

Must get, under orders of one customer at once: not a pass of the balance —
``final_state_matches_baseline`` fails on the members whose points differ from the clean
run's (or says why it cannot judge them); duplicates and bursts of separate customers hold.

    export SHOPIFY_WEBHOOK_SECRET=...
    LOYALTY_URL=http://127.0.0.1:9100 python -m tests.gallery.loyalty_points --port 8000
"""

from __future__ import annotations

import json
import os
from decimal import Decimal

import aiohttp
from aiohttp import web

from . import _serve, _shopify

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
HANDLED: web.AppKey[set[str]] = web.AppKey("handled", set)


async def _award(api: aiohttp.ClientSession, customer: str, email: str, points: int) -> None:
    async with api.get(f"/members/{customer}") as found:
        if found.status == 404:
            balance = 0
        else:
            found.raise_for_status()
            balance = int((await found.json()).get("points", 0))
    member = {"customer": customer, "email": email, "points": balance + points}
    async with api.put(f"/members/{customer}", json=member) as written:
        written.raise_for_status()


def build_app(api_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[HANDLED] = set()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def orders_create(request: web.Request) -> web.Response:
        body = await request.read()
        if not _shopify.verified(body, request.headers.get("X-Shopify-Hmac-Sha256"), secret):
            return web.Response(status=401)
        webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
        if webhook_id in request.app[HANDLED]:
            return web.Response(status=200)
        order = json.loads(body)
        customer = order.get("customer") or {}
        if not customer.get("id"):
            return web.Response(status=200)  # a guest order earns nothing
        points = int(Decimal(order.get("total_price") or "0"))
        try:
            await _award(request.app[API], str(customer["id"]), order.get("email", ""), points)
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Shopify retries
        request.app[HANDLED].add(webhook_id)
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", orders_create)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.loyalty_points", "LOYALTY_URL")
    _serve.run(build_app(opts.downstream, os.environ["SHOPIFY_WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
