"""Stripe ``customer.subscription.updated`` -> the CRM's subscription, newest ``created`` wins.

Stripe says events may come out of order and twice, and gives each its ``created`` time. Its
author keeps, per subscription, the ``created`` of the last event written and writes an event
only when it is newer (``created > last``, skipped when ``created <= last``): the ``<=`` was
chosen so that a redelivery of the event just written — the same ``created`` — is skipped too,
a dedup for free. ``PUT /subscriptions/{id}``, the whole state, serialised per subscription
(one lock each), the mark set once the write went through (a failed write answers 500 and
Stripe retries it).

But ``created`` is in whole seconds: a subscription changed twice within one second (a plan
change and its proration, a cancel then an undo) gives two events of the same ``created``, and
the second is skipped as "not newer" — in order or not, one at a time or together. The
subscription stays on the older change, and Stripe heard 200.

With ``TIES=apply`` (``created < last`` skipped, a tie written): the later to arrive wins a
tie — right in order, wrong where the same second's changes come reversed.

Must get: where a subscription's changes share a second, its newest change is lost and the
record left on an older one — in the clean run as here, so a comparison with the clean run
alone cannot show it: ``no_lost_events`` or ``final_state_matches_baseline`` must not pass it
(a fail, or inconclusive saying why). Where each change has a second of its own, every
verdict holds under reordering and duplicates.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.second_ties --port 8000
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict

import aiohttp
from aiohttp import web

from . import _serve, _stripe

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


def build_app(crm_url: str, secret: str, ties_win: bool = False) -> web.Application:
    app = web.Application()
    last: dict[str, int] = {}  # subscription id -> created of the event written last
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    def stale(created: int, newest: int | None) -> bool:
        if newest is None:
            return False
        return created < newest if ties_win else created <= newest

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "customer.subscription.updated":
            return web.json_response({"received": True})
        sub_id = event["data"]["object"]["id"]
        async with locks[sub_id]:
            if stale(event["created"], last.get(sub_id)):
                return web.json_response({"received": True, "skipped": "not newer"})
            try:
                async with request.app[CRM].put(
                    f"/subscriptions/{sub_id}", json=_stripe.subscription_state(event)
                ) as r:
                    r.raise_for_status()
            except (aiohttp.ClientError, TimeoutError) as error:
                return web.json_response({"error": f"CRM: {error}"}, status=500)
            last[sub_id] = event["created"]
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    ties_win = os.environ.get("TIES") == "apply"
    _serve.run_stripe(
        "python -m tests.gallery.second_ties",
        "CRM_URL",
        lambda crm_url, secret: build_app(crm_url, secret, ties_win),
    )


if __name__ == "__main__":
    main()
