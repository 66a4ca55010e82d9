"""Order webhooks answered 200 at once and worked off an in-process queue, one at a time.

The shape of n8n's default Webhook node ("Respond: Immediately") or a Flask app that hands each
event to a background thread: the sender hears 200 before anything is done, and the work
follows at the automation's own pace — here a few hundred milliseconds of real time per event
(an enrichment lookup, a slow CRM). It remembers event ids and does each event once, in
arrival order.

Its first "flaw" is that its effects come late, long after the last delivery. A harness whose
settling is compressed with the scenario's clock stops watching while the queue is still
draining and calls the rest lost.

It was thought correct otherwise; the standard suite found more (session 16): the one task that
works the queue reads ``customer.email`` unguarded, and the first order without it (a field
renamed upstream) ends the task — every order after it is lost, though each was answered 200;
a write the API applied and answered 502 is queued again and made twice (no Idempotency-Key);
and a failed write put back at the end of the queue is made after its record's newer orders.

Must get: ``no_lost_events`` and ``no_duplicate_effects`` pass, even at a compressed time scale;
under renamed-field ``no_lost_events`` fails, saying the target stopped working at the first
renamed order.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.background_queue --port 8000
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

WORK = 0.3  # real seconds of work per event
QUEUE: web.AppKey[asyncio.Queue[dict[str, Any]]] = web.AppKey("queue", asyncio.Queue)


def build_app(api_url: str) -> web.Application:
    app = web.Application()

    async def worker(queue: asyncio.Queue[dict[str, Any]]) -> None:
        done: set[str] = set()
        async with aiohttp.ClientSession(api_url) as api:
            while True:
                event = await queue.get()
                if event["id"] in done:
                    continue
                await asyncio.sleep(WORK)
                data = event["data"]
                payout = {
                    "order_id": data["order_id"],
                    "amount": data["amount"],
                    "currency": data["currency"],
                    "email": data["customer"]["email"],
                }
                try:
                    async with api.post("/payouts", json=payout) as r:
                        r.raise_for_status()
                    done.add(event["id"])
                except (aiohttp.ClientError, TimeoutError):
                    queue.put_nowait(event)  # try again after the others

    app.cleanup_ctx.append(_serve.queue_worker(QUEUE, worker))

    async def webhook(request: web.Request) -> web.Response:
        request.app[QUEUE].put_nowait(await request.json())
        return web.json_response({"message": "Workflow was started"})

    app.router.add_post("/webhook/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.background_queue", "PAYOUTS_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
