"""Shopify ``orders/create`` -> a packing-slip service, each order kept once by its name.
Stateful; correct one delivery at a time.

Written the way small Shopify apps often are: the order's ``name`` ("#1001") is what the
merchant sees in the admin, on the packing slip and in every email, so it is the key the app
stores orders under and sends on; an order already held is answered 200 and not sent again
(Shopify redelivers a webhook it timed out on, and may send one twice). The orders held are
kept for the life of the process, as a real one keeps them in its database.

Must get: ``no_lost_events`` and ``final_state_matches_baseline`` pass, in a run after its clean
run, in the same process. A harness that sent the library example's ``order_number`` 1001 and
``name`` "#1001" with every synthetic order made every order after the first look like the
first to this receiver, and every order of the run like its clean run's: "lost".

Not under the standard suite (found there): the order is marked held only once it was sent
on, so two copies of a webhook at once both send it (duplicate-storm: ``no_duplicate_effects``,
a check-then-act race), and a send the service committed and then answered 5xx is sent again
on Shopify's retry (ambiguous-commit), with no ``Idempotency-Key`` to make it harmless.

    export SHOPIFY_WEBHOOK_SECRET=...
    python -m tests.gallery.shopify_order_names --downstream http://127.0.0.1:9100
"""

from __future__ import annotations

import os

import aiohttp
from aiohttp import web

from . import _serve, _shopify

HELD: web.AppKey[set[str]] = web.AppKey("held", set)
SLIPS: web.AppKey[aiohttp.ClientSession] = web.AppKey("slips", aiohttp.ClientSession)


def build_app(slips_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[HELD] = set()

    app.cleanup_ctx.append(_serve.client_session(SLIPS, slips_url))

    async def orders_create(request: web.Request) -> web.Response:
        order = await _shopify.read_order(request, secret)
        if order is None:
            return web.Response(status=401)
        name = order["name"]  # "#1001": what the merchant and the customer both read
        held = request.app[HELD]
        if name in held:
            return web.Response(status=200)  # this order is in hand already
        slip = {
            "order": name,
            "email": order.get("email"),
            "lines": [
                {"sku": line.get("sku"), "quantity": line.get("quantity")}
                for line in order.get("line_items", [])
            ],
            "total": order.get("total_price"),
        }
        try:
            async with request.app[SLIPS].post("/slips", json=slip) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Shopify retries
        held.add(name)  # once the slip is made
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", orders_create)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.shopify_order_names", "SLIPS_URL")
    _serve.run(build_app(opts.downstream, os.environ["SHOPIFY_WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
