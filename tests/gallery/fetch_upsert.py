"""Attio ``record.updated`` -> billing customers, as a fetch-on-receipt sync is written.

Attio's webhook carries ids only (PROVIDERS.md): for each event of the body it looks the
customer up by the record's id (``GET /customers?attio_id=``), fetches the record (``GET
/v2/objects/{object}/records/{record}``), then creates the customer (``POST /customers``) or
updates the one it found (``PATCH /customers/{id}``). Nothing holds the look-up and the
creation together: changes of one record that arrive at once each find no customer, and each
creates one. With ``SKIP_BUSY=1`` it also drops a change of a record it is syncing already
("already in progress"), as a debounce does, so the later of simultaneous changes is never
written.

Must get, under simultaneous changes of a record: ``final_state_matches_baseline`` fails on
the copies; ``no_lost_events`` is inconclusive — each change wrote the customer, creating it
where the clean run updated it: a race, or an update lost with a creation in its place, which
writes naming only their record cannot tell apart. With ``SKIP_BUSY=1`` ``no_lost_events``
fails: the record got fewer writes than its clean twin.

    BILLING_URL=http://127.0.0.1:9100 python -m tests.gallery.fetch_upsert --port 8000
"""

from __future__ import annotations

import os

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
SYNCING: web.AppKey[set[str]] = web.AppKey("syncing", set)
SKIP_BUSY = os.environ.get("SKIP_BUSY") == "1"


async def _sync(api: aiohttp.ClientSession, object_id: str, record_id: str) -> None:
    """The record's customer: found by the record's id, then created or updated."""
    async with api.get("/customers", params={"attio_id": record_id}) as found:
        found.raise_for_status()
        existing = await found.json()
    async with api.get(f"/v2/objects/{object_id}/records/{record_id}") as fetched:
        fetched.raise_for_status()
        values = (await fetched.json())["data"]["values"]
    customer = {
        "attio_id": record_id,
        "name": values["name"][0]["full_name"],
        "email": values["email_addresses"][0]["email_address"],
    }
    if existing:
        written = api.patch(f"/customers/{existing[0]['id']}", json=customer)
    else:
        written = api.post("/customers", json=customer)
    async with written as answer:
        answer.raise_for_status()


async def attio_webhook(request: web.Request) -> web.Response:
    syncing = request.app[SYNCING]
    for event in (await request.json())["events"]:
        ids = event["id"]
        record = ids["record_id"]
        if SKIP_BUSY and record in syncing:
            continue  # the flaw of a debounce: this change is never written
        syncing.add(record)
        try:
            await _sync(request.app[API], ids["object_id"], record)
        finally:
            syncing.discard(record)
    return web.Response(status=200)


def main() -> None:
    opts = _serve.options("python -m tests.gallery.fetch_upsert", "BILLING_URL")
    app = web.Application()
    app[SYNCING] = set()
    app.cleanup_ctx.append(_serve.client_session(API, opts.downstream))
    app.router.add_post("/webhooks/attio", attio_webhook)
    _serve.run(app, opts.port)


if __name__ == "__main__":
    main()
