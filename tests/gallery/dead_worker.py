"""Stripe checkouts -> the CRM's orders, worked off by one background thread.

Its author wanted Stripe to hear 200 at once: the handler verifies the signature, puts the
event on a ``queue.Queue`` and answers; one ``threading.Thread`` started with the app takes
each event off the queue and posts its order (``POST /orders``) once per event id, the
customer's email read straight from ``data.object.customer_details.email`` — every checkout
they ever saw had one.

The first checkout whose ``customer_details`` lacks ``email`` (a field renamed upstream, or
dropped) raises ``KeyError`` inside the thread, and the thread ends: Python prints its
traceback to stderr (``threading.excepthook``'s default) and nothing starts it again. The
server goes on answering 200 and queueing, and no order is posted again — the sound
checkouts after the bad one included — until the process restarts.

Must get: under renamed-field / missing-field, ``no_lost_events`` fails naming every checkout
from the first bad one on, sound ones too; in a clean run and under duplicates, all hold.
With ``WORKER_GUARD=1`` the worker logs the event it cannot read and goes on to the next.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.dead_worker --port 8000
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("dead_worker")

GUARD = os.environ.get("WORKER_GUARD") == "1"
JOBS: web.AppKey[queue.Queue[dict[str, Any] | None]] = web.AppKey("jobs", queue.Queue)


def order_of(event: dict[str, Any]) -> dict[str, Any]:
    session = event["data"]["object"]
    return {
        "checkout": session["id"],
        "email": session["customer_details"]["email"],
        "amount": session["amount_total"],
        "currency": session["currency"],
    }


def work(jobs: queue.Queue[dict[str, Any] | None], crm_url: str) -> None:
    """Posts each queued checkout's order once (Stripe redelivers), until it takes None."""
    done: set[str] = set()
    with httpx.Client(base_url=crm_url, timeout=10) as crm:
        while (event := jobs.get()) is not None:
            if event["id"] in done:
                continue
            if GUARD:
                try:
                    order = order_of(event)
                except (KeyError, TypeError) as error:
                    log.error("checkout %s skipped: no %s", event.get("id"), error)
                    continue
            else:
                order = order_of(event)
            try:
                crm.post("/orders", json=order).raise_for_status()
                done.add(event["id"])
            except httpx.HTTPError as error:
                log.warning("order of %s not sent: %s", event["id"], error)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()

    async def worker(app: web.Application) -> AsyncIterator[None]:
        app[JOBS] = queue.Queue()
        thread = threading.Thread(target=work, args=(app[JOBS], crm_url), name="orders-worker")
        thread.start()
        yield
        app[JOBS].put(None)
        thread.join(timeout=5)

    app.cleanup_ctx.append(worker)

    def accept(app: web.Application, event: dict[str, Any]) -> None:
        app[JOBS].put(event)

    app.router.add_post("/webhooks/stripe", _stripe.checkout_hook(secret, accept))
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.dead_worker", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
