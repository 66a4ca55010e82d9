"""Stripe checkouts -> the order system's orders, each keyed by the cart it came from.

The shop creates each Checkout Session with its cart's id as ``client_reference_id``, as
Stripe's docs advise for reconciling a payment with one's own records, and its author made
that the order's ``Idempotency-Key`` (``order-<client_reference_id>``): "Stripe sends an event
more than once; the order system replays a key it has seen, so a checkout can never become two
orders". The order carries the session, the email and the amount (``POST /orders``). A 5xx
answers 500 so that Stripe retries; a 4xx is logged and answered 200 — "a client error will not
get better by retrying, and Stripe disables an endpoint that keeps failing".

But not every checkout comes from a cart: Payment Links, the Dashboard's and a second store's
sessions carry no ``client_reference_id`` (Stripe's own sample event has it ``null``). Every
such checkout's key is ``order-None``: the first becomes an order, and the order system, as
Stripe's API does, refuses each later one with 400 — "keys can only be reused with the same
request" (``idempotency_error``) —, which is logged and acknowledged: one order for all of them,
in every run, the clean one too. Stripe's docs warn of exactly this: an idempotency key must be
unique per operation, "V4 UUIDs or another random string with enough entropy".

With ``KEY=event`` the key is the event id: a redelivery replays, two checkouts never collide.
Its second habit stays: a ``429`` is a 4xx too, so a throttled order is logged and acknowledged
— lost under downstream-throttled, with either key.

Must get, with Payment Link checkouts: ``no_lost_events`` fails naming the refused 400s, in a
run whose clean run lost them too (never "ignored by design"); with ``KEY=event`` every verdict
of the everyday hazards holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    ORDERS_URL=http://127.0.0.1:9100 python -m tests.gallery.cart_orders --port 8000
"""

from __future__ import annotations

import logging
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

ORDERS: web.AppKey[aiohttp.ClientSession] = web.AppKey("orders", aiohttp.ClientSession)
log = logging.getLogger("cart_orders")


def key_of(event: dict[str, Any]) -> str:
    if os.environ.get("KEY") == "event":
        return str(event["id"])
    session = event["data"]["object"]
    return f"order-{session.get('client_reference_id')}"  # the flaw: "order-None"


def build_app(orders_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(ORDERS, orders_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed":
            return web.json_response({"ignored": True})
        key = key_of(event)
        try:
            async with request.app[ORDERS].post(
                "/orders", json=_stripe.order_of(event), headers={"Idempotency-Key": key}
            ) as answer:
                if 400 <= answer.status < 500:
                    log.warning("order refused %s: %s", answer.status, await answer.text())
                    return web.json_response({"refused": answer.status})
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Stripe retries
        return web.json_response({"ordered": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.cart_orders", "ORDERS_URL", build_app)


if __name__ == "__main__":
    main()
