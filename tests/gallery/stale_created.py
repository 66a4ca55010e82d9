"""Stripe checkouts -> the CRM's orders, with "replay protection" written against the payload.

Its author read that a webhook must be protected against replays and, after verifying
``Stripe-Signature``, refuses an event whose ``created`` is more than 5 minutes old (400,
logged "stale event") — the payload's time, not the signature header's ``t=``, which is the
one Stripe signs at each attempt. Otherwise it is sound: each event id handled once, a failed
CRM call answered 500 so that Stripe retries.

Stripe retries a webhook it got no 2xx for over three days, and every retry carries the event
as it was made: ``created`` stays the first attempt's. A checkout whose first delivery met a
CRM outage is retried minutes to hours later, refused as stale, and retried until Stripe gives
up: lost, though Stripe did everything right.

What a run can show: a synthetic source's events are dated from 2026-01-01, and a compressed
run sends a retry of 17 minutes in a fraction of a second, so no run makes the retries alone
stale. Every delivery is refused 400, the clean run's too: never a pass — every verdict
inconclusive, ``accepts_genuine`` naming the events' time at ``$.created`` beside the payload's
shape as the likely cause, and the check itself as the flaw. With ``FRESHNESS=signature`` (the
age checked by the header's ``t=`` alone, as Stripe's SDK does) ``no_lost_events``,
``accepts_genuine`` and ``recovers_after_outage`` hold under downstream-outage.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.stale_created --port 8000
"""

from __future__ import annotations

import logging
import os
import time

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("stale_created")

MAX_AGE = 300  # s
BY_PAYLOAD = os.environ.get("FRESHNESS") != "signature"
CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
HANDLED: web.AppKey[set[str]] = web.AppKey("handled", set)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[HANDLED] = set()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)  # t= within 300 s, as the SDK's
        if event is None:
            return web.Response(status=400)
        if BY_PAYLOAD and time.time() - float(event.get("created", 0)) > MAX_AGE:
            log.warning("stale event %s refused (a replay?)", event.get("id"))
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed":
            return web.json_response({"received": True})
        handled = request.app[HANDLED]
        if event["id"] in handled:
            return web.json_response({"received": True})
        try:
            async with request.app[CRM].post("/orders", json=_stripe.order_of(event)) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Stripe retries
        handled.add(event["id"])
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.stale_created", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
