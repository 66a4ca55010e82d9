"""Stripe checkouts -> the CRM's orders, from FastAPI's ``BackgroundTasks``, under ``uvicorn
--workers 2``.

Written the way FastAPI's docs teach a webhook that must answer fast: the endpoint checks the
signature with the Stripe SDK (``stripe.Webhook.construct_event``), skips an event id it has
seen, adds the order's work to ``BackgroundTasks`` and returns ``{"received": true}`` at once;
Starlette runs the task after the response has gone out. The task is a plain ``def`` (FastAPI
runs it in its thread pool): it looks the customer up (``LOOKUP`` seconds, Stripe's API not
being on loopback) and posts the order with the process's ``httpx.Client``; a failed post is
logged — Stripe heard 200 long before, so nothing will send the checkout again.

Then deployed as uvicorn's docs show for more than one core: ``--workers 2``, two processes
each accepting from one socket. The ``seen`` set is a module-level set: one per process. A copy
of a checkout that lands on the process that took the first is skipped, one that lands on the
other is ordered again. And the id is marked seen before the work is done: a checkout whose
order the CRM refused is lost, its redeliveries skipped as seen.

With ``RECYCLE=1`` each worker is restarted after ``--limit-max-requests 40`` (as a deployment
guarding against leaks does) with ``--timeout-graceful-shutdown GRACE`` (default 0.2 s, a
platform's short grace period): a worker past its limit stops accepting, waits that long for
the requests still in flight — each one's background tasks among them — then cancels them.
Every checkout still being looked up is lost, though answered 200. Without ``GRACE`` uvicorn
waits for them however long they take, and a recycled worker loses nothing.

Must get: under duplicate-storm ``no_duplicate_effects`` fails, on some copies, not all (those
that landed on the other process); under downstream-outage ``no_lost_events`` fails naming the
refused posts; under bulk-import-burst with ``RECYCLE=1`` ``no_lost_events`` fails on the
checkouts whose task was cancelled; the late work (every order comes after its 200) is never
called lost.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.background_tasks --port 8000
"""

import logging
import os
import time
from typing import Annotated, Any

import httpx
import stripe
from fastapi import BackgroundTasks, Depends, FastAPI

from . import _serve, _uvicorn
from ._fastapi import stripe_event
from ._stripe import order_of

log = logging.getLogger("background_tasks")

LOOKUP = float(os.environ.get("LOOKUP", "0.3"))  # seconds to look the customer up in Stripe
WORKERS = int(os.environ.get("WORKERS", "2"))

seen: set[str] = set()  # the flaw: one per worker process, and marked before the work is done


def post_order(crm: httpx.Client, event: dict[str, Any]) -> None:
    time.sleep(LOOKUP)  # the customer, looked up in Stripe's API
    try:
        crm.post("/orders", json=order_of(event)).raise_for_status()
    except httpx.HTTPError as error:
        log.warning("order of %s not posted: %s", event["id"], error)


def create_app() -> FastAPI:
    """The app, as each worker process builds it (``uvicorn --factory``): the CRM's URL and the
    signing secret from the environment."""
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    crm = httpx.Client(base_url=os.environ["CRM_URL"], timeout=10)
    app = FastAPI()

    verified = stripe_event(secret)  # FastAPI resolves the annotations below at definition

    @app.post("/webhooks/stripe")
    async def stripe_webhook(
        background_tasks: BackgroundTasks,
        event: Annotated[stripe.Event, Depends(verified)],
    ) -> dict[str, bool]:
        if event.id in seen:
            return {"received": True}
        seen.add(event.id)
        if event.type == "checkout.session.completed":
            background_tasks.add_task(post_order, crm, event.to_dict())
        return {"received": True}

    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.background_tasks", "CRM_URL")
    os.environ["CRM_URL"] = opts.downstream  # the workers are spawned: they read it there
    recycle: dict[str, Any] = {}
    if os.environ.get("RECYCLE") == "1":
        grace = os.environ.get("GRACE", "0.2")
        recycle = {"limit_max_requests": 40, "limit_max_requests_jitter": 10}
        if grace:
            recycle["timeout_graceful_shutdown"] = float(grace)
    _uvicorn.serve("tests.gallery.background_tasks:create_app", opts.port, WORKERS, **recycle)


if __name__ == "__main__":
    main()
