"""Standard Webhooks ``contact.updated`` -> the CRM's contact, newest change wins. Correct, but
for an ambiguous acknowledgement.

Its author read that webhooks come out of order ("no ordering guarantee: use the timestamp") and
kept, per contact, the ``timestamp`` of the last change it applied. An update older than that
one is stale: a newer state is already in the CRM, so it is answered 200 and nothing is written.
Each contact's check and write are serialised (one lock per contact), so two updates of one
contact that arrive together cannot both pass the check and land in the wrong order. The mark
is set only once the write went through: a failed ``PUT`` answers 500 and the sender retries.

Under out-of-order delivery it skips stale updates on purpose, and every contact still ends on
its newest change, as in the clean run.

With ``CONTACT_WRITE=upsert`` it writes the way many CRM syncs do: ``PATCH`` the contact, and
``PUT`` it when the CRM answers 404 (not there yet). The first update of a contact to arrive
creates it: in the clean run its first, under reordering whichever came first — its newest, at
times, which the clean run PATCHed.

Its one gap shows under an ambiguous acknowledgement (``ambiguous-commit``): the mark is set
only once a write is confirmed, so a ``PUT`` the CRM committed and answered 502 is not counted;
the sender's redelivery of that older update writes it again after a newer one, and the contact
goes back to an older state until the newer's own retry (``per_key_order`` fails, naming the
write that had landed; tests/test_gallery_model.py).

Must get: no failure — ``no_lost_events`` does not call the skipped stale updates lost (the
register model owes only each contact's newest update), nor a newest update that PUT what its
clean twin PATCHed (the same contact written another way); ``per_key_order`` and
``final_state_matches_baseline`` hold.

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.stale_guard --port 8000
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from datetime import datetime

import aiohttp
from aiohttp import web

from . import _serve

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


async def _put(crm: aiohttp.ClientSession, path: str, fields: dict[str, str]) -> None:
    async with crm.put(path, json=fields) as r:
        r.raise_for_status()


async def _upsert(crm: aiohttp.ClientSession, path: str, fields: dict[str, str]) -> None:
    async with crm.patch(path, json=fields) as r:
        if r.status == 404:  # not in the CRM yet
            await _put(crm, path, fields)
            return
        r.raise_for_status()


def build_app(crm_url: str, upsert: bool = False) -> web.Application:
    app = web.Application()
    applied: dict[str, datetime] = {}  # contact id -> timestamp of the change it holds
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        contact = event["data"]
        changed = datetime.fromisoformat(event["timestamp"])
        async with locks[contact["contact_id"]]:
            newest = applied.get(contact["contact_id"])
            if newest is not None and changed < newest:
                return web.json_response({"received": True, "stale": True})
            fields = {k: contact[k] for k in ("name", "email", "company")}
            write = _upsert if upsert else _put
            try:
                await write(request.app[CRM], f"/contacts/{contact['contact_id']}", fields)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return web.json_response({"error": f"CRM: {exc}"}, status=500)
            applied[contact["contact_id"]] = changed
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/contacts", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.stale_guard", "CRM_URL")
    _serve.run(build_app(opts.downstream, os.environ.get("CONTACT_WRITE") == "upsert"), opts.port)


if __name__ == "__main__":
    main()
