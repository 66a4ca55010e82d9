"""Stripe ``customer.subscription.updated`` -> the CRM's subscription, debounced.

A subscription changes in flurries (a plan change, its proration, the invoice, the status):
its author answers 200 at once, handles each event id once, and writes a subscription only
once it has been quiet for 300 ms, with the newest state heard of — an event whose ``created``
is older than one already heard of is dropped; on a tie, the later to arrive wins. ``PUT
/subscriptions/{id}``, the whole state, so a repeat is harmless. A write the CRM refuses is
tried again a second later, up to ten times, unless a newer state is waiting by then.

Correct but for one thing no receiver of Stripe's avoids by ``created`` alone: two changes of
one subscription in the same second that arrive together (it has whole seconds) are ordered by
arrival, and the older may win. Intermediate states are never written: the register model
says that coalescing them is not loss.

Must get: no failure under a burst, duplicates, reordering or an outage (the states it
coalesced are superseded, not lost); under simultaneous changes, a record left on an older
state of the same second that arrived after the newer is not judged (nothing told their order:
``no_lost_events`` inconclusive, ``final_state_matches_baseline`` not judging it;
tests/test_gallery_round8.py).

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.debounce_sync --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("debounce_sync")

# Seconds a subscription must be quiet before it is written (a test may shorten it: the
# clean run waits it out after each event).
QUIET = float(os.environ.get("DEBOUNCE_QUIET", "0.3"))
TRIES = 10
RETRY = 1.0  # seconds before a refused write is tried again

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
PENDING: web.AppKey[dict[str, dict[str, Any]]] = web.AppKey("pending", dict)
TIMERS: web.AppKey[dict[str, asyncio.TimerHandle]] = web.AppKey("timers", dict)
TASKS: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("tasks", set)
NEWEST: web.AppKey[dict[str, int]] = web.AppKey("newest", dict)
SEEN: web.AppKey[set[str]] = web.AppKey("seen", set)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app[PENDING] = {}
    app[TIMERS] = {}
    app[TASKS] = set()
    app[NEWEST] = {}
    app[SEEN] = set()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    def debounce(sub_id: str, event: dict[str, Any], delay: float) -> None:
        app[PENDING][sub_id] = event
        if timer := app[TIMERS].pop(sub_id, None):
            timer.cancel()
        app[TIMERS][sub_id] = asyncio.get_running_loop().call_later(delay, flush, sub_id)

    def flush(sub_id: str) -> None:
        app[TIMERS].pop(sub_id, None)
        task = asyncio.create_task(write(sub_id, app[PENDING].pop(sub_id)))
        app[TASKS].add(task)
        task.add_done_callback(app[TASKS].discard)

    async def write(sub_id: str, event: dict[str, Any]) -> None:
        try:
            async with app[CRM].put(
                f"/subscriptions/{sub_id}", json=_stripe.subscription_state(event)
            ) as answer:
                answer.raise_for_status()
                return
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("CRM write of %s failed: %s", sub_id, error)
        tries = event.setdefault("_tries", 1)
        if sub_id in app[PENDING]:
            return  # a newer state is waiting: it is the one to write
        if tries < TRIES:
            event["_tries"] = tries + 1
            debounce(sub_id, event, RETRY)
        else:
            log.error("subscription %s not written after %d tries", sub_id, TRIES)

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "customer.subscription.updated" or event["id"] in app[SEEN]:
            return web.json_response({"received": True})
        app[SEEN].add(event["id"])
        sub_id, created = event["data"]["object"]["id"], event.get("created", 0)
        if created < app[NEWEST].get(sub_id, created):
            return web.json_response({"received": True})  # older than a state already heard
        app[NEWEST][sub_id] = created
        debounce(sub_id, event, QUIET)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.debounce_sync", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
