"""Stripe checkouts -> the CRM's contacts, by a bounded pool of workers.

Answered at once and worked off by ``WORKERS`` workers from a queue of at most ``QUEUE_SIZE``
checkouts, as ``ThreadPoolExecutor`` plus a bounded ``queue.Queue``, a Celery prefetch limit or
an n8n queue-mode concurrency setting give it: bounded so that a flood cannot eat the
process's memory. Each checkout's contact is one ``POST /contacts``, after an enrichment
look-up of ``WORK`` seconds. What happens when the queue is full (``WHEN_FULL``) is the
difference:

- ``drop`` (the default): the checkout is logged ("queue full, dropping") and Stripe still
  hears 200 — the ``except queue.Full: log.warning(...)`` that ends many such handlers;
- ``refuse``: Stripe hears 503 with ``Retry-After``, and retries it later, when the pool has
  room.

Must get, under a burst the pool cannot keep up with: ``drop`` fails ``no_lost_events``,
naming the checkouts answered 200 and never written; ``refuse`` never calls the refused ones
lost (Stripe was told), and says what became of them.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.worker_pool --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("worker_pool")

# A test may halve both: the same rate of work, a clean run (one checkout at a time) in less.
WORKERS = int(os.environ.get("WORKERS", "4"))
QUEUE_SIZE = 20
WORK = float(os.environ.get("WORK", "0.1"))  # s of enrichment look-up per checkout
REFUSE = os.environ.get("WHEN_FULL") == "refuse"

QUEUE: web.AppKey[asyncio.Queue[dict[str, Any]]] = web.AppKey("queue", asyncio.Queue)


def _contact(event: dict[str, Any]) -> dict[str, Any]:
    session = event["data"]["object"]
    details = session.get("customer_details") or {}
    return {
        "email": details.get("email"),
        "name": details.get("name"),
        "stripe_customer": session.get("customer"),
    }


async def work(crm: aiohttp.ClientSession, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        event = await queue.get()
        await asyncio.sleep(WORK)
        try:
            async with crm.post("/contacts", json=_contact(event)) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("contact of %s not written: %s", event["id"], error)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()

    async def pool(app: web.Application) -> AsyncIterator[None]:
        app[QUEUE] = asyncio.Queue(QUEUE_SIZE)
        async with aiohttp.ClientSession(crm_url) as crm:
            workers = [asyncio.create_task(work(crm, app[QUEUE])) for _ in range(WORKERS)]
            yield
            for worker in workers:
                worker.cancel()

    app.cleanup_ctx.append(pool)

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") == "checkout.session.completed":
            try:
                request.app[QUEUE].put_nowait(event)
            except asyncio.QueueFull:
                if REFUSE:
                    return web.Response(status=503, headers={"Retry-After": "1"})
                log.warning("queue full, dropping %s", event["id"])
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.worker_pool", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
