"""Standard Webhooks ``contact.updated`` -> the CRM's contact, "upserted" by delete and create.

The CRM's API has no ``PUT`` and no upsert: a contact is created (``POST /contacts``, the CRM
makes its id) or deleted. Its author wrote the sync the way such APIs push one to: find the
contact by email (``GET /contacts?email=``), delete what is found (``DELETE
/contacts/{id}``, a 404 ignored: already gone), then create it with the update's fields. A
failed call answers 500, so that the sender retries the whole update. One update at a time, the
CRM always holds one contact per customer, with the newest fields.

Two updates of one contact at once each find the old contact, each delete it (one of them
meets a 404) and each create one: two contacts for one customer. And a CRM that fails between
the two calls has deleted the contact and not made the new one: no contact at all until the
sender's retry comes — if it comes.

Must get: under simultaneous-same-record, ``no_duplicate_effects`` and
``final_state_matches_baseline`` fail, counting the contacts per customer; one update at a
time (duplicates a second apart), every verdict holds.

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.delete_recreate --port 8000
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

log = logging.getLogger("delete_recreate")

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


async def replace(crm: aiohttp.ClientSession, contact: dict[str, Any]) -> None:
    """The contact of ``contact['email']`` replaced by one with ``contact``'s fields."""
    async with crm.get("/contacts", params={"email": contact["email"]}) as found:
        found.raise_for_status()
        held = await found.json()
    for old in held:
        async with crm.delete(f"/contacts/{old['id']}") as gone:
            if gone.status != 404:  # already gone
                gone.raise_for_status()
    fields = {k: contact.get(k) for k in ("email", "name", "company", "plan")}
    async with crm.post("/contacts", json={**fields, "external_id": contact["id"]}) as made:
        made.raise_for_status()


def build_app(crm_url: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        if event.get("type") != "contact.updated":
            return web.json_response({"received": True})
        try:
            await replace(request.app[CRM], event["data"])
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("contact %s not replaced: %s", event["data"].get("id"), error)
            return web.Response(status=500)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/contacts", webhook)
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    opts = _serve.options("python -m tests.gallery.delete_recreate", "CRM_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
