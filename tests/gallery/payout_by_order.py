"""order.paid -> ``POST /payouts {"order": <order id>, "amount": …}``: the payout names its order,
nothing of the event.

Written as a small payout service is: verify nothing, read the order, pay it, and answer 503 when
the payments API fails so that the sender redelivers; an order already paid (a redelivery) is
answered 200 without paying again. The payout carries the order id and the amount, not the event
id: whatever judges it can tell which order a payout is for, not which event — and each order
here is paid by one event.

``--drop-every N``: the flaw. A "manual review" step for risky orders whose risk check was left a
placeholder: every Nth order is put on a review list nobody reads and acknowledged 200, unpaid.

Must get: correct, ``no_lost_events``, ``no_duplicate_effects`` and ``recovers_after_outage``
pass; with ``--drop-every 2``, ``no_lost_events`` and ``recovers_after_outage`` fail, naming the
orders put on the list.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.payout_by_order --drop-every 2
"""

from __future__ import annotations

import argparse

import aiohttp
from aiohttp import web

from . import _serve

API = web.AppKey("api", aiohttp.ClientSession)


def build_app(api_url: str, drop_every: int) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(API, api_url, timeout=2))
    paid: set[str] = set()
    review: list[str] = []  # the flaw: read by nobody
    seen = 0

    async def webhook(request: web.Request) -> web.Response:
        nonlocal seen
        event = await request.json()
        if event["type"] != "order.paid":
            return web.json_response({"received": True})
        order = event["data"]
        if order["order_id"] in paid or order["order_id"] in review:
            return web.json_response({"received": True, "duplicate": True})
        seen += 1
        if drop_every and seen % drop_every == 0:
            review.append(order["order_id"])
            return web.json_response({"received": True, "review": True})
        payout = {"order": order["order_id"], "amount": order["amount"]}
        try:
            async with request.app[API].post("/payouts", json=payout) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            return web.json_response({"error": "payments API unavailable"}, status=503)
        paid.add(order["order_id"])
        return web.json_response({"received": True})

    app.router.add_post("/webhook/orders", webhook)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.gallery.payout_by_order")
    parser.add_argument("--drop-every", type=int, default=0)
    opts, rest = parser.parse_known_args()
    served = _serve.options("python -m tests.gallery.payout_by_order", "PAYOUTS_URL", rest)
    _serve.run(build_app(served.downstream, opts.drop_every), served.port)


if __name__ == "__main__":
    main()
