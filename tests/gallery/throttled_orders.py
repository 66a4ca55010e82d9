"""Shopify ``orders/create`` -> a fulfilment API's order. Throttled, it drops the order.

Verifies ``X-Shopify-Hmac-Sha256``, handles each ``X-Shopify-Webhook-Id`` once, answers 200 at
once (Shopify gives five seconds) and sends the order on in a background task: ``POST
/orders``. The fulfilment API rate-limits: ``429 Too Many Requests`` with ``Retry-After``. Its
author logged the 429 as "rate limited, skipping" and moved on, the way a first version of a
sync does: the order is acknowledged to Shopify and never reaches fulfilment.

With ``HONOUR_RETRY_AFTER=1`` it does what the API asks: waits the ``Retry-After`` seconds
(capped at 30) and sends again, up to eight times; any other failure is retried the same way
after a second. Correct.

Must get, under a throttled downstream: dropping, ``no_lost_events`` fails naming the orders
whose only ``POST /orders`` was answered 429; honouring, ``no_lost_events`` and
``no_duplicate_effects`` pass (a 429 refused the call: its repeat is not a second order).

    export SHOPIFY_WEBHOOK_SECRET=...
    FULFILMENT_URL=http://127.0.0.1:9100 python -m tests.gallery.throttled_orders --port 8000
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _shopify

log = logging.getLogger("throttled_orders")

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
HANDLED: web.AppKey[set[str]] = web.AppKey("handled", set)
TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("tasks", set)
HONOUR_RETRY_AFTER = os.environ.get("HONOUR_RETRY_AFTER") == "1"
TRIES = 8


async def _send(api: aiohttp.ClientSession, order: dict[str, Any]) -> None:
    for _ in range(TRIES if HONOUR_RETRY_AFTER else 1):
        wait = 1.0
        try:
            async with api.post("/orders", json=order) as answer:
                if answer.status == 429:
                    if not HONOUR_RETRY_AFTER:
                        log.warning("rate limited, skipping order %s", order["shopify_id"])
                        return  # the flaw: acknowledged to Shopify, never sent
                    wait = min(float(answer.headers.get("Retry-After", "1")), 30.0)
                else:
                    answer.raise_for_status()
                    return
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("fulfilment call failed: %s", error)
            if not HONOUR_RETRY_AFTER:
                return
        await asyncio.sleep(wait)
    log.error("order %s not sent after %d tries", order["shopify_id"], TRIES)


def build_app(api_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[HANDLED] = set()
    app[TASKS] = set()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def orders_create(request: web.Request) -> web.Response:
        body = await request.read()
        if not _shopify.verified(body, request.headers.get("X-Shopify-Hmac-Sha256"), secret):
            return web.Response(status=401)
        webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
        if webhook_id in request.app[HANDLED]:
            return web.Response(status=200)
        request.app[HANDLED].add(webhook_id)
        order = json.loads(body)
        item = {
            "shopify_id": order["id"],
            "name": order.get("name"),
            "email": order.get("email"),
            "lines": [
                {"sku": line.get("sku"), "quantity": line.get("quantity")}
                for line in order.get("line_items", [])
            ],
        }
        task = asyncio.create_task(_send(request.app[API], item))
        request.app[TASKS].add(task)
        task.add_done_callback(request.app[TASKS].discard)
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", orders_create)
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    opts = _serve.options("python -m tests.gallery.throttled_orders", "FULFILMENT_URL")
    _serve.run(build_app(opts.downstream, os.environ["SHOPIFY_WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
