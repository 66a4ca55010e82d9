"""Stripe checkouts -> a customer, then an order, in the CRM: two writes per event, in a FastAPI
endpoint, under uvicorn.

Written the way a FastAPI tutorial writes an endpoint that calls an API: an ``async def``
endpoint with one ``httpx.AsyncClient`` opened in the app's lifespan, the signature checked with
the Stripe SDK, then ``POST /customers`` (the checkout's email and name) and, with the id the
CRM answered, ``POST /orders``; each answer's ``raise_for_status()``. An error is left to
FastAPI: the endpoint answers 500 and Stripe redelivers the checkout later.

Nothing undoes the customer when the order fails, and nothing finds it again on the retry: a
checkout whose order the CRM refused leaves a customer without an order (a partial write), and
each redelivery creates another customer before it gets as far as the order. A CRM that applies
a call and answers 502 does the same to the customer — and to the order, whose retry posts it
again. Copies of one checkout at once each create both.

Must get: under duplicate-storm and ambiguous-commit ``no_duplicate_effects`` fails on the
customers (and orders) made twice; under downstream-outage a checkout whose customer was made
and whose order was refused is named for the customer made again, not called lost where its
order came in the end. With ``CUSTOMER_KEY=1`` both calls carry an ``Idempotency-Key`` made from
the event id and the step: a retry gets the first answers back.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.customer_then_order --port 8000
"""

import os
from typing import Annotated, Any

import stripe
from fastapi import Depends, FastAPI

from . import _serve, _uvicorn
from ._fastapi import crm_client, stripe_event
from ._stripe import order_of

KEYED = os.environ.get("CUSTOMER_KEY") == "1"


def create_app() -> FastAPI:
    """The app (``uvicorn --factory``): the CRM's URL and the signing secret from the
    environment."""
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    app = FastAPI(lifespan=crm_client)

    def keyed(event_id: str, step: str) -> dict[str, str]:
        return {"Idempotency-Key": f"{event_id}:{step}"} if KEYED else {}

    verified = stripe_event(secret)  # FastAPI resolves the annotations below at definition

    @app.post("/webhooks/stripe")
    async def stripe_webhook(
        event: Annotated[stripe.Event, Depends(verified)],
    ) -> dict[str, Any]:
        if event.type != "checkout.session.completed":
            return {"received": True}
        checkout = event.to_dict()
        order = order_of(checkout)
        details = checkout["data"]["object"].get("customer_details") or {}
        client = app.state.crm
        made = await client.post(
            "/customers",
            json={"email": order["email"], "name": details.get("name")},
            headers=keyed(event.id, "customer"),
        )
        made.raise_for_status()
        placed = await client.post(
            "/orders",
            json={**order, "customer_id": made.json()["id"]},
            headers=keyed(event.id, "order"),
        )
        placed.raise_for_status()
        return {"received": True, "order": placed.json()["id"]}

    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.customer_then_order", "CRM_URL")
    os.environ["CRM_URL"] = opts.downstream
    _uvicorn.serve("tests.gallery.customer_then_order:create_app", opts.port)


if __name__ == "__main__":
    main()
