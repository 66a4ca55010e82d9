"""Stripe checkouts -> the CRM's orders, the CRM's blocking client run on a thread pool whose
tasks wait on tasks of the same pool.

The CRM's client is blocking (``requests``), so the async receiver runs each checkout's sync on
a pool of four threads (``loop.run_in_executor``). The sync makes its two look-ups — the
customer by email, and an order already made for the Checkout Session — "in parallel", as
tasks submitted to the same pool, and waits on them before it creates the order. One checkout
at a time takes three threads of four. Four at once take all four threads with syncs, each
waiting on look-ups queued behind them that no thread is left to run: the pool is deadlocked,
for good — every later checkout queues behind it, and each delivery waits until Stripe gives
it up. With ``LOOKUPS=own-pool`` the look-ups run on a pool of their own, which a sync never
waits for a thread of.

Must get, under a burst: not Ready — the deliveries unanswered from the moment the pool filled,
none of the later ones making a call (stuck, not slow); with ``LOOKUPS=own-pool`` every
verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.shared_executor --port 8000
"""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from aiohttp import web

from . import _serve, _stripe

SYNCS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="crm")
# The flaw: the look-ups share the syncs' pool, and a sync waits on them holding its thread.
LOOKUPS = ThreadPoolExecutor(4, "lookup") if os.environ.get("LOOKUPS") == "own-pool" else SYNCS


class Crm:
    """The CRM's API through a blocking client, as its SDK gives it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def get(self, path: str, **params: str) -> Any:
        answer = self.http.get(self.base_url + path, params=params, timeout=10)
        answer.raise_for_status()
        return answer.json() if answer.content else None

    def post(self, path: str, body: dict[str, Any]) -> None:
        self.http.post(self.base_url + path, json=body, timeout=10).raise_for_status()


def sync_checkout(crm: Crm, session: dict[str, Any]) -> None:
    """The checkout's order, made once, naming the CRM's customer where it has one."""
    email = (session.get("customer_details") or {}).get("email") or ""
    customer = LOOKUPS.submit(crm.get, "/customers", email=email)
    ordered = LOOKUPS.submit(crm.get, "/orders", checkout=session["id"])
    if ordered.result():
        return  # this session's order exists
    found = customer.result()
    crm.post(
        "/orders",
        {
            "checkout": session["id"],
            "customer": found[0]["id"] if isinstance(found, list) and found else None,
            "email": email,
            "amount": session.get("amount_total"),
            "currency": session.get("currency"),
        },
    )


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    crm = Crm(crm_url)

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed":
            return web.json_response({"received": True})
        session = event["data"]["object"]
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(SYNCS, sync_checkout, crm, session)
        except requests.RequestException as exc:
            return web.json_response({"error": f"CRM: {exc}"}, status=502)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.shared_executor", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
