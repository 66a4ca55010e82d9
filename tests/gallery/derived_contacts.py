"""Stripe ``checkout.session.completed`` -> the CRM's contact, upserted by a key it derives from
the email, with values it derives from the event.

``PUT /contacts/{key}`` where the key is the email trimmed and lowered, with ``{"email": key,
"name": the name title-cased, "last_order_usd": amount_total / 100}`` — a float of dollars
(``19.99``), not the event's cents. Nothing it writes is a value of the event as sent but the
lowered email.

With ``NORMALISE=plus`` it also drops the ``+tag`` of the address (``ada+shop@x.io`` ->
``ada@x.io``), as many CRMs' de-duplication does: two customers whose addresses differ only by
their tag become one contact — and, the harness tracing each event's values by a tag in the
address (``+zq…``), nothing it writes then carries any.

Must get: the correct one passes under redeliveries and an outage (its PUTs repeated are the
same contact's same state: harmless); with ``NORMALISE=plus`` no check of effects passes or fails
on what it cannot attribute: inconclusive, saying which requests named no event.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.derived_contacts --port 8000
"""

from __future__ import annotations

import os
import re

import aiohttp
from aiohttp import web

from . import _serve, _stripe

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
PLUS = os.environ.get("NORMALISE") == "plus"
_TAG = re.compile(r"\+[^@]*(?=@)")


def contact_key(email: str) -> str:
    key = email.strip().lower()
    return _TAG.sub("", key) if PLUS else key


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed":
            return web.json_response({"received": True})
        session = event["data"]["object"]
        details = session.get("customer_details") or {}
        if not details.get("email"):
            return web.json_response({"received": True})
        key = contact_key(details["email"])
        contact = {
            "email": key,
            "name": (details.get("name") or "").title(),
            "last_order_usd": session["amount_total"] / 100,
        }
        try:
            async with request.app[CRM].put(f"/contacts/{key}", json=contact) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Stripe retries
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.derived_contacts", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
