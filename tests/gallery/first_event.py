"""HubSpot ``contact.propertyChange`` -> the mailing list's member: the changed property PUT on it.

Its author tested it with HubSpot's "Test" button, which sends one event, and wrote
``event = (await request.json())[0]`` — HubSpot sends a JSON array. In production HubSpot
batches up to 100 events a request (PROVIDERS.md), and every event after the first of a batch
is answered 204 and never written. With ``EVERY_EVENT=1`` it loops over the whole array.

Must get, whenever a batch carries more than one event: ``no_lost_events`` fail, the events
after the first of each batch named as lost (never "made no effect in the clean run either",
never excused); looping over all of them, it passes.

    MAILER_URL=http://127.0.0.1:9100 python -m tests.gallery.first_event --port 8000
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

MAILER: web.AppKey[aiohttp.ClientSession] = web.AppKey("mailer", aiohttp.ClientSession)
EVERY_EVENT = os.environ.get("EVERY_EVENT") == "1"


async def _change(mailer: aiohttp.ClientSession, event: dict[str, Any]) -> None:
    """Mailchimp's "add or update list member": a PUT creates the member or updates it."""
    path = f"/lists/newsletter/members/{event['objectId']}"
    member = {
        "hubspot_id": event["objectId"],
        "merge_fields": {event["propertyName"]: event["propertyValue"]},
    }
    async with mailer.put(path, json=member) as answer:
        answer.raise_for_status()


def build_app(mailer_url: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(MAILER, mailer_url))

    async def webhook(request: web.Request) -> web.Response:
        events = await request.json()
        # The flaw: one event per request, as the "Test" button sent it.
        for event in events if EVERY_EVENT else events[:1]:
            try:
                await _change(request.app[MAILER], event)
            except (aiohttp.ClientError, TimeoutError) as exc:
                return web.json_response({"error": str(exc)}, status=503)
        return web.Response(status=204)

    app.router.add_post("/hubspot/webhook", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.first_event", "MAILER_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
