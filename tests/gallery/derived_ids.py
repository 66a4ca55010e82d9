"""Stripe ``checkout.session.completed`` -> a deal keyed by its Checkout Session, and a ledger line.

Nothing it writes carries the Stripe event id, nor any value the event carries as it is but the
Checkout Session id: the deal holds ``checkout_session`` (``cs_...``), the amount and the
currency; the ledger line holds only the running balance it computed. This is how many real
automations write (the session is *their* business key), and why a harness that attributes
effects by the event's own values cannot tell which event caused what.

It has a second flaw that those derived ids hide: its author reasoned that "a Checkout Session
completes once" and does not deduplicate, so a redelivered event books its deal again and adds
its amount to the balance twice.

Must get: without a correlation rule, ``no_lost_events`` and ``no_duplicate_effects``
inconclusive with a reason naming the rule to write (never pass, never "lost"); with a
``correlate:`` rule tying ``POST /deals $.checkout_session`` to ``$.data.object.id``,
``no_duplicate_effects`` fail naming ``POST /deals``.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    python -m tests.gallery.derived_ids --downstream http://127.0.0.1:9100   # or CRM_URL=...
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve, _stripe

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
BALANCE: web.AppKey[dict[str, int]] = web.AppKey("balance", dict)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[BALANCE] = {}

    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event["type"] != "checkout.session.completed":
            return web.json_response({"received": True})
        session = event["data"]["object"]
        currency = session["currency"]
        balance = request.app[BALANCE]
        balance[currency] = balance.get(currency, 0) + session["amount_total"]
        crm = request.app[CRM]
        try:
            deal = {
                "checkout_session": session["id"],
                "amount": session["amount_total"],
                "currency": currency,
            }
            async with crm.post("/deals", json=deal) as r:
                r.raise_for_status()
            entry = {"balance": balance[currency], "currency": currency}
            async with crm.post("/ledger/entries", json=entry) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": f"CRM: {exc}"}, status=500)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.derived_ids", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
