"""Stripe checkouts -> a deal on the customer's CRM contact, the contact's look-up memoised.

For each checkout it finds the customer's contact by email (``GET /contacts?email=``), creates
it where there is none (``POST /contacts``), and books the checkout as a deal on it (``POST
/deals``), each event id handled once. A customer checks out again and again, so its author
memoised the look-up with ``functools.lru_cache`` — on an ``async def``, where it caches the
coroutine, not its result: the second checkout of a customer gets back the coroutine the
first one awaited, and awaiting it again raises ``RuntimeError: cannot reuse already awaited
coroutine``. Answered 500; Stripe retries it, and each retry raises the same, for as long as
the process lives. A customer's first checkout is booked; none after it ever is. With
``CACHE=results`` it keeps the contact ids it found or made, by email.

Must get, one checkout a delivery: loud, not passed — a customer's later checkouts answered
500 and never booked; with ``CACHE=results`` every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.cached_lookup --port 8000
"""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp import web

from . import _serve, _stripe

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
HANDLED: web.AppKey[set[str]] = web.AppKey("handled", set)
KEEP_RESULTS = os.environ.get("CACHE") == "results"


async def find_or_create(crm: aiohttp.ClientSession, email: str) -> str:
    """The id of the CRM's contact for ``email``, created where there is none (its name comes
    with the deal)."""
    async with crm.get("/contacts", params={"email": email}) as found:
        found.raise_for_status()
        contacts = await found.json()
    if isinstance(contacts, list) and contacts:
        return str(contacts[0]["id"])
    async with crm.post("/contacts", json={"email": email}) as made:
        made.raise_for_status()
        return str((await made.json())["id"])


def results_cache(
    lookup: Callable[[aiohttp.ClientSession, str], Awaitable[str]],
) -> Callable[[aiohttp.ClientSession, str], Awaitable[str]]:
    """``lookup`` memoised by email: its results kept, not its coroutines."""
    ids: dict[str, str] = {}

    async def cached(crm: aiohttp.ClientSession, email: str) -> str:
        if email not in ids:
            ids[email] = await lookup(crm, email)
        return ids[email]

    return cached


# The flaw: lru_cache on a coroutine function caches the coroutine, awaitable once.
contact_id = (
    results_cache(find_or_create) if KEEP_RESULTS else functools.lru_cache(4096)(find_or_create)
)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[HANDLED] = set()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed" or event["id"] in app[HANDLED]:
            return web.json_response({"received": True})
        app[HANDLED].add(event["id"])
        session = event["data"]["object"]
        details = session.get("customer_details") or {}
        crm = request.app[CRM]
        try:
            contact = await contact_id(crm, details.get("email") or "")
            deal = {
                "contact": contact,
                "name": details.get("name"),
                "checkout": session["id"],
                "amount": session["amount_total"],
            }
            async with crm.post("/deals", json=deal) as booked:
                booked.raise_for_status()
        except BaseException:
            app[HANDLED].discard(event["id"])  # not handled: Stripe's retry must be
            raise
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.cached_lookup", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
