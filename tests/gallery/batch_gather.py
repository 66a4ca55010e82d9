"""HubSpot ``contact.propertyChange`` batches -> the activity feed, every event of a batch posted
at once with ``asyncio.gather``.

HubSpot delivers up to 100 events in one request. Its author wanted the batch done fast and
wrote what ``asyncio`` tutorials show: one ``POST /activities`` per event, all started
together, ``await asyncio.gather(*calls)``; the first call that raises (``raise_for_status``)
makes the handler answer 500, so that HubSpot retries. They deduplicate nothing: "HubSpot only
resends a batch that failed".

But HubSpot resends the whole batch, not the events that failed. An API that rate-limits (the
feed allows so many calls a second; HubSpot's own allows 110 per 10 s) takes the first calls of
a burst of a hundred and answers the rest 429: the batch is answered 500 and redelivered, and
each redelivery posts again the activities that went through the first time — while the calls
over the limit meet the same limit again, those at the back of the batch each time.

Must get, under a rate-limited feed (tests/gallery/scenarios/hubspot-batch-rate-limited.yaml):
``no_duplicate_effects`` fails naming the activities posted again for a batch redelivered
because *other* events of it were refused — not a race, not a slow ack (it named them and gave
no cause; now "made again when their batch was sent again whole"); the events refused on
every attempt were never accepted, which HubSpot knows (not lost). With ``SKIP_WRITTEN=1``
(each ``eventId`` claimed before its call, released when the call fails: a redelivered batch
posts only what is missing) nothing is posted twice.

    ACTIVITY_URL=http://127.0.0.1:9100 python -m tests.gallery.batch_gather --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
WRITTEN: web.AppKey[set[str]] = web.AppKey("written", set)
SKIP_WRITTEN = os.environ.get("SKIP_WRITTEN") == "1"

log = logging.getLogger("batch_gather")


async def post_activity(app: web.Application, event: dict[str, Any]) -> None:
    key, written = str(event["eventId"]), app[WRITTEN]
    if SKIP_WRITTEN:
        if key in written:
            return
        written.add(key)
    activity = {
        "contact": event["objectId"],
        "property": event.get("propertyName"),
        "value": event.get("propertyValue"),
        "occurred_at": event.get("occurredAt"),
    }
    try:
        async with app[API].post("/activities", json=activity) as answer:
            answer.raise_for_status()
    except BaseException:
        written.discard(key)
        raise


def build_app(api_url: str) -> web.Application:
    app = web.Application()
    app[WRITTEN] = set()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        batch = await request.json()
        changes = [e for e in batch if e.get("subscriptionType") == "contact.propertyChange"]
        try:
            await asyncio.gather(*(post_activity(request.app, e) for e in changes))
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("batch of %d failed: %s", len(changes), error)
            return web.Response(status=500)
        return web.Response(status=200)

    app.router.add_post("/hubspot/webhooks", webhook)
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    opts = _serve.options("python -m tests.gallery.batch_gather", "ACTIVITY_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
