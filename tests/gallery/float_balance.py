"""Stripe ``invoice.paid`` -> each customer's running balance in the CRM, kept as a float of
dollars.

Each paid invoice adds its ``amount_paid`` to the customer's balance — ``balance +=
amount_paid / 100``, a Python float, as the CRM shows dollars — and the balance is written
whole: ``PUT /customers/{customer}/balance`` with ``{"balance": 39.97, "currency": "usd"}``.
Each invoice id is handled once (a redelivery adds nothing); the balances live in the process,
and each customer's addition and write hold a lock of the customer's, so no two invoices' writes
race.

Money in a float is a flaw, but a quiet one here: the sum of the same amounts in another order
can differ in its last bit (``0.1 + 0.2 + 0.3`` is ``0.6000000000000001``, ``0.3 + 0.2 + 0.1``
is ``0.6``). Invoices that arrive in another order leave a balance a few 1e-15 away from the
clean run's, though no invoice was lost, none added twice.

Must get: under out-of-order delivery ``no_lost_events`` and ``no_duplicate_effects`` hold;
``final_state_matches_baseline`` fails only where a balance ended otherwise, saying it differs
by a float's rounding — the same amounts added in another order — not that an invoice was lost
or wrong. With ``CENTS=1`` (integer cents, as Stripe sends them) every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.float_balance --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("float_balance")

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
CENTS = bool(os.environ.get("CENTS"))


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))
    balances: dict[str, float] = {}
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def add(app: web.Application, event: dict[str, Any]) -> None:
        invoice = event["data"]["object"]
        customer = invoice["customer"]
        paid = invoice["amount_paid"]
        async with locks[customer]:
            # The flaw: dollars in a float, summed in arrival order.
            balances[customer] = balances.get(customer, 0) + (paid if CENTS else paid / 100)
            body = {"balance": balances[customer], "currency": invoice.get("currency")}
            try:
                async with app[CRM].put(f"/customers/{customer}/balance", json=body) as r:
                    r.raise_for_status()
            except (aiohttp.ClientError, TimeoutError) as error:
                log.warning("balance of %s not written: %s", customer, error)

    app.router.add_post("/webhooks/stripe", _stripe.invoice_hook(secret, add))
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.float_balance", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
