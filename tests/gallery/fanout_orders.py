"""Shopify ``orders/create`` -> the CRM's order, a Slack message and a receipt email, in turn.

One order fans out to three APIs behind one base URL (an integration gateway's): ``POST
/crm/orders``, ``POST /slack/chat.postMessage``, ``POST /mail/send``. The handler answers after
the three calls, 500 when any failed, so that Shopify retries — and a retry does all three
again: the CRM order was committed before the Slack call failed, and a CRM that creates on
``POST`` holds the order twice (the email goes out twice too). Nothing deduplicates.

With ``PER_STEP=1`` it is idempotent per event, as it should be: each step is claimed under the
``X-Shopify-Webhook-Id`` (the same on Shopify's retries) before its call and released when the
call fails, so a retry, or a copy arriving at once, does only the steps still missing; the CRM
call carries the id as its ``Idempotency-Key`` (a CRM that committed and then answered 502 is
asked again with it). Slack and the mail API take no key: claimed first, they are sent once.

With ``KEYS=every`` (this module's first per-step attempt) every call carries an
``Idempotency-Key`` made of the webhook id and the step (``<id>:slack``) and nothing is
claimed: the author took the key to make any retry harmless. The CRM honours it; Slack's
``chat.postMessage`` and the mail API ignore it, so a copy of the webhook posts the message
and sends the email again. It passed while the double honoured every key: declared
``idempotency_key: {ignored: ['POST /slack/*', 'POST /mail/*']}``, ``no_duplicate_effects``
fails naming the second ``POST /slack/chat.postMessage``; undeclared, it passes saying where
it assumed the key honoured.

Must get, when a retry follows a committed CRM write (the notify failing, the CRM slow past
Shopify's 5 s, a 502 after the commit): ``no_duplicate_effects`` fails naming the order's second
``POST /crm/orders``; per step, it passes.

    GATEWAY_URL=http://127.0.0.1:9100 python -m tests.gallery.fanout_orders --port 8000
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
DONE: web.AppKey[dict[str, set[str]]] = web.AppKey("done", dict)
PER_STEP = os.environ.get("PER_STEP") == "1"
KEY_EVERY_CALL = os.environ.get("KEYS") == "every"


def steps(order: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, path, body) of each call the order makes, in order."""
    email = order.get("email") or (order.get("customer") or {}).get("email")
    return [
        (
            "crm",
            "/crm/orders",
            {
                "shopify_id": order["id"],
                "email": email,
                "total": order.get("total_price"),
                "currency": order.get("currency"),
            },
        ),
        (
            "slack",
            "/slack/chat.postMessage",
            {"channel": "#orders", "text": f"New order {order.get('name')}: {email}"},
        ),
        ("mail", "/mail/send", {"to": email, "template": "receipt", "order": order["id"]}),
    ]


def build_app(api_url: str) -> web.Application:
    app = web.Application()
    app[DONE] = {}
    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        order = await request.json()
        webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
        done = request.app[DONE].setdefault(webhook_id, set()) if PER_STEP else set()
        for name, path, body in steps(order):
            if name in done:
                continue
            done.add(name)  # claimed before the call: a copy arriving meanwhile skips it
            # Only the CRM honours an Idempotency-Key; Slack and the mail API post again.
            if KEY_EVERY_CALL:
                headers = {"Idempotency-Key": f"{webhook_id}:{name}"}
            else:
                key = PER_STEP and name == "crm"
                headers = {"Idempotency-Key": webhook_id} if key else {}
            try:
                async with request.app[API].post(path, json=body, headers=headers) as answer:
                    answer.raise_for_status()
            except (aiohttp.ClientError, TimeoutError):
                done.discard(name)  # to be done again on Shopify's retry
                return web.Response(status=500)  # Shopify retries the whole webhook
        return web.Response(status=200)

    app.router.add_post("/webhooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.fanout_orders", "GATEWAY_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
