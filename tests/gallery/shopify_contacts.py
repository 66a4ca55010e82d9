"""Shopify ``orders/create`` -> the CRM's contact for the customer, then a deal per order.

Written the way a store's CRM sync is: verify ``X-Shopify-Hmac-Sha256``, find the customer's
contact by email (``GET /contacts?email=``), create it where there is none (``POST
/contacts``), then book the order as a deal on it (``POST /deals`` naming the contact's id the
CRM answered). Each webhook id is handled once (Shopify redelivers with the same one). There is
no lock around the find-or-create: a customer's orders arriving together each find no contact,
and each creates one — several contacts for one customer, the CRM's duplicates to merge by hand.

Must get: under simultaneous-same-record (a customer's orders at once) ``no_duplicate_effects``
fails, counting the contacts per customer; one order at a time, and under duplicates, every
verdict holds. With ``CONTACTS=locked`` (an ``asyncio.Lock`` per email around the
find-or-create) all hold.

    export SHOPIFY_WEBHOOK_SECRET=...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.shopify_contacts --port 8000
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _shopify

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
HANDLED: web.AppKey[set[str]] = web.AppKey("handled", set)
LOCKS: web.AppKey[defaultdict[str, asyncio.Lock]] = web.AppKey("locks", defaultdict)
LOCKED = os.environ.get("CONTACTS") == "locked"


async def contact_of(crm: aiohttp.ClientSession, customer: dict[str, Any]) -> str:
    """The id of the customer's contact: found by email, else created."""
    email = customer.get("email")
    async with crm.get("/contacts", params={"email": email or ""}) as found:
        found.raise_for_status()
        listed = await found.json()
    if listed:
        return str(listed[0]["id"])
    contact = {
        "email": email,
        "first_name": customer.get("first_name"),
        "last_name": customer.get("last_name"),
        "shopify_customer": customer.get("id"),
    }
    async with crm.post("/contacts", json=contact) as made:
        made.raise_for_status()
        return str((await made.json())["id"])


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[HANDLED] = set()
    app[LOCKS] = defaultdict(asyncio.Lock)
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def orders_create(request: web.Request) -> web.Response:
        order = await _shopify.read_order(request, secret)
        if order is None:
            return web.Response(status=401)
        webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
        handled = request.app[HANDLED]
        if webhook_id in handled:
            return web.Response(status=200)  # a redelivery: done before
        handled.add(webhook_id)
        customer = order.get("customer") or {}
        crm = request.app[CRM]
        try:
            if LOCKED:
                async with request.app[LOCKS][str(customer.get("email"))]:
                    contact = await contact_of(crm, customer)
            else:
                contact = await contact_of(crm, customer)
            deal = {
                "contact": contact,
                "shopify_order": order["id"],
                "name": order.get("name"),
                "total": order.get("total_price"),
                "currency": order.get("currency"),
            }
            async with crm.post("/deals", json=deal) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError, KeyError):
            handled.discard(webhook_id)
            return web.Response(status=500)  # Shopify retries
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", orders_create)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.shopify_contacts", "CRM_URL")
    _serve.run(build_app(opts.downstream, os.environ["SHOPIFY_WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
