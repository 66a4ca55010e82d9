"""Stripe ``checkout.session.completed`` -> a CRM contact, then a deal. Marks the event seen first.

Its author fixed Stripe's duplicate deliveries the quick way: remember the event id *before*
doing the work. When the CRM fails (5xx) it answers 500 so that Stripe retries, as Stripe's
docs advise; but the retry finds the id already seen and is answered 200 as a duplicate. Every
checkout that met a CRM error keeps whatever was written before it — the contact — and never
gets its deal. Nobody is told: Stripe saw a 200 in the end.

Must get: ``no_lost_events`` fail (partial loss: the contact made, the deal not), its evidence
naming the missing ``POST /deals``.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    python -m tests.gallery.seen_first --downstream http://127.0.0.1:9100   # or CRM_URL=...
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve, _stripe

SEEN: web.AppKey[set[str]] = web.AppKey("seen", set)
CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[SEEN] = set()

    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event["type"] != "checkout.session.completed":
            return web.json_response({"received": True})
        seen = request.app[SEEN]
        if event["id"] in seen:
            return web.json_response({"received": True, "duplicate": True})
        seen.add(event["id"])  # the flaw: seen before the work is done
        session = event["data"]["object"]
        customer = session["customer_details"]
        crm = request.app[CRM]
        try:
            async with crm.post(
                "/contacts", json={"email": customer["email"], "name": customer["name"]}
            ) as r:
                r.raise_for_status()
                contact = await r.json()
            deal = {
                "name": f"{customer['name']} - web checkout",
                "contact_id": contact.get("id"),
                "amount": session["amount_total"] / 100,
                "currency": session["currency"],
                "stripe_checkout_session": session["id"],
            }
            async with crm.post("/deals", json=deal) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            # Let Stripe retry later.
            return web.json_response({"error": f"CRM: {exc}"}, status=500)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.seen_first", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
