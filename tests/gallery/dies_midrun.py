"""Order webhooks -> payouts, from a process that dies between requests after N events.

Written correctly as far as each request goes (dedup by event id, the payout made before the
200). But it flushes its dedup log from a background timer, and that flush kills the process
once the log reaches a size (here: exits with ``os._exit`` after ``--die-after`` events), as an
OOM kill, a segfault in a C extension or a ``sys.exit`` in a worker thread would. Nothing is in
flight when it dies: no request is cut, no 5xx is ever sent; every later delivery simply finds
no one listening.

Must get: fail (``target_available``, or ``no_server_errors`` counting the refused connections),
never Ready, exit code 1.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.dies_midrun --die-after 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
SEEN: web.AppKey[set[str]] = web.AppKey("seen", set)
FLUSH_EVERY = 0.05  # s


def build_app(api_url: str, die_after: int) -> web.Application:
    app = web.Application()
    app[SEEN] = set()

    async def flush(seen: set[str]) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            if len(seen) >= die_after:
                os._exit(70)  # the crash: between requests, with nothing in flight

    async def context(app: web.Application) -> AsyncIterator[None]:
        app[API] = aiohttp.ClientSession(api_url, timeout=aiohttp.ClientTimeout(total=10))
        task = asyncio.create_task(flush(app[SEEN]))
        yield
        task.cancel()
        await app[API].close()

    app.cleanup_ctx.append(context)

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        seen = request.app[SEEN]
        if event["id"] in seen:
            return web.json_response({"duplicate": True})
        data = event["data"]
        payout = {
            "order_id": data["order_id"],
            "amount": data["amount"],
            "currency": data["currency"],
            "email": data["customer"]["email"],
        }
        try:
            async with request.app[API].post(
                "/payouts", json=payout, headers={"Idempotency-Key": event["id"]}
            ) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": str(exc)}, status=503)
        seen.add(event["id"])
        return web.json_response({"paid": True})

    app.router.add_post("/hooks/orders", webhook)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--die-after", type=int, default=20)
    known, rest = parser.parse_known_args()
    opts = _serve.options("python -m tests.gallery.dies_midrun", "PAYOUTS_URL", rest)
    _serve.run(build_app(opts.downstream, known.die_after), opts.port)


if __name__ == "__main__":
    main()
