"""Invoice webhooks -> the billing API, every number through a Python float.

Its author normalises numeric fields the way spreadsheet-minded code does:
``int(float(value))`` accepts ``1999``, ``"1999"`` and ``1999.0`` alike. For a 64-bit account
id beyond 2**53 it silently rounds to the nearest double: 820982911946154508 becomes
820982911946154496 (Python prints the double's exact value; JavaScript would print
820982911946154500). The invoice is booked to an account that does not exist, or to someone
else's, and nothing answers an error.

Must get: ``big_numbers_intact`` fail (not inconclusive), each witness showing the exact id and
the value ``int(float(id))`` that arrived.

    BILLING_URL=http://127.0.0.1:9100 python -m tests.gallery.float_ids --port 8000
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def number(value: Any) -> int:
    return int(float(value))  # the flaw


def build_app(api_url: str) -> web.Application:
    app = web.Application()

    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        if event.get("type") != "invoice.paid":
            return web.json_response({"ignored": True})
        data = event["data"]
        invoice = {
            "invoice_id": data["invoice_id"],
            "account_id": number(data["account_id"]),
            "amount": number(data["amount"]),
            "currency": data["currency"],
            "email": data["email"],
        }
        try:
            async with request.app[API].post("/invoices", json=invoice) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": str(exc)}, status=503)
        return web.json_response({"booked": True})

    app.router.add_post("/hooks/invoices", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.float_ids", "BILLING_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
