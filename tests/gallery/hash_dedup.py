"""HubSpot ``contact.propertyChange`` batches -> the mailing list's change log, deduplicated by
a hash of each event, as Zapier-style triggers deduplicate what they poll.

HubSpot delivers up to 100 events in one request and retries the whole request when it gets
no 2xx within 5 s. Each event is appended to the list's change log (``POST /contact-changes``),
at most once: its dedup key is claimed before the call and released when the call fails (so a
retry writes it), and any failure answers 500. The key is the sha256 of the event's JSON, as a
tool that knows nothing of the payload has to take it — but HubSpot counts its attempts in the
event itself (``attemptNumber``: 0, then 1, 2, … on each retry), so a retry of an event already
written hashes anew and is appended again. With ``DEDUP_KEY=event`` it keys by ``eventId``, as
HubSpot's docs ask.

Must get, when HubSpot retries a batch whose events were being written (calls slower than its
ack timeout: provider-retry-storm): hashed, ``no_duplicate_effects`` fails, naming each retried
event's appends; keyed by event id, it passes.

    MAILING_LIST_URL=http://127.0.0.1:9100 python -m tests.gallery.hash_dedup --port 8000
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
CLAIMED: web.AppKey[set[str]] = web.AppKey("claimed", set)
BY_EVENT_ID = os.environ.get("DEDUP_KEY") == "event"


def dedup_key(event: dict[str, Any]) -> str:
    if BY_EVENT_ID:
        return str(event["eventId"])
    return hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()


async def append(app: web.Application, event: dict[str, Any]) -> bool:
    """The event's change appended once; False when the call failed (the key released)."""
    key, claimed = dedup_key(event), app[CLAIMED]
    if key in claimed:
        return True
    claimed.add(key)
    change = {
        "hubspot_id": event["objectId"],
        "property": event["propertyName"],
        "value": event["propertyValue"],
        "occurred_at": event["occurredAt"],
    }
    try:
        async with app[API].post("/contact-changes", json=change) as answer:
            answer.raise_for_status()
    except (aiohttp.ClientError, TimeoutError):
        claimed.discard(key)
        return False
    return True


def build_app(api_url: str) -> web.Application:
    app = web.Application()
    app[CLAIMED] = set()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        batch = await request.json()
        changes = [e for e in batch if e.get("subscriptionType") == "contact.propertyChange"]
        written = await asyncio.gather(*(append(request.app, e) for e in changes))
        return web.Response(status=200 if all(written) else 500)

    app.router.add_post("/hubspot/webhooks", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.hash_dedup", "MAILING_LIST_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
