"""order.paid -> ``POST /payouts``, retried on a timeout or a 5xx, with no idempotency key.

Its author made the payout call survive a flaky payments API the usual way: on a timeout, a
dropped connection or a 5xx it tries again, up to 3 more times, 50, 100 and 200 ms apart, and
answers the webhook 200 once a call went through (502 when none did, so the sender retries).
But a 5xx or a timeout does not say the payout was not made: an API that booked it and then
failed the answer (a proxy's 502 after the commit) gets the same payout again from the retry,
and again — each call a new payout, since nothing tells the API they are one.

Must get: ``no_duplicate_effects`` fail naming the event paid twice under the double's
``commit-then-fail`` fault; every verdict passes without faults. With ``PAYOUT_IDEMPOTENCY_KEY``
set it sends ``Idempotency-Key: payout-<event id>`` with every attempt, as the payments API
asks: then its retries are harmless and must not be failed.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.retry_no_key --port 8000
"""

from __future__ import annotations

import asyncio
import os

import aiohttp
from aiohttp import web

from . import _serve

BACKOFF = (0.05, 0.1, 0.2)  # seconds before each retry
API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def build_app(api_url: str, keyed: bool) -> web.Application:
    app = web.Application()

    app.cleanup_ctx.append(_serve.client_session(API, api_url, timeout=2))

    async def pay(api: aiohttp.ClientSession, payout: dict[str, object], key: str) -> bool:
        headers = {"Idempotency-Key": key} if keyed else {}
        for pause in (0.0, *BACKOFF):
            await asyncio.sleep(pause)
            try:
                async with api.post("/payouts", json=payout, headers=headers) as r:
                    if r.status < 500:
                        return r.status < 300
            except (aiohttp.ClientError, TimeoutError):
                pass  # the flaw, without a key: the payout may have been made
        return False

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        if event["type"] != "order.paid":
            return web.json_response({"received": True})
        data = event["data"]
        payout = {
            "amount": data["amount"],
            "currency": data["currency"],
            "destination": data["customer"]["email"],
            "metadata": {"order_id": data["order_id"]},
        }
        if not await pay(request.app[API], payout, f"payout-{event['id']}"):
            return web.json_response({"error": "payments API unavailable"}, status=502)
        return web.json_response({"received": True})

    app.router.add_post("/webhook/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.retry_no_key", "PAYOUTS_URL")
    keyed = bool(os.environ.get("PAYOUT_IDEMPOTENCY_KEY"))
    _serve.run(build_app(opts.downstream, keyed), opts.port)


if __name__ == "__main__":
    main()
