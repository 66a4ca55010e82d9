"""order.paid -> ``POST /payouts``, retried on a timeout or a 5xx, each attempt with a new
``Idempotency-Key``.

Its author read that payouts must carry an ``Idempotency-Key`` and that a timeout does not
say whether the payout was made, so its small payments client sends one with every POST —
but the key is made where the call is, ``str(uuid.uuid4())`` inside the client's retry loop,
as many a helper that "adds an idempotency key to every POST" does. Each attempt is a new
request to the payments API: a call that timed out after 1 s while the API was still booking
the payout, or whose answer a proxy turned into a 502, is booked again by the retry, up to 3
more times (50, 100 and 200 ms apart). It answers the webhook 200 once a call went through,
502 when none did.

Must get: ``no_duplicate_effects`` fails under a slow payments API (each call 2.2 s, past the
client's 1 s) naming the orders paid more than once, and its reason says that their repeats
each carried another Idempotency-Key — not that they carried none; every verdict holds where
the API answers in time. With ``PAYOUT_KEY=event`` the key is made once per event,
``payout-<event id>``, before the loop: the retries are the same payout, and must not be
failed.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.fresh_key_retry --port 8000
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

BACKOFF = (0.05, 0.1, 0.2)  # seconds before each retry
CALL_TIMEOUT = 1.0  # seconds a payout call may take


class PaymentsClient:
    """The payments API, as a small hand-written client does it: POSTs retried on a timeout,
    a dropped connection or a 5xx, each carrying an Idempotency-Key."""

    def __init__(self, session: aiohttp.ClientSession, key_per_event: bool) -> None:
        self.session = session
        self.key_per_event = key_per_event

    async def create(self, path: str, body: dict[str, Any], event_id: str) -> bool:
        """True once a call was answered 2xx; False on a 4xx or when every attempt failed."""
        key = f"payout-{event_id}"
        for pause in (0.0, *BACKOFF):
            await asyncio.sleep(pause)
            if not self.key_per_event:
                key = str(uuid.uuid4())  # the flaw: a new key for every attempt
            try:
                async with self.session.post(
                    path, json=body, headers={"Idempotency-Key": key}
                ) as answer:
                    if answer.status < 500:
                        return answer.status < 300
            except (aiohttp.ClientError, TimeoutError):
                pass  # timed out or cut off: try again
        return False


PAYMENTS: web.AppKey[PaymentsClient] = web.AppKey("payments", PaymentsClient)


def build_app(api_url: str, key_per_event: bool) -> web.Application:
    app = web.Application()

    async def payments(app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
        async with aiohttp.ClientSession(api_url, timeout=timeout) as session:
            app[PAYMENTS] = PaymentsClient(session, key_per_event)
            yield

    app.cleanup_ctx.append(payments)

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        if event["type"] != "order.paid":
            return web.json_response({"received": True})
        order = event["data"]
        payout = {
            "amount": order["amount"],
            "currency": order["currency"],
            "destination": order["customer"]["email"],
            "metadata": {"order_id": order["order_id"]},
        }
        if await request.app[PAYMENTS].create("/payouts", payout, event["id"]):
            return web.json_response({"received": True})
        return web.json_response({"error": "payout not made"}, status=502)

    app.router.add_post("/webhook/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.fresh_key_retry", "PAYOUTS_URL")
    key_per_event = os.environ.get("PAYOUT_KEY") == "event"
    _serve.run(build_app(opts.downstream, key_per_event), opts.port)


if __name__ == "__main__":
    main()
