"""Stripe checkouts -> the CRM's contacts, upserted ten to a call, and only ten to a call.

The CRM counts calls against a daily quota, so its author collects the customers of completed
checkouts and writes each full batch of ten in one ``POST /contacts/batch/upsert``, the way
Node-RED's ``join`` node does in count mode with no timeout (tests/node-red/batch.json). Stripe
is answered 200 at once. Nothing ever writes a batch that is not full: the last checkouts of a
quiet evening wait for traffic that may never come, in every run — the clean one too. A
redelivered checkout is collected again, as the join collects every message.

Must get: never a ``no_lost_events`` pass on a run whose last checkouts are still waiting: the
clean run's last ones waited too, which shows where they stood, not that they are skipped on
purpose — inconclusive, saying so, where the run held the same ones last; a failure where
checkouts written after them show they were owed.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.count_batcher --port 8000
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("count_batcher")

BATCH = 10  # contacts per call

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
WAITING: web.AppKey[list[dict[str, Any]]] = web.AppKey("waiting", list)
TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("tasks", set)


def _contact(event: dict[str, Any]) -> dict[str, Any]:
    """The customer who completed the checkout, as the CRM's contact."""
    session = event["data"]["object"]
    details = session.get("customer_details") or {}
    return {
        "email": details.get("email"),
        "name": details.get("name"),
        "stripe_customer": session.get("customer"),
    }


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[WAITING] = []
    app[TASKS] = set()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def upsert(batch: list[dict[str, Any]]) -> None:
        inputs = [{"idProperty": "email", "id": c["email"], "properties": c} for c in batch]
        try:
            async with app[CRM].post("/contacts/batch/upsert", json={"inputs": inputs}) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("batch of %d contacts not written: %s", len(batch), error)

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") == "checkout.session.completed":
            waiting = app[WAITING]
            waiting.append(_contact(event))
            if len(waiting) >= BATCH:
                batch = waiting[:BATCH]
                del waiting[:BATCH]
                task = asyncio.create_task(upsert(batch))
                app[TASKS].add(task)
                task.add_done_callback(app[TASKS].discard)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.count_batcher", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
