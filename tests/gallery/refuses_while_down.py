"""Stripe ``checkout.session.completed`` -> a CRM deal, inline; 503 while the CRM fails.

Its author calls the CRM inside the webhook request and answers 503 when the call fails, so
that Stripe redelivers the event later, as Stripe's docs advise; an event id is remembered
only once its deal is written, so the redelivery does the work. Correct with a sender that
retries (Stripe, Shopify, Slack); with one that does not (GitHub), what it refused is lost.

Must get: ``recovers_after_outage`` judged on Stripe's redeliveries after the CRM's outage
(pass), never on the one event the outage happened to spare; inconclusive, saying how many
refused events it could not see, when the run did not redeliver them.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    python -m tests.gallery.refuses_while_down --downstream http://127.0.0.1:9100  # or CRM_URL
"""

from __future__ import annotations

import os

import aiohttp
from aiohttp import web

from . import _serve
from ._stripe import SignatureError, construct_event

DONE: web.AppKey[set[str]] = web.AppKey("done", set)
CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[DONE] = set()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = construct_event(body, request.headers.get("Stripe-Signature"), secret)
        except SignatureError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        done = request.app[DONE]
        if event["type"] != "checkout.session.completed" or event["id"] in done:
            return web.json_response({"received": True})
        session = event["data"]["object"]
        deal = {
            "name": f"{session['customer_details']['name']} - web checkout",
            "email": session["customer_details"]["email"],
            "amount": session["amount_total"] / 100,
            "stripe_event": event["id"],
        }
        try:
            async with request.app[CRM].post("/deals", json=deal) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The CRM is down: Stripe retries what it got no 2xx for.
            return web.json_response({"error": f"CRM: {exc}"}, status=503)
        done.add(event["id"])  # only once the work is done
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.refuses_while_down", "CRM_URL")
    _serve.run(build_app(opts.downstream, os.environ["STRIPE_WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
