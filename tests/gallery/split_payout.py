"""Stripe checkouts -> the shop's partners paid their shares through Stripe Connect transfers,
each transfer keyed by the event's id.

A shop that pays its supplier 70 % and its affiliate 10 % of each sale: for each completed
checkout it makes two transfers (``POST /v1/transfers`` to Stripe's API, form-encoded as
stripe-python sends it: ``amount=…&currency=…&destination=acct_…&transfer_group=cs_…&
metadata[partner]=supplier``, one to each partner's connected account) and answers 200 once
both are made; a failure answers 500 so that Stripe retries. Its author read that a retried
webhook must not pay twice and that Stripe's API takes an ``Idempotency-Key``, and passed the
event's id, the one value a retry keeps — to both calls.

Stripe scopes a key to its first request: the supplier's transfer takes the key, and the
affiliate's, another request under the same key, is refused 400 (keys can only be reused with
the same request). The handler answers 500; each of Stripe's retries gets the supplier's
transfer replayed and the affiliate's refused again, in the clean run as in any other: no
affiliate is ever paid.

With ``KEYS=per-transfer`` each transfer has a key of its own (``<event id>:supplier``,
``<event id>:affiliate``): a retry replays each, and every partner is paid once.

Must get: every delivery answered 500 (``no_server_errors`` fails, loud) with the affiliate's
transfer refused 400 as the cause; per transfer, no failure.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    STRIPE_API_URL=http://127.0.0.1:9100 python -m tests.gallery.split_payout --port 8000
"""

from __future__ import annotations

import logging
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("split_payout")

PAYMENTS: web.AppKey[aiohttp.ClientSession] = web.AppKey("payments", aiohttp.ClientSession)
# The shop's partners, each a connected Stripe account, and its share of a sale.
SHARES = {"supplier": ("acct_supplier0gallery", 70), "affiliate": ("acct_affiliate0gallery", 10)}


def build_app(payments_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(PAYMENTS, payments_url))
    per_transfer = os.environ.get("KEYS") == "per-transfer"

    async def pay(payments: aiohttp.ClientSession, event: dict[str, Any]) -> bool:
        """Both partners paid; False where a transfer failed (logged)."""
        session = event["data"]["object"]
        for partner, (account, percent) in SHARES.items():
            # Form fields as stripe-python encodes its parameters (nested in brackets).
            transfer = {
                "amount": str(session["amount_total"] * percent // 100),
                "currency": session["currency"],
                "destination": account,
                "transfer_group": session["id"],
                "metadata[partner]": partner,
            }
            key = f"{event['id']}:{partner}" if per_transfer else event["id"]
            try:
                async with payments.post(
                    "/v1/transfers", data=transfer, headers={"Idempotency-Key": key}
                ) as made:
                    if made.status >= 400:
                        log.warning("%s of %s: %s", partner, event["id"], await made.text())
                    made.raise_for_status()
            except (aiohttp.ClientError, TimeoutError):
                return False
        return True

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        checkout = event["type"] == "checkout.session.completed"
        if checkout and not await pay(request.app[PAYMENTS], event):
            return web.json_response({"error": "a transfer failed"}, status=500)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.split_payout", "STRIPE_API_URL", build_app)


if __name__ == "__main__":
    main()
