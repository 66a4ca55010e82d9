"""Standard Webhooks ``contact.updated`` -> the CRM's contact, written at most once a second per
contact.

The CRM refuses a second write of one record within a second (a per-record rate limit, as
HubSpot's and Salesforce's row locks make of a burst), so its author throttles: each contact's
last write time is kept, and an update of a contact written less than a second ago is
answered 200 and not written — "it will change again in a second anyway", the leading-edge
throttle of a UI's scroll handler. Each write is the contact's whole state, ``PUT
/contacts/{id}``; a failed one answers 502, so that the sender retries.

An import or a merge changes one contact several times within a second: the first update to
arrive is written, and the ones after it are dropped for good. Where the first to arrive is
not the newest — three at the same instant, in no order — the contact keeps an older state,
and nothing after it in that second ever reaches the CRM. Nothing is logged as lost.

With ``THROTTLE=trailing`` an update within the second is held, the newest by ``sequence``,
and written once the second is up (lodash's ``throttle`` with ``trailing: true``); an update
older than what was written or held is skipped.

Must get, under simultaneous-same-record: ``no_lost_events`` fails on the contacts whose newest
update was answered 200 and never written (the clean run, sent back to back, drops updates
within a second too, so ``final_state_matches_baseline`` has few records to compare); with
``THROTTLE=trailing`` every verdict holds.

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.record_throttle --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
SPACING = 1.0  # seconds between two writes of one contact
log = logging.getLogger("record_throttle")


def build_app(crm_url: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))
    trailing = os.environ.get("THROTTLE") == "trailing"
    written_at: dict[str, float] = {}  # contact id -> loop time of its last write
    written: dict[str, int] = {}  # contact id -> the sequence last written
    held: dict[str, dict[str, Any]] = {}  # contact id -> the newest update waiting its turn
    flushes: set[asyncio.Task[None]] = set()

    async def put(contact: str, event: dict[str, Any]) -> bool:
        written_at[contact] = asyncio.get_running_loop().time()
        before = written.get(contact, -1)
        written[contact] = event.get("sequence", 0)  # claimed while the call is made
        data = event["data"]
        fields = {k: data.get(k) for k in ("name", "email", "company")}
        try:
            async with app[CRM].put(f"/contacts/{contact}", json=fields) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("contact %s not written: %s", contact, error)
            written[contact] = before
            return False
        return True

    async def flush(contact: str, wait: float) -> None:
        await asyncio.sleep(wait)
        await put(contact, held.pop(contact))

    def newer(contact: str, event: dict[str, Any]) -> bool:
        newest = max(written.get(contact, -1), held.get(contact, {}).get("sequence", -1))
        return bool(event.get("sequence", 0) > newest)

    def hold(contact: str, event: dict[str, Any], wait: float) -> None:
        if contact not in held:
            task = asyncio.create_task(flush(contact, wait))
            flushes.add(task)
            task.add_done_callback(flushes.discard)
        held[contact] = event

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        contact = event["data"]["contact_id"]
        since = asyncio.get_running_loop().time() - written_at.get(contact, float("-inf"))
        if trailing and not newer(contact, event):
            return web.json_response({"stale": True})
        if since < SPACING or contact in held:
            if trailing:
                hold(contact, event, max(0.0, SPACING - since))
            return web.json_response({"throttled": True})  # the flaw: dropped, unless held
        if not await put(contact, event):
            return web.json_response({"error": "CRM refused the write"}, status=502)
        return web.json_response({"written": True})

    app.router.add_post("/webhooks/contacts", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.record_throttle", "CRM_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
