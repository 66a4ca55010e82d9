"""Stripe checkouts -> the warehouse's shipments, deduplicated by a claim that expires.

Its author knew Stripe sends an event more than once and copied the Redis habit: claim the
event id with ``SET evt_… 1 NX EX 30`` before the work, skip the event when the claim is
already taken, drop the claim when the work fails (so Stripe's retry does it). Here the claims
live in the process (a dict of id -> expiry, what a Redis with the same TTL holds). Each
shipment is one ``POST /shipments``, answered 200 after it, 500 when it fails.

The flaw is the expiry: a claim forgets its event after ``DEDUP_TTL`` seconds (30 by default),
and Stripe's retries of an event whose answer was lost or late come 17 min, 34 min, 68 min …
up to three days later — after the claim expired, so the retry ships again. ``DEDUP_TTL``
longer than Stripe retries (``259200``: three days and more) keeps every claim for as long as
a retry can come.

Must get: a run whose retries come before the claim expires (every retry storm compressed into
seconds) says it could not see past it, never a bare pass; retries later than the claim (a
``DEDUP_TTL`` shorter than the run's retry delays) fail ``no_duplicate_effects``.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    WAREHOUSE_URL=http://127.0.0.1:9100 python -m tests.gallery.ttl_dedup --port 8000
"""

from __future__ import annotations

import os
import time
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

TTL = float(os.environ.get("DEDUP_TTL", "30"))  # s a claim lives: `SET id 1 NX EX <TTL>`

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
CLAIMS: web.AppKey[dict[str, float]] = web.AppKey("claims", dict)


def claim(claims: dict[str, float], event_id: str) -> bool:
    """``SET event_id 1 NX EX TTL``: True when the id was free (or its claim had expired)."""
    now = time.monotonic()
    if claims.get(event_id, 0.0) > now:
        return False
    claims[event_id] = now + TTL
    return True


def _shipment(event: dict[str, Any]) -> dict[str, Any]:
    session = event["data"]["object"]
    details = session.get("customer_details") or {}
    return {
        "checkout": session["id"],
        "name": details.get("name"),
        "email": details.get("email"),
        "address": details.get("address"),
    }


def build_app(warehouse_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[CLAIMS] = {}
    app.cleanup_ctx.append(_serve.client_session(API, warehouse_url))

    webhook = _stripe.claiming_hook(
        secret,
        API,
        "/shipments",
        _shipment,
        lambda app, event_id: claim(app[CLAIMS], event_id),
        lambda app, event_id: app[CLAIMS].pop(event_id, None),  # `DEL`: Stripe's retry does it
    )
    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.ttl_dedup", "WAREHOUSE_URL", build_app)


if __name__ == "__main__":
    main()
