"""HubSpot ``contact.propertyChange`` -> the newsletter list: each change a member's merge field.

For each event of the batch it ``PATCH``es the member with the changed property, and ``PUT``s
the member when the list answers 404 (not subscribed yet) — the first change of a contact to
arrive creates it, whichever it is. It keeps no order: a change that arrives after a newer one
of the same contact overwrites it (HubSpot does not promise order).

Must get, under out-of-order delivery of the library's HubSpot changes: ``per_key_order`` and
``final_state_matches_baseline`` fail, naming a member left on an older email; ``no_lost_events``
holds — a change that PUT the member where its clean twin PATCHed it wrote the same member.

    MAILER_URL=http://127.0.0.1:9100 python -m tests.gallery.member_sync --port 8000
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve

MAILER: web.AppKey[aiohttp.ClientSession] = web.AppKey("mailer", aiohttp.ClientSession)


async def _member(mailer: aiohttp.ClientSession, event: dict[str, object]) -> None:
    """One change onto its member: PATCH, or PUT when the member is not on the list yet."""
    path = f"/lists/newsletter/members/{event['objectId']}"
    fields = {"merge_fields": {str(event["propertyName"]): event["propertyValue"]}}
    async with mailer.patch(path, json=fields) as changed:
        if changed.status != 404:
            changed.raise_for_status()
            return
    async with mailer.put(path, json={"hubspot_id": event["objectId"], **fields}) as made:
        made.raise_for_status()


async def hubspot_webhook(request: web.Request) -> web.Response:
    for event in await request.json():
        await _member(request.app[MAILER], event)
    return web.Response(status=204)  # the flaw: whatever came last wins


def main() -> None:
    opts = _serve.options("python -m tests.gallery.member_sync", "MAILER_URL")
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(MAILER, opts.downstream))
    app.router.add_post("/hubspot/webhook", hubspot_webhook)
    _serve.run(app, opts.port)


if __name__ == "__main__":
    main()
