"""Shopify ``orders/create`` -> loyalty points, one customer's orders serialised by a lock that is
thrown away once free.

A point per whole unit of the order's total, on the customer's loyalty account: ``GET
/members/{customer id}`` for the balance (404: a new member), then ``PUT`` it back with the
points added; a redelivery (its ``X-Shopify-Webhook-Id`` awarded already) is answered 200. Its
author knew that two orders of one customer at once would both read the same
balance (tests/gallery/loyalty_points), and took an ``asyncio.Lock`` per customer around the
read and the write. A lock per customer ever seen grows for the life of the process, so each
one is removed from the dict once nobody holds it (``if not lock.locked(): del locks[id]``) —
the way the question is answered on many a forum.

But ``asyncio.Lock.release()`` frees the lock before the next waiter takes it: as the holder
leaves, ``locked()`` is False while another order of the customer still waits on it. The lock
is removed; the next order to arrive makes a new one and takes it at once, and reads the
balance while the waiter, with the old lock, reads it too. One order's points are written over.

With ``LOCKS=kept`` the locks are never removed (a ``defaultdict``): every order of a customer
waits on the one lock.

Must get, under a customer's orders arriving faster than its API answers: not a pass of the
balance — ``final_state_matches_baseline`` fails on the members whose points fall short of the
clean run's; kept, no failure.

    export SHOPIFY_WEBHOOK_SECRET=...
    LOYALTY_URL=http://127.0.0.1:9100 python -m tests.gallery.pruned_locks --port 8000
"""

from __future__ import annotations

import asyncio
import os
from decimal import Decimal

import aiohttp
from aiohttp import web

from . import _serve, _shopify
from .loyalty_points import _award  # the same API, read and written the same way

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def build_app(api_url: str, secret: str, prune: bool) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))
    locks: dict[str, asyncio.Lock] = {}
    handled: set[str] = set()  # X-Shopify-Webhook-Id of each order awarded (a table, for real)

    async def orders_create(request: web.Request) -> web.Response:
        order = await _shopify.read_order(request, secret)
        if order is None:
            return web.Response(status=401)
        webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
        customer = order.get("customer") or {}
        if webhook_id in handled or not customer.get("id"):
            return web.Response(status=200)  # awarded already; or a guest order, earning nothing
        member = str(customer["id"])
        points = int(Decimal(order.get("total_price") or "0"))
        lock = locks.setdefault(member, asyncio.Lock())
        try:
            async with lock:
                if webhook_id in handled:  # a redelivery that waited behind its twin
                    return web.Response(status=200)
                await _award(request.app[API], member, order.get("email", ""), points)
                handled.add(webhook_id)
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Shopify retries
        finally:
            if prune and not lock.locked():
                locks.pop(member, None)
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", orders_create)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.pruned_locks", "LOYALTY_URL")
    prune = os.environ.get("LOCKS") != "kept"
    _serve.run(build_app(opts.downstream, os.environ["SHOPIFY_WEBHOOK_SECRET"], prune), opts.port)


if __name__ == "__main__":
    main()
