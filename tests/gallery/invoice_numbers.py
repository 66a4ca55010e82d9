"""Stripe ``invoice.paid`` -> an accounting ledger, each invoice booked once under its number.
Correct, and stateful.

Written the way accounting syncs are: the invoice's ``number`` ("6C2E1A3B-0002") is what the
customer's PDF, the dunning emails and the accountant's ledger all show, so the sync books the
invoice under it (the ledger's document number) and skips a number it has booked already (Stripe
redelivers an event it timed out on, and may send one twice). What it booked is kept for the life
of the process, as a real one keeps it in the ledger it writes to.

Must get: ``no_lost_events`` and ``final_state_matches_baseline`` pass, in a run after its clean
run, in the same process. A harness that sent the library example's ``number`` with every
synthetic invoice made every invoice after the first look like the first to this sync, and
every invoice of the run like its clean run's: "lost".

    export STRIPE_WEBHOOK_SECRET=whsec_...
    python -m tests.gallery.invoice_numbers --downstream http://127.0.0.1:9100
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve, _stripe

BOOKED: web.AppKey[set[str]] = web.AppKey("booked", set)
LEDGER: web.AppKey[aiohttp.ClientSession] = web.AppKey("ledger", aiohttp.ClientSession)


def build_app(ledger_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[BOOKED] = set()

    app.cleanup_ctx.append(_serve.client_session(LEDGER, ledger_url))

    async def stripe_webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "invoice.paid":
            return web.Response(status=200)
        invoice = event["data"]["object"]
        number = invoice["number"]  # the document number on the PDF and in the ledger
        booked = request.app[BOOKED]
        if number in booked:
            return web.Response(status=200)  # booked already
        entry = {
            "doc_number": number,
            "customer": invoice.get("customer"),
            "amount_paid": invoice.get("amount_paid"),
            "currency": invoice.get("currency"),
        }
        try:
            async with request.app[LEDGER].post("/entries", json=entry) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            return web.Response(status=500)  # Stripe retries
        booked.add(number)  # once the entry is in the ledger
        return web.Response(status=200)

    app.router.add_post("/webhooks/stripe", stripe_webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.invoice_numbers", "LEDGER_URL", build_app)


if __name__ == "__main__":
    main()
