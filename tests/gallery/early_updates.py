"""Stripe ``customer.subscription.created`` / ``updated`` -> the CRM's subscription, created by
the one and patched by the other; an update of a subscription the CRM does not hold is skipped.

The CRM takes a record under the caller's id: ``created`` is ``PUT /subscriptions/{id}`` with
the subscription's state, ``updated`` a ``PATCH`` of it. Stripe says events may come out of
order, so its author keeps each subscription's newest ``created`` written and skips an older
event (``stale_guard``'s habit). And a ``PATCH`` answered 404 — "the subscription is not in
the CRM yet, its ``created`` will bring it" — is logged and answered 200.

But the ``created`` brings the subscription as it was created: an update delivered before it
is acknowledged and never written, and the subscription ends on its creation's state (or an
older update's) until it changes again — a plan change or a cancellation lost, silently. It is
the shape of every "upsert" split into a create handler and an update handler where the update
assumes the record exists.

With ``ON_MISSING=retry`` the 404 is answered 503, so that Stripe retries the update once the
``created`` has landed.

Must get, under subscriptions-opened-reordered: ``no_lost_events`` fails on the updates
acknowledged while their subscription was missing (their ``PATCH`` refused 404), and
``final_state_matches_baseline`` on the subscriptions left on an older state; with
``ON_MISSING=retry`` both hold.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.early_updates --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict

import aiohttp
from aiohttp import web

from . import _serve, _stripe

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
log = logging.getLogger("early_updates")


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))
    retry_missing = os.environ.get("ON_MISSING") == "retry"
    written: dict[str, int] = {}  # subscription id -> the newest event ``created`` written
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        kind = event.get("type")
        if kind not in ("customer.subscription.created", "customer.subscription.updated"):
            return web.json_response({"ignored": True})
        sub = event["data"]["object"]["id"]
        path, state = f"/subscriptions/{sub}", _stripe.subscription_state(event)
        async with locks[sub]:
            if event["created"] <= written.get(sub, 0):
                return web.json_response({"stale": True})
            call = request.app[CRM].put if kind.endswith("created") else request.app[CRM].patch
            try:
                async with call(path, json=state) as answer:
                    if answer.status == 404:
                        log.warning("subscription %s not in the CRM yet, skipping", sub)
                        if retry_missing:
                            return web.Response(status=503)
                        return web.json_response({"skipped": True})  # the flaw
                    answer.raise_for_status()
            except (aiohttp.ClientError, TimeoutError):
                return web.Response(status=500)
            written[sub] = event["created"]
        return web.json_response({"written": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.early_updates", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
