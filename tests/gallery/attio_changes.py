"""Attio ``record.updated`` -> the warehouse's change log, each delivery handled once.

It checks ``Attio-Signature`` (the hex HMAC-SHA256 of the raw body under the webhook's secret,
as Attio's docs give it) and appends each event of the body to the warehouse's change log
(``POST /changes``: the record, the attribute, who changed it). Attio retries a delivery it
was not answered 2xx, so its author deduplicates — by the body's ``webhook_id``, read as the
delivery's id, the way a Stripe event's top-level ``id`` is. It is the id of the webhook (the
subscription), the same in every delivery Attio sends it: the first delivery is logged and
every later one is answered 200 as "already handled". With ``DEDUP=idempotency-key`` it keys by
the ``Idempotency-Key`` header, which Attio keeps across the retries of one delivery.

Must get: ``no_lost_events`` fails on every change after the first, answered 200 and never
logged; with ``DEDUP=idempotency-key`` every change is logged once, retries and copies too.

    export ATTIO_WEBHOOK_SECRET=...
    WAREHOUSE_URL=http://127.0.0.1:9100 python -m tests.gallery.attio_changes --port 8000
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

WAREHOUSE: web.AppKey[aiohttp.ClientSession] = web.AppKey("warehouse", aiohttp.ClientSession)
HANDLED: web.AppKey[set[str]] = web.AppKey("handled", set)
BY_KEY = os.environ.get("DEDUP") == "idempotency-key"


def signed(body: bytes, signature: str, secret: bytes) -> bool:
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


def build_app(warehouse_url: str, secret: bytes) -> web.Application:
    app = web.Application()
    app[HANDLED] = set()
    app.cleanup_ctx.append(_serve.client_session(WAREHOUSE, warehouse_url))

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        if not signed(body, request.headers.get("Attio-Signature", ""), secret):
            return web.Response(status=401)
        delivery = json.loads(body)
        # The flaw: webhook_id names the webhook, not the delivery.
        handled = request.headers.get("Idempotency-Key", "") if BY_KEY else delivery["webhook_id"]
        if handled in app[HANDLED]:
            return web.json_response({"status": "already handled"})
        app[HANDLED].add(handled)  # claimed before the work: a copy at once is skipped too
        try:
            await log_changes(request.app[WAREHOUSE], delivery["events"])
        except (aiohttp.ClientError, TimeoutError) as exc:
            app[HANDLED].discard(handled)  # not handled: Attio's retry must be
            return web.json_response({"error": f"warehouse: {exc}"}, status=502)
        return web.json_response({"status": "ok"})

    app.router.add_post("/webhooks/attio", webhook)
    return app


async def log_changes(warehouse: aiohttp.ClientSession, events: list[dict[str, Any]]) -> None:
    """Each event appended to the change log."""
    for event in events:
        ids = event["id"]
        change = {
            "workspace": ids["workspace_id"],
            "object": ids["object_id"],
            "record": ids["record_id"],
            "attribute": ids.get("attribute_id"),
            "actor": (event.get("actor") or {}).get("id"),
        }
        async with warehouse.post("/changes", json=change) as answer:
            answer.raise_for_status()


def main() -> None:
    opts = _serve.options("python -m tests.gallery.attio_changes", "WAREHOUSE_URL")
    secret = os.environ["ATTIO_WEBHOOK_SECRET"].encode()
    _serve.run(build_app(opts.downstream, secret), opts.port)


if __name__ == "__main__":
    main()
