"""Order webhooks -> the order patched in a CRM, and a line appended to the order's timeline.

Each event sets the order's status and email with a JSON Merge Patch (``PATCH``, ``Content-Type:
application/merge-patch+json``: sent twice, the order is as after once), then appends an
activity line to the order's timeline, whose number it derives from the order id (a CRC, as a
legacy system's numeric key): the line holds the event type and the amount, nothing the event
carries as it is. It does not deduplicate, and sends no ``Idempotency-Key``: a redelivered event
appends its line again.

Must get: ``no_duplicate_effects`` never pass under redeliveries — the lines name no event, so
nothing ties a second line to the event it repeats, and the run made more of them than its
clean run: inconclusive, counting both and naming ``POST /timeline/{id}/entries`` and the
``correlate:`` rule to write; its repeated ``PATCH`` harmless, never a duplicate. Without
redeliveries (as many lines as the clean run), a pass. Redeliveries while the CRM refuses some
events (no line for those): still inconclusive, the lines owed per accepted event.

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.activity_log --port 8000
"""

from __future__ import annotations

import json
import zlib

import aiohttp
from aiohttp import web

from . import _serve

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


def build_app(crm_url: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        data = event["data"]
        order = data["order_id"]
        timeline = zlib.crc32(order.encode())
        crm = request.app[CRM]
        try:
            patch = {"status": event["type"], "email": data["customer"]["email"]}
            merge = {"Content-Type": "application/merge-patch+json"}
            async with crm.patch(f"/orders/{order}", data=json.dumps(patch), headers=merge) as r:
                r.raise_for_status()
            line = {"line": event["type"], "amount": data["amount"]}
            async with crm.post(f"/timeline/{timeline}/entries", json=line) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": str(exc)}, status=503)
        return web.json_response({"ok": True})

    app.router.add_post("/hooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.activity_log", "CRM_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
