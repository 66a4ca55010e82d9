"""HubSpot ``contact.propertyChange`` batches -> the mailing list's change log, each change
once, behind a v3 signature check whose replay window never closes.

It checks ``X-HubSpot-Signature-v3`` as HubSpot's docs give it (base64 HMAC-SHA256, under the
app's client secret, of the method, the URI, the raw body and ``X-HubSpot-Request-Timestamp``),
and refuses a request whose timestamp is more than five minutes old — in the docs' units: the
header is in milliseconds, so its author wrote the window as ``300_000`` and compared it with
``int(time.time())``, the clock in seconds (the habit of the Slack and Stripe checks it was
written next to). Now minus a timestamp a thousand times larger is never above 300 000: no
timestamp is ever too old. The signature is checked, so a forged or unsigned request is
refused; a genuine request captured and sent again an hour later is let through.

Each event's change is appended to the list's change log (``POST /contact-changes``) with
``Idempotency-Key: hubspot-<eventId>``, which the log honours: a change sent again (HubSpot's
retry of a batch answered 500 when a call failed, or a replay) is answered with the first
append and not appended again.

Must get: under replayed-delivery and forged-signature, ``rejects_forged`` fails naming the
stale and replayed deliveries answered 200 (expected a 4xx), the forged and unsigned ones
refused; ``accepts_genuine`` and every other verdict hold. With ``CLOCK=ms`` (the clock in
milliseconds, as the docs' sample takes it) ``rejects_forged`` passes.

    export HUBSPOT_CLIENT_SECRET=...
    MAILING_LIST_URL=http://127.0.0.1:9100 python -m tests.gallery.hubspot_window --port 8000
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import time
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
MAX_ALLOWED_TIMESTAMP = 300_000  # five minutes, in the header's milliseconds
CLOCK_MS = os.environ.get("CLOCK") == "ms"

log = logging.getLogger("hubspot_window")


def genuine(secret: str, request: web.Request, body: bytes) -> bool:
    timestamp = request.headers.get("X-HubSpot-Request-Timestamp", "")
    if not timestamp.isdigit():
        return False
    current_time = int(time.time() * 1000) if CLOCK_MS else int(time.time())
    if current_time - int(timestamp) > MAX_ALLOWED_TIMESTAMP:
        return False
    source = request.method.encode() + str(request.url).encode() + body + timestamp.encode()
    expected = base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest())
    given = request.headers.get("X-HubSpot-Signature-v3", "").encode()
    return hmac.compare_digest(expected, given)


async def append(api: aiohttp.ClientSession, event: dict[str, Any]) -> bool:
    """The event's change appended, keyed by its ``eventId`` (the change log honours
    ``Idempotency-Key``: a change sent again is not appended again); False when the call failed."""
    change = {"hubspot_id": event["objectId"], "occurred_at": event["occurredAt"]}
    change[event["propertyName"]] = event["propertyValue"]
    key = {"Idempotency-Key": f"hubspot-{event['eventId']}"}
    try:
        async with api.post("/contact-changes", json=change, headers=key) as answer:
            answer.raise_for_status()
    except (aiohttp.ClientError, TimeoutError):
        return False
    return True


def build_app(api_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        if not genuine(secret, request, body):
            log.warning("refused: bad or stale signature")
            return web.Response(status=401)
        batch = await request.json()
        changes = [e for e in batch if e.get("subscriptionType") == "contact.propertyChange"]
        written = await asyncio.gather(*(append(request.app[API], e) for e in changes))
        return web.Response(status=200 if all(written) else 500)

    app.router.add_post("/hubspot/webhooks", webhook)
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    opts = _serve.options("python -m tests.gallery.hubspot_window", "MAILING_LIST_URL")
    _serve.run(build_app(opts.downstream, os.environ["HUBSPOT_CLIENT_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
