"""Stripe ``checkout.session.completed`` -> a CRM deal, deduplicated by event id, marked *after*.

Its author read about ``seen_first``'s lost deals and moved the mark: the event id is remembered
only once the deal is written, so a checkout whose CRM call failed is retried in full. Stripe's
retries, a minute apart, are now answered as duplicates. But the check and the mark are two
steps with the CRM calls between them: two copies of one event that arrive together both find
the id unseen, and both book the deal (check-then-act). One after the other, they never do.

Must get: ``no_duplicate_effects`` fail under concurrent copies, pass under sequential ones.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    python -m tests.gallery.marked_after --downstream http://127.0.0.1:9100   # or CRM_URL=...
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve, _stripe

DONE: web.AppKey[set[str]] = web.AppKey("done", set)
CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[DONE] = set()

    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event["type"] != "checkout.session.completed":
            return web.json_response({"received": True})
        done = request.app[DONE]
        if event["id"] in done:  # check ...
            return web.json_response({"received": True, "duplicate": True})
        session = event["data"]["object"]
        crm = request.app[CRM]
        try:
            async with crm.get(
                "/contacts", params={"email": session["customer_details"]["email"]}
            ) as r:
                r.raise_for_status()
                contacts = await r.json()
            deal = {
                "name": f"{session['customer_details']['name']} - web checkout",
                "contact_id": contacts[0]["id"] if contacts else None,
                "amount": session["amount_total"] / 100,
                "currency": session["currency"],
                "stripe_checkout_session": session["id"],
            }
            async with crm.post("/deals", json=deal) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": f"CRM: {exc}"}, status=500)
        done.add(event["id"])  # ... then act, and mark: two steps apart
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.marked_after", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
