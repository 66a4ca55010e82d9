"""Stripe checkouts -> the CRM's contacts, one per customer, found by an email read defensively.

A "new customer" sync: for each completed checkout it creates the buyer's contact (``POST
/contacts`` with the email, the name and the checkout) unless it made one for that email
already — a returning customer's next checkout adds nothing, which is the point. Its author had
met ``KeyError`` crashes on payloads missing a field (``dead_worker``'s), so every read is
"defensive": ``session.get("customer_details", {}).get("email")`` never raises. The emails made
contacts are kept for the life of the process (a real one keeps them in a table). A failed
call answers 500 and leaves the email out, so that Stripe's retry makes the contact.

Then the payload drifts: the email is renamed (``emailValue``) or dropped on some checkouts.
The key reads ``None``; the first such checkout creates a contact with no email, and ``None``
joins the emails done: every later checkout without an email is "a returning customer",
answered 200 with nothing written and nothing logged. The same shape dropped every webhook
after the first whose id a Creem adapter read as ``""`` (anolilab/lunora#246, "a blank id
claimed the dedupe key once, after which every subsequent webhook was dropped as a duplicate
(with a 2xx, so no retry)"), and a reviewer caught it in a Zapier dedup key whose ``data.id``
fell back to ``''`` (ever-co/ever-gauzy#10198).

With ``REQUIRE_EMAIL=1`` a checkout without an email is answered 422 and logged: loud, nothing
written.

Must get, under renamed-field and missing-field: ``drift_is_loud`` fails on the drifted
checkouts acknowledged with nothing written, its cause the missing email, not an outage;
``no_lost_events`` never passes them; with ``REQUIRE_EMAIL=1`` nothing drifted is acknowledged.
Under simultaneous-same-record and downstream-outage, the contact made by another checkout of
the customer than in the clean run is no loss: one per customer, by whichever came first.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.contact_once --port 8000
"""

from __future__ import annotations

import logging
import os

import aiohttp
from aiohttp import web

from . import _serve, _stripe

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
DONE: web.AppKey[set[str | None]] = web.AppKey("done", set)
log = logging.getLogger("contact_once")


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[DONE] = set()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))
    require_email = os.environ.get("REQUIRE_EMAIL") == "1"

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed":
            return web.json_response({"ignored": True})
        session = event.get("data", {}).get("object", {})
        details = session.get("customer_details", {}) or {}
        email = details.get("email")  # the flaw: None is a key like any other
        if email is None and require_email:
            log.warning("checkout %s has no customer email", session.get("id"))
            return web.json_response({"error": "no customer email"}, status=422)
        done = request.app[DONE]
        if email in done:
            return web.json_response({"returning": True})
        done.add(email)
        contact = {"email": email, "name": details.get("name"), "checkout": session.get("id")}
        try:
            async with request.app[CRM].post("/contacts", json=contact) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            done.discard(email)
            return web.Response(status=500)
        return web.json_response({"created": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.contact_once", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
