"""Stripe ``customer.subscription.*`` -> the CRM's subscription, created, updated and deleted.

The obvious mirror of Stripe's subscriptions: ``created`` and ``updated`` ``PUT
/subscriptions/{id}`` with the subscription's state (an upsert: the CRM creates it where it
has none, so an ``updated`` that comes first is not lost), ``deleted`` ``DELETE
/subscriptions/{id}`` (a 404 ignored: already gone is gone). Every call is idempotent, so a
redelivery is harmless and nothing is deduplicated; a failed call answers 500 so that Stripe
retries it.

Stripe does not promise order. A ``deleted`` that arrives before an ``updated`` of the same
subscription deletes it, and the late ``updated`` upserts it back: a cancelled subscription
alive in the CRM for ever, its customer still on the plan — the upsert that saves a late
``created`` is what resurrects it. In order, it is right.

Must get: under out-of-order delivery, ``final_state_matches_baseline`` and ``per_key_order``
fail naming the subscriptions brought back; in order, with duplicates, every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.resurrected_subscription --port 8000
"""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("resurrected_subscription")

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
UPSERTS = {"customer.subscription.created", "customer.subscription.updated"}


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        kind = event.get("type")
        path = f"/subscriptions/{event['data']['object']['id']}"
        crm = request.app[CRM]
        try:
            if kind in UPSERTS:
                async with crm.put(path, json=_stripe.subscription_state(event)) as answer:
                    answer.raise_for_status()
            elif kind == "customer.subscription.deleted":
                async with crm.delete(path) as answer:
                    if answer.status != 404:  # already gone
                        answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("%s of %s not written: %s", kind, path, error)
            return web.Response(status=500)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.resurrected_subscription", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
