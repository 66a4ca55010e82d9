"""Standard Webhooks ``invoice.paid`` -> the accounting API: the invoice, then each of its lines.

A billing platform that sends through Svix delivers ``invoice.paid`` with the invoice's lines.
This receiver books it the way the accounting API asks: ``POST /invoices`` (its total in cents),
then one ``POST /invoices/{id}/lines`` per line, and answers after the writes — 200, or 502
when a write failed, so that the platform redelivers. It skips a ``webhook-id`` it is booking or
has booked (kept in memory: taken before the booking, let go when a write failed, so that a copy
sent while the first is still booking is skipped too), and converts amounts the way its author
did: ``int(float("64.32") * 100)``.

Two lines of one invoice are two POSTs to one path with two bodies: the invoice's own lines,
not a repeat. A redelivery of a booked invoice is skipped. But a write that fails after the
API committed it (a proxy's 502 after the commit) leaves an invoice booked: the redelivery
books a second one.

Must get: ``no_duplicate_effects`` pass under redeliveries (its lines are not duplicates);
fail under the double's ``commit-then-fail`` fault (invoices booked twice, whichever event's);
``amounts_intact`` fail on the totals a double truncates, naming them. With ``EXACT_CENTS``
set it converts with ``Decimal``, and ``amounts_intact`` must pass.

    ACCOUNTING_API_URL=http://127.0.0.1:9100 python -m tests.gallery.invoice_lines --port 8000
"""

from __future__ import annotations

import os
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
BOOKED: web.AppKey[set[str]] = web.AppKey("booked", set)
Cents = Callable[[str], int]


def float_cents(amount: str) -> int:
    return int(float(amount) * 100)  # the flaw: "20.40" -> 2039


def exact_cents(amount: str) -> int:
    return int(Decimal(amount).scaleb(2))


async def book(api: aiohttp.ClientSession, invoice: dict[str, Any], cents: Cents) -> None:
    head = {
        "external_id": invoice["id"],
        "number": invoice["number"],
        "customer": invoice["customer_id"],
        "currency": invoice["currency"],
        "total_cents": cents(invoice["total"]),
    }
    async with api.post("/invoices", json=head) as r:
        r.raise_for_status()
        booked = await r.json()
    for line in invoice["lines"]:
        body = {"description": line["description"], "amount_cents": cents(line["amount"])}
        async with api.post(f"/invoices/{booked['id']}/lines", json=body) as r:
            r.raise_for_status()


def build_app(api_url: str, cents: Cents) -> web.Application:
    app = web.Application()
    app[BOOKED] = set()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        msg_id = request.headers["webhook-id"]
        if msg_id in request.app[BOOKED]:
            return web.json_response({"ok": True, "duplicate": True})
        request.app[BOOKED].add(msg_id)  # before the first await: no check-then-act race
        event = await request.json()
        if event["type"] != "invoice.paid":
            return web.json_response({"ok": True})
        try:
            await book(request.app[API], event["data"], cents)
        except (aiohttp.ClientError, TimeoutError):
            request.app[BOOKED].discard(msg_id)
            return web.json_response({"ok": False}, status=502)  # the platform redelivers
        return web.json_response({"ok": True})

    app.router.add_post("/webhooks/billing", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.invoice_lines", "ACCOUNTING_API_URL")
    cents = exact_cents if os.environ.get("EXACT_CENTS") else float_cents
    _serve.run(build_app(opts.downstream, cents), opts.port)


if __name__ == "__main__":
    main()
