"""Shopify ``orders/create`` -> an invoice at billing, then a stock reservation at inventory: a
saga with compensation, as an orchestrator without a transaction across the two APIs is written.

Each order ``POST``s ``/invoices`` to billing, then ``POST``s ``/reservations`` to inventory,
each with an ``Idempotency-Key`` made of the webhook id (which Shopify's retries repeat). When
the reservation fails, the invoice is undone: ``DELETE /invoices/{id}`` with the id billing
answered (the compensating step). What it then answers Shopify is the variant (``SAGA=``):

- ``compensate`` (the default, correct): 500, so that Shopify retries the whole saga, which
  invoices (under a new key: the key's attempt number counts the compensations) and reserves
  anew. Each order ends with one invoice and one reservation; the invoice its first attempt
  made was deleted, not booked twice.
- ``swallow``: compensates, then answers 200 ("rolled back") — Shopify never retries, and the
  order ends without its invoice: the event lost though every one of its requests was made.
  Where inventory took the reservation and then failed the answer, the order keeps a
  reservation and no invoice.
- ``same-key``: compensates and answers 500, but keys the invoice by the webhook id alone: the
  retry is answered the first invoice again (billing replays the key's first answer), which it
  deleted, and reserves against it: an order with a reservation and no invoice.
- ``forget``: no compensation, 200 — an invoice for stock never reserved (a partial write).

Must get, when inventory refuses some reservations or takes them and answers 502: ``compensate``
— ``no_lost_events`` and ``no_duplicate_effects`` pass (an invoice made again after its
compensation deleted it is no duplicate); ``swallow``, ``same-key`` — ``no_lost_events`` fails,
naming the invoice ``undone by DELETE /invoices/…``; ``forget`` — ``no_lost_events`` fails on
the refused reservations (missing ``POST /reservations``).

    export SHOPIFY_WEBHOOK_SECRET=shpss_...
    INVENTORY_URL=http://127.0.0.1:9101 BILLING_URL=http://127.0.0.1:9100 \\
        python -m tests.gallery.saga_orders --port 8000
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _shopify

BILLING: web.AppKey[aiohttp.ClientSession] = web.AppKey("billing", aiohttp.ClientSession)
INVENTORY: web.AppKey[aiohttp.ClientSession] = web.AppKey("inventory", aiohttp.ClientSession)
COMPENSATED: web.AppKey[dict[str, int]] = web.AppKey("compensated", dict)
SAGA = os.environ.get("SAGA", "compensate")

Failed = (aiohttp.ClientError, TimeoutError)


def invoice_of(order: dict[str, Any]) -> dict[str, Any]:
    return {
        "shopify_order": order["id"],
        "email": order.get("email"),
        "total": order.get("total_price"),
        "currency": order.get("currency"),
    }


def reservation_of(order: dict[str, Any]) -> dict[str, Any]:
    items = [
        {"sku": line.get("sku"), "quantity": line.get("quantity")}
        for line in order.get("line_items") or []
    ]
    return {"order": order["id"], "items": items}


def build_app(billing_url: str, inventory_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[COMPENSATED] = {}  # webhook id -> the invoices undone for it
    app.cleanup_ctx.append(_serve.client_session(BILLING, billing_url))
    app.cleanup_ctx.append(_serve.client_session(INVENTORY, inventory_url))

    async def webhook(request: web.Request) -> web.Response:
        order = await _shopify.read_order(request, secret)
        if order is None:
            return web.Response(status=401)
        webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
        billing, inventory = request.app[BILLING], request.app[INVENTORY]
        # Keyed too, so that an invoice billing made and failed to answer is not made again;
        # the attempt number is in the key, so that the retry after a compensation invoices
        # anew rather than being answered the deleted invoice.
        attempt = request.app[COMPENSATED].get(webhook_id, 0)
        if SAGA == "same-key":  # the flaw: the retry is answered the invoice it deleted
            key = {"Idempotency-Key": f"{webhook_id}:invoice"}
        else:
            key = {"Idempotency-Key": f"{webhook_id}:invoice:{attempt}"}
        try:
            async with billing.post("/invoices", json=invoice_of(order), headers=key) as answer:
                answer.raise_for_status()
                invoice_id = (await answer.json())["id"]
        except Failed:
            return web.Response(status=500)  # nothing done yet: Shopify retries
        try:
            # Keyed by the webhook id (the same on Shopify's retries): a reservation inventory
            # committed before failing its answer is not made again by the retry.
            reserve = inventory.post(
                "/reservations",
                json=reservation_of(order),
                headers={"Idempotency-Key": webhook_id},
            )
            async with reserve as answer:
                answer.raise_for_status()
        except Failed:
            if SAGA == "forget":
                # the flaw: no compensation, and "the invoice is what matters": an invoice
                # for stock never reserved
                return web.json_response({"invoice": invoice_id})
            try:
                async with billing.delete(f"/invoices/{invoice_id}") as undone:
                    undone.raise_for_status()
            except Failed:
                return web.Response(status=500)
            request.app[COMPENSATED][webhook_id] = attempt + 1
            if SAGA == "swallow":
                # the flaw: rolled back is not done, and Shopify will never send it again
                return web.json_response({"status": "rolled back"})
            return web.Response(status=500)
        return web.json_response({"invoice": invoice_id})

    app.router.add_post("/webhooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.saga_orders", "BILLING_URL")
    inventory = os.environ.get("INVENTORY_URL")
    if not inventory:
        raise SystemExit("set INVENTORY_URL to the inventory API's base URL")
    secret = os.environ["SHOPIFY_WEBHOOK_SECRET"]
    _serve.run(build_app(opts.downstream, inventory.rstrip("/"), secret), opts.port)


if __name__ == "__main__":
    main()
