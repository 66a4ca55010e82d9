"""Order webhooks answered 200 at once, buffered, and written to the payouts API in bulk.

The shape of a receiver built to spare a rate-limited API: every event is appended to a buffer
and, every quarter second, the whole buffer goes out as one ``POST /payouts/bulk`` carrying a
list of payouts. Its author treated the bulk call as best effort: when it fails the batch is
logged and dropped — a dozen payouts lost to one 503, though the sender was told each was fine.

Must get: with the API up, ``no_lost_events`` and ``no_duplicate_effects`` pass — one call
carrying many events' values is each of those events' effect, not a duplicate of the others';
while the API answers 503, ``no_lost_events`` and ``recovers_after_outage`` fail, naming the
events of the dropped batch.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.bulk_writer --port 8000
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

FLUSH = 0.25  # real seconds between bulk calls
BUFFER: web.AppKey[list[dict[str, Any]]] = web.AppKey("buffer", list)

_log = logging.getLogger(__name__)


def build_app(api_url: str) -> web.Application:
    app = web.Application()

    async def flusher(buffer: list[dict[str, Any]]) -> None:
        async with aiohttp.ClientSession(api_url) as api:
            while True:
                await asyncio.sleep(FLUSH)
                if not buffer:
                    continue
                batch = buffer[:]
                buffer.clear()
                try:
                    async with api.post("/payouts/bulk", json={"payouts": batch}) as r:
                        r.raise_for_status()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    _log.warning("bulk write of %d payouts failed: %s", len(batch), exc)

    async def background(app: web.Application) -> AsyncIterator[None]:
        app[BUFFER] = []
        task = asyncio.create_task(flusher(app[BUFFER]))
        yield
        task.cancel()

    app.cleanup_ctx.append(background)

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        data = event["data"]
        request.app[BUFFER].append(
            {
                "order_id": data["order_id"],
                "amount": data["amount"],
                "currency": data["currency"],
                "email": data["customer"]["email"],
            }
        )
        return web.json_response({"queued": True})

    app.router.add_post("/webhook/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.bulk_writer", "PAYOUTS_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
