"""Shopify ``orders/create`` -> the CRM's orders, behind a circuit breaker.

Answered 200 at once (Shopify allows 5 s), the order sent on in the background. Its author put
a circuit breaker in front of the CRM, as resilience libraries (pybreaker, opossum, Polly)
teach: after 3 failed calls in a row it opens for 2 s and calls nothing, so a CRM that is down
is not hammered; then one call probes, and a success closes it. What it does with the orders
that meet an open breaker is the difference: by default they are skipped (logged "circuit
open" — the breaker's fallback returns nothing), and so is the order whose call failed. With
``ON_OPEN=queue`` they are parked and sent again, in order, once the breaker closes.

Must get, under a CRM outage: skipping, ``no_lost_events`` and ``recovers_after_outage`` fail,
naming the orders never sent; parking, both pass and nothing is written twice.

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.circuit_breaker --port 8000
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
BREAKER: web.AppKey[Breaker] = web.AppKey("breaker")
PARK = os.environ.get("ON_OPEN") == "queue"
FAILURES = 3  # failed calls in a row that open the breaker
OPEN_FOR = 2.0  # seconds it stays open


class Breaker:
    """Closed, open for OPEN_FOR seconds after FAILURES failures in a row, then half-open: the
    next call probes."""

    def __init__(self) -> None:
        self.failures = 0
        self.opened_at: float | None = None
        self.parked: list[dict[str, Any]] = []

    def allows(self) -> bool:
        return self.opened_at is None or time.monotonic() - self.opened_at >= OPEN_FOR

    def succeeded(self) -> None:
        self.failures, self.opened_at = 0, None

    def failed(self) -> None:
        self.failures += 1
        if self.failures >= FAILURES:
            self.opened_at = time.monotonic()


async def send_order(app: web.Application, order: dict[str, Any]) -> None:
    breaker = app[BREAKER]
    if not breaker.allows():
        if PARK:
            breaker.parked.append(order)
        return  # the flaw of the default fallback: the order is dropped, Shopify heard 200
    crm_order = {
        "shopify_id": order["id"],
        "number": order.get("order_number"),
        "email": order.get("email"),
        "total": order.get("total_price"),
        "currency": order.get("currency"),
    }
    try:
        async with app[CRM].post("/orders", json=crm_order) as answer:
            answer.raise_for_status()
    except (aiohttp.ClientError, TimeoutError):
        breaker.failed()
        if PARK:
            breaker.parked.append(order)
        return
    breaker.succeeded()
    if PARK and breaker.parked:
        waiting, breaker.parked = breaker.parked, []
        for parked in waiting:
            await send_order(app, parked)


async def retry_parked(app: web.Application) -> None:
    """Once the breaker lets a call through again, the first parked order probes it."""
    breaker = app[BREAKER]
    while True:
        await asyncio.sleep(0.5)
        if breaker.parked and breaker.allows():
            await send_order(app, breaker.parked.pop(0))


def build_app(crm_url: str) -> web.Application:
    app = web.Application()
    app[BREAKER] = Breaker()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))
    tasks: set[asyncio.Task[None]] = set()

    async def prober(app: web.Application) -> Any:
        task = asyncio.create_task(retry_parked(app))
        yield
        task.cancel()

    if PARK:
        app.cleanup_ctx.append(prober)

    async def webhook(request: web.Request) -> web.Response:
        order = await request.json()
        task = asyncio.create_task(send_order(request.app, order))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.circuit_breaker", "CRM_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
