"""Order webhooks -> the payouts API in bulk, each flush written to the API's audit log.

A receiver built to spare a rate-limited API: every event is answered 200 at once and
buffered; every quarter second the buffer (two payouts or more: one alone waits for company)
goes out as one ``POST /payouts/bulk``. A batch the API refuses is kept whole and posted again
half a second later, whatever ``Retry-After`` said — its author read "retry later" as "retry on
the next ticks". After each bulk call the flusher appends a line to the API's audit log
(``POST /audit``, naming the batch by its size and answer only) and, "the audit trail must not
miss a line", posts it again at once while it is refused, up to 30 times.

Must get, under a throttle (429, Retry-After 1 s; tests/gallery/scenarios/
orders-bulk-throttled.yaml): ``backs_off`` not passed, and every reason it cannot judge said —
the batches made again within their Retry-After, which only their events' deliveries counted
together would excuse (a batch re-sent on a timer, or each delivery's handler sending it once:
the run cannot tell which), and the audit lines posted 30 times in a few milliseconds, which
name no event (a storm the rule cannot attribute). The first reason alone was said.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.audited_bulk --port 8000
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

FLUSH = 0.25  # real seconds between bulk calls
AGAIN = 0.5  # real seconds before a refused batch is posted again
ALONE = 2.0  # real seconds a lone payout waits for company before it goes out by itself
AUDIT_TRIES = 30
BUFFER: web.AppKey[list[dict[str, Any]]] = web.AppKey("buffer", list)

_log = logging.getLogger(__name__)


def build_app(api_url: str) -> web.Application:
    app = web.Application()

    async def call(api: aiohttp.ClientSession, path: str, body: Any) -> int:
        """The answer's status; 0 where the connection failed (a pooled one the API closed)."""
        try:
            async with api.post(path, json=body) as r:
                return r.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            _log.warning("POST %s failed: %s", path, exc)
            return 0

    async def audit(api: aiohttp.ClientSession, size: int, status: int) -> None:
        for _ in range(AUDIT_TRIES):  # the flaw: no pause between tries
            if 0 < await call(api, "/audit", {"batch": size, "answer": status}) < 400:
                return
        _log.warning("audit line for a batch of %d not written", size)

    async def post(api: aiohttp.ClientSession, batch: list[dict[str, Any]]) -> None:
        """Posts ``batch`` until the API takes it, ``AGAIN`` seconds apart (the flaw: its
        ``Retry-After`` unread)."""
        while True:
            status = await call(api, "/payouts/bulk", {"payouts": batch})
            await audit(api, len(batch), status)
            if 0 < status < 400:
                return
            await asyncio.sleep(AGAIN)

    async def flusher(app: web.Application) -> None:
        buffer = app[BUFFER]
        async with aiohttp.ClientSession(api_url) as api:
            waited = 0.0
            while True:
                await asyncio.sleep(FLUSH)
                waited = waited + FLUSH if len(buffer) == 1 else 0.0
                if len(buffer) < 2 and waited < ALONE:
                    continue
                batch = buffer[:]
                buffer.clear()
                await post(api, batch)

    app[BUFFER] = []
    app.cleanup_ctx.append(_serve.worker_tasks(1, flusher))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        payout = {k: event["data"][k] for k in ("order_id", "amount", "currency")}
        request.app[BUFFER].append({"event_id": event["id"], **payout})
        return web.json_response({"queued": True})

    app.router.add_post("/webhook/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.audited_bulk", "PAYOUTS_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
