"""Stripe checkouts -> the CRM's orders, deduplicated by the last ``KEEP`` event ids seen.

Its author knew Stripe sends an event more than once and that a set of every id ever seen grows
without end, so the ids live in a bounded cache: an ``OrderedDict`` of the most recent
``KEEP`` (100 by default) — what ``functools.lru_cache(maxsize=…)``, ``cachetools.LRUCache`` or
a gateway's "recent deliveries" map give. An id is claimed before the work (a copy arriving
meanwhile is skipped) and dropped when the CRM refuses the order (so Stripe's retry does it);
each order is one ``POST /orders``, answered 200 after it, 500 when it fails. Each claim pushes
the least recently seen id out once the cache is full.

The flaw is the bound: it holds the last ``KEEP`` ids, not the last hours of them. A quiet
day's redelivery finds its id still there; in a burst of many distinct checkouts (a flash sale,
a backfill) the first ids are pushed out within seconds, and their redeliveries — Stripe's
retries, a copy sent late — are ordered again. The in-memory ``OrderedDict`` dedup of
PraisonAI's webhook gateway (github.com/MervinPraison/PraisonAI/issues/4208) is the shape.

Must get: under the standard suite (at most 200 events, their copies within a second or two)
what it sees: every copy skipped while its id is still held; under a burst of more than
``KEEP`` distinct checkouts whose copies come after ``KEEP`` others
(tests/gallery/scenarios/checkouts-lru-late-copies.yaml), ``no_duplicate_effects`` fails naming
the checkouts ordered twice; ``KEEP`` larger than the run's events holds every id, and passes.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.lru_dedup --port 8000
"""

from __future__ import annotations

import os
from collections import OrderedDict

import aiohttp
from aiohttp import web

from . import _serve, _stripe

KEEP = int(os.environ.get("KEEP", "100"))  # the ids the cache holds

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
RECENT: web.AppKey[OrderedDict[str, None]] = web.AppKey("recent", OrderedDict)


def claim(recent: OrderedDict[str, None], event_id: str) -> bool:
    """True when ``event_id`` is not among the last KEEP ids seen; it then is, the least recently
    seen one pushed out when the cache is full."""
    if event_id in recent:
        recent.move_to_end(event_id)
        return False
    recent[event_id] = None
    if len(recent) > KEEP:
        recent.popitem(last=False)
    return True


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[RECENT] = OrderedDict()
    app.cleanup_ctx.append(_serve.client_session(API, crm_url))

    webhook = _stripe.claiming_hook(
        secret,
        API,
        "/orders",
        _stripe.order_of,
        lambda app, event_id: claim(app[RECENT], event_id),
        lambda app, event_id: app[RECENT].pop(event_id, None),  # Stripe's retry does it
    )
    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.lru_dedup", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
