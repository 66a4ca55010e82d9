"""Shopify ``orders/updated`` -> the fulfilment service's copy of each order, newest update wins,
by ``updated_at`` read without its offset.

Shopify says webhooks may arrive out of order and gives each order its ``updated_at``, in the
shop's time zone with its offset (``2026-11-01T01:45:00-04:00``). Its author keeps, per order,
the ``updated_at`` of the last update written and writes an update only when it is newer
(``PUT /orders/{id}``, the order's state whole; one lock per order, the mark set once the write
went through, a refused write answered 500 so that Shopify retries). The time is parsed the way
a quick script does it: ``datetime.strptime(updated_at[:19], "%Y-%m-%dT%H:%M:%S")`` — "the
offset is always the shop's" — a naive local time.

True every day but two a year: on the night the clocks go back, the hour from 01:00 to 02:00
comes twice, first at ``-04:00`` and then at ``-05:00``. An update at 01:10 EST, written after
one at 01:50 EDT, reads forty minutes older when it is twenty minutes newer: it is skipped as
stale, and the order keeps the older state until its next update — the last one of its night,
forever. Python's own docs say naive datetimes' comparisons ignore the offset they never had;
``datetime.fromisoformat(updated_at)`` (aware) compares the instants, and is right.

Its clean run, each update once and in order, skips the same updates: a harness that compares
the run only with its clean run sees the same final state in both.

Must get: under tests/gallery/scenarios/shopify-orders-dst-night.yaml (orders updated across
the fall-back hour, recorded), the orders whose last update was skipped are not passed
silently: a register's record must end in its newest event's state (DESIGN.md), whatever the
clean run did; with ``PARSE=aware``, every verdict passes.

    export SHOPIFY_WEBHOOK_SECRET=shpss_...
    FULFILMENT_URL=http://127.0.0.1:9100 python -m tests.gallery.dst_orders --port 8000
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from datetime import datetime

import aiohttp
from aiohttp import web

from . import _serve, _shopify

PARSE = os.environ.get("PARSE", "naive")

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def updated(order: dict[str, str]) -> datetime:
    """The order's ``updated_at``: naive, its offset cut (the flaw), or aware (``PARSE=aware``)."""
    if PARSE == "aware":
        return datetime.fromisoformat(order["updated_at"])
    return datetime.strptime(order["updated_at"][:19], "%Y-%m-%dT%H:%M:%S")


def build_app(fulfilment_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(API, fulfilment_url))
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    written: dict[str, datetime] = {}  # order id -> the updated_at of its state written

    async def webhook(request: web.Request) -> web.Response:
        order = await _shopify.read_order(request, secret)
        if order is None:
            return web.Response(status=401)
        key, at = str(order["id"]), updated(order)
        async with locks[key]:
            if key in written and at <= written[key]:
                return web.Response()  # older than the state written: stale
            state = {
                "name": order["name"],
                "financial_status": order["financial_status"],
                "fulfillment_status": order["fulfillment_status"],
                "note": order["note"],
                "updated_at": order["updated_at"],
            }
            async with request.app[API].put(f"/orders/{key}", json=state) as answer:
                if answer.status >= 300:
                    return web.Response(status=500)
            written[key] = at
        return web.Response()

    app.router.add_post("/webhooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.dst_orders", "FULFILMENT_URL")
    _serve.run(build_app(opts.downstream, os.environ["SHOPIFY_WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
