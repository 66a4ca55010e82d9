"""Stripe checkouts -> the CRM's orders from an async FastAPI endpoint, two ways often written
to keep Stripe from waiting, under uvicorn.

``MODE=task`` (the default): the endpoint checks the signature, starts the order's post with
``asyncio.create_task(...)`` — no reference kept, nothing awaited — and answers 200. uvicorn
waits for the requests in flight when a worker stops, not for tasks it never heard of: with
``RECYCLE=1`` (``--workers 2 --limit-max-requests 40``, uvicorn's default graceful shutdown,
which waits) every order still being looked up when its worker reaches the limit is dropped
with the worker's event loop — ``BackgroundTasks`` would have been waited for.

``MODE=wait_for``: the endpoint posts the order before answering, each try bounded by
``asyncio.wait_for(..., TRY_TIMEOUT)`` and tried again on a timeout, three tries in all, so
that a slow CRM does not hold Stripe past its own timeout. A try given up on may have landed:
the CRM took the order and was slow to say so, and the next try posts it again.

Must get: ``MODE=task`` with ``RECYCLE=1`` under bulk-import-burst, ``no_lost_events`` fails on
the checkouts whose task died with its worker; ``MODE=wait_for`` under slow-downstream and
provider-retry-storm-stripe, ``no_duplicate_effects`` fails on orders posted again while the
first was still open.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 MODE=task python -m tests.gallery.fire_and_forget --port 8000
"""

import asyncio
import logging
import os
from typing import Annotated, Any

import httpx
import stripe
from fastapi import Depends, FastAPI

from . import _serve, _uvicorn
from ._fastapi import crm_client, stripe_event
from ._stripe import order_of

log = logging.getLogger("fire_and_forget")

MODE = os.environ.get("MODE", "task")
LOOKUP = float(os.environ.get("LOOKUP", "0.3"))  # seconds to look the customer up in Stripe
TRY_TIMEOUT = float(os.environ.get("TRY_TIMEOUT", "0.5"))
TRIES = 3


async def post_order(crm: httpx.AsyncClient, event: dict[str, Any]) -> None:
    await asyncio.sleep(LOOKUP)  # the customer, looked up in Stripe's API
    try:
        (await crm.post("/orders", json=order_of(event))).raise_for_status()
    except httpx.HTTPError as error:
        log.warning("order of %s not posted: %s", event["id"], error)


async def post_with_retries(crm: httpx.AsyncClient, event: dict[str, Any]) -> None:
    for attempt in range(1, TRIES + 1):
        try:
            answer = await asyncio.wait_for(crm.post("/orders", json=order_of(event)), TRY_TIMEOUT)
            answer.raise_for_status()
            return
        except TimeoutError:
            log.warning("order of %s: try %d timed out", event["id"], attempt)
    raise TimeoutError(f"order of {event['id']}: {TRIES} tries timed out")


def create_app() -> FastAPI:
    """The app (``uvicorn --factory``): the CRM's URL and the signing secret from the
    environment."""
    app = FastAPI(lifespan=crm_client)
    verified = stripe_event(os.environ["STRIPE_WEBHOOK_SECRET"])

    @app.post("/webhooks/stripe")
    async def stripe_webhook(
        event: Annotated[stripe.Event, Depends(verified)],
    ) -> dict[str, bool]:
        if event.type == "checkout.session.completed":
            if MODE == "wait_for":
                await post_with_retries(app.state.crm, event.to_dict())
            else:
                asyncio.create_task(post_order(app.state.crm, event.to_dict()))  # noqa: RUF006
        return {"received": True}

    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.fire_and_forget", "CRM_URL")
    os.environ["CRM_URL"] = opts.downstream  # the workers are spawned: they read it there
    recycle = os.environ.get("RECYCLE") == "1"
    _uvicorn.serve(
        "tests.gallery.fire_and_forget:create_app",
        opts.port,
        2 if recycle else 1,
        **({"limit_max_requests": 40, "limit_max_requests_jitter": 10} if recycle else {}),
    )


if __name__ == "__main__":
    main()
