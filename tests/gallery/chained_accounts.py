"""Stripe ``checkout.session.completed`` -> an account, then a subscription naming the account's
id: ids the automation got from its API, not from the event.

For each paid checkout it finds the account by email (``GET /accounts?email=``), creates it
where there is none (``POST /accounts``), then subscribes it: ``POST /subscriptions`` with
``{"account": <the id the API answered>, "plan": "pro"}`` — nothing of the event in that body.
It claims each event id before its calls (a copy arriving meanwhile is skipped), keys the
subscription by it (``Idempotency-Key``), and on a failed call releases the claim and answers
500, so that Stripe retries.

Variants:

- ``LOOKUP=typo``: the look-up asks ``?mail=`` — an API ignores a parameter it does not know
  and lists every account — and the automation takes the first: every checkout after the first
  subscribes the *first* customer's account. As many subscriptions as the clean run made, each
  to an id the API issued; the customers after the first have none.
- ``DEDUP=none``: no dedup, and no key: a redelivered checkout subscribes its account again.
- ``LOOKUP=customer``: the account found by its Stripe customer id (``?stripe_customer=``), as
  sound as by email, with no lock either: a customer's checkouts arriving together each find
  no account and each create one — a find-or-create race, three accounts for one customer (as
  by email).

Must get: the correct one (by email, deduplicated) passes ``no_lost_events``,
``no_duplicate_effects`` and ``final_state_matches_baseline`` where a customer's checkouts come
one at a time (ids the API made up differ between runs; they are not
compared, but what they point at is); ``LOOKUP=typo`` (the clean run subscribes the first
account as often, so no comparison with it can show the fault) is never a pass:
``no_lost_events`` names the account made for another record (``invariants/_elsewhere.py``);
``DEDUP=none`` fails ``no_duplicate_effects`` on the second ``POST /subscriptions``;
by email or ``LOOKUP=customer``, ``no_duplicate_effects`` fails under simultaneous-same-record,
counting the accounts per customer (each checkout made one, none twice: no repeat of one
event's; a customer's checkouts carry its one email, as real ones do).

    export STRIPE_WEBHOOK_SECRET=whsec_...
    BILLING_URL=http://127.0.0.1:9100 python -m tests.gallery.chained_accounts --port 8000
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
SEEN: web.AppKey[set[str]] = web.AppKey("seen", set)
TYPO = os.environ.get("LOOKUP") == "typo"
BY_CUSTOMER = os.environ.get("LOOKUP") == "customer"
DEDUP = os.environ.get("DEDUP") != "none"

Failed = (aiohttp.ClientError, TimeoutError, KeyError, IndexError)


async def account_of(api: aiohttp.ClientSession, details: dict[str, Any], customer: Any) -> str:
    """The account's id: found by email, else created."""
    email = details.get("email")
    if BY_CUSTOMER:
        query = {"stripe_customer": customer}
    else:
        query = {"mail" if TYPO else "email": email}
    async with api.get("/accounts", params=query) as found:
        found.raise_for_status()
        listed = await found.json()
    if listed:
        return str(listed[0]["id"])
    account = {"email": email, "name": details.get("name"), "stripe_customer": customer}
    async with api.post("/accounts", json=account) as made:
        made.raise_for_status()
        return str((await made.json())["id"])


def build_app(api_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[SEEN] = set()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed":
            return web.json_response({"received": True})
        seen = request.app[SEEN]
        if DEDUP:
            if event["id"] in seen:
                return web.json_response({"received": True})
            seen.add(event["id"])  # claimed before the calls: a copy arriving meanwhile skips
        session = event["data"]["object"]
        api = request.app[API]
        key = {"Idempotency-Key": event["id"]} if DEDUP else {}
        try:
            account = await account_of(
                api, session.get("customer_details") or {}, session.get("customer")
            )
            subscription = {"account": account, "plan": "pro"}
            async with api.post("/subscriptions", json=subscription, headers=key) as made:
                made.raise_for_status()
        except Failed:
            seen.discard(event["id"])  # to be done again on Stripe's retry
            return web.Response(status=500)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.chained_accounts", "BILLING_URL", build_app)


if __name__ == "__main__":
    main()
