"""Stripe ``invoice.paid`` -> a payment booked in the ledger, and the customer's balance.

Each paid invoice first updates the customer's running balance, written whole (``PUT
/customers/{customer}/balance`` with ``{"balance": "39.97", "currency": "usd"}``, dollars as
the CRM shows them) — once: its
author reasoned "the next invoice writes the balance again" —, then is booked as ``POST
/payments`` (the invoice id, the customer, the amount in cents), retried with a doubling pause
until the ledger takes it.
Each invoice is handled once (a redelivery adds nothing).

The flaw: a balance write refused during an outage is dropped, and the customer's balance stays
short of it until another invoice of theirs comes — for the last invoice of a customer, for
good. The payment names its event; the balance names only its customer, and holds nothing of
any one invoice (a sum, and the currency every invoice of the customer shares).

Must get, under downstream-outage with a clean run: ``recovers_after_outage`` never a pass
while a customer is short of a balance write its clean twin made, and no advice to write a
``correlate:`` rule for ``PUT /customers/{id}/balance`` — no rule could name an event from a
balance: what judges those writes per record is said instead.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.booked_balance --port 8000
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("booked_balance")

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
TRIES = 8  # 0.1 s doubling: 12.7 s in all, beyond a compressed outage


async def _written(crm: aiohttp.ClientSession, method: str, path: str, body: object) -> bool:
    try:
        async with crm.request(method, path, json=body) as r:
            return r.status < 400
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("%s %s failed: %s", method, path, error)
        return False


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))
    balances: dict[str, int] = {}

    async def book(app: web.Application, event: dict[str, Any]) -> None:
        invoice, crm = event["data"]["object"], app[CRM]
        customer, paid = invoice["customer"], invoice["amount_paid"]
        payment = {"event": event["id"], "invoice": invoice["id"], "amount": paid}
        balances[customer] = balances.get(customer, 0) + paid
        cents = balances[customer]
        body = {"balance": f"{cents // 100}.{cents % 100:02d}", "currency": invoice.get("currency")}
        await _written(crm, "PUT", f"/customers/{customer}/balance", body)  # the flaw: once
        for n in range(TRIES):
            if await _written(crm, "POST", "/payments", payment):
                break
            await asyncio.sleep(0.1 * 2**n)

    app.router.add_post("/webhooks/stripe", _stripe.invoice_hook(secret, book))
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.booked_balance", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
