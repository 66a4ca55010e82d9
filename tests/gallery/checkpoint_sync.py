"""Standard Webhooks ``contact.updated`` -> the CRM's contact, behind one checkpoint for the
whole stream.

Its author first synced the CRM by polling the sender's events endpoint with a checkpoint (the
``timestamp`` of the newest event handled, ``GET /events?since=<checkpoint>``), then moved to
webhooks and kept the checkpoint as the guard against stale and repeated deliveries: an event
older than the checkpoint is answered 200 and not written. One checkpoint is right for a poll,
which reads the stream in order; for webhooks, which come in any order, it compares a contact's
update with another contact's: when an update of one contact arrives after a newer update of
another, it is skipped, and if it was its contact's newest, that contact keeps an older state.
The check is ``<``: an update stamped as the checkpoint is written (two contacts changed in
the same instant). The check and the write are done under one lock, so that two deliveries at
once cannot both pass the check and land in the wrong order.

With ``CHECKPOINT=contact`` it keeps one checkpoint, and one lock, per contact
(tests/gallery/stale_guard's rule): only a contact's own newer update makes one of its updates
stale.

Must get, under ``out-of-order``: the stream's checkpoint fails ``final_state_matches_baseline``
or ``no_lost_events`` on the contacts whose newest update was skipped (answered 200: silent);
per contact, no failure.

    export WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.checkpoint_sync --port 8000
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from datetime import datetime

import aiohttp
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from . import _serve

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
FIELDS = ("email", "name", "company", "plan")


def build_app(crm_url: str, secret: str, per_contact: bool) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))
    verifier = Webhook(secret)
    checkpoints: dict[str, datetime] = {}  # "" (the stream's) or a contact id -> newest handled
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def webhook(request: web.Request) -> web.Response:
        try:
            event = verifier.verify(await request.read(), dict(request.headers))
        except WebhookVerificationError:
            return web.Response(status=400)
        contact = event["data"]
        changed = datetime.fromisoformat(event["timestamp"])
        scope = contact["id"] if per_contact else ""
        async with locks[scope]:  # the check and the write together
            checkpoint = checkpoints.get(scope)
            if checkpoint is not None and changed < checkpoint:
                return web.json_response({"received": True, "stale": True})
            fields = {k: contact.get(k) for k in FIELDS}
            try:
                async with request.app[CRM].put(f"/contacts/{contact['id']}", json=fields) as r:
                    r.raise_for_status()
            except (aiohttp.ClientError, TimeoutError) as exc:
                return web.json_response({"error": f"CRM: {exc}"}, status=502)
            checkpoints[scope] = changed
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/contacts", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.checkpoint_sync", "CRM_URL")
    per_contact = os.environ.get("CHECKPOINT") == "contact"
    _serve.run(build_app(opts.downstream, os.environ["WEBHOOK_SECRET"], per_contact), opts.port)


if __name__ == "__main__":
    main()
