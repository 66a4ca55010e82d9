"""Order webhooks answered 200 at once, stored, and paid out by a job scheduled seconds later.

The shape of a flow that batches on a window (n8n's Wait node, a "sync every few minutes"
Zapier step, a receiver that schedules a job for the orders of the last window): the webhook
only stores the order; the first order of a window schedules a job INTERVAL seconds later that
pays out everything stored by then. Each order well formed is paid out once, none dropped,
but its work comes seconds after the deliveries. Not correct for every order, though (found by
the standard suite's renamed-field): an order without ``customer.email`` raises ``KeyError`` in
the job, which ends — no order is paid again until the process restarts, and the webhook goes
on answering 200.

A harness that stops watching after a second or two of quiet sees none of it: the clean run
made nothing (read as "ignored by design"), and so did the run.

Must get: with the settle quiet shorter than the job's interval, no verdict that passes or
fails on effects it did not see: ``no_lost_events`` and ``no_duplicate_effects`` inconclusive,
saying why; with ``--settle-quiet`` longer than the interval, both pass.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.scheduled_sync --port 8000
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

INTERVAL = 4.0  # real seconds from a window's first order to the job that pays it out
STORE: web.AppKey[dict[str, dict[str, Any]]] = web.AppKey("store", dict)
WOKEN: web.AppKey[asyncio.Event] = web.AppKey("woken", asyncio.Event)


def build_app(api_url: str) -> web.Application:
    app = web.Application()

    async def job(store: dict[str, dict[str, Any]], woken: asyncio.Event) -> None:
        paid: set[str] = set()
        async with aiohttp.ClientSession(api_url) as api:
            while True:
                await woken.wait()  # the window's first order
                await asyncio.sleep(INTERVAL)
                woken.clear()
                for event_id, data in list(store.items()):
                    if event_id in paid:
                        continue
                    payout = {
                        "order_id": data["order_id"],
                        "amount": data["amount"],
                        "currency": data["currency"],
                        "email": data["customer"]["email"],
                    }
                    try:
                        async with api.post("/payouts", json=payout) as r:
                            r.raise_for_status()
                        paid.add(event_id)
                    except (aiohttp.ClientError, TimeoutError):
                        logging.warning("payout of %s failed; next run", event_id)

    async def scheduled(app: web.Application) -> AsyncIterator[None]:
        app[STORE], app[WOKEN] = {}, asyncio.Event()
        task = asyncio.create_task(job(app[STORE], app[WOKEN]))
        yield
        task.cancel()

    app.cleanup_ctx.append(scheduled)

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        request.app[STORE].setdefault(event["id"], event["data"])
        request.app[WOKEN].set()
        return web.json_response({"stored": True})

    app.router.add_post("/webhook/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.scheduled_sync", "PAYOUTS_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
