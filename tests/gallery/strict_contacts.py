"""Standard Webhooks ``contact.updated`` -> the CRM's contact, the payload validated by a strict
pydantic model first.

Its author generated the models from a sample delivery and made them strict — ``extra="forbid"``
on every model, every field required — "so that a malformed payload never reaches the CRM",
the habit of teams who want validation errors for fields they did not expect (allenai/rslearn
#380 turned ``extra="forbid"`` on for that reason). FastAPI served by uvicorn; the signature is
checked with the ``standardwebhooks`` library over the raw body, the payload then validated with
``ContactUpdated.model_validate_json``; a valid update newer than the contact's last one written
is ``PUT /contacts/{id}`` (one lock per contact; an older one is answered 200 and skipped, a
refused write answered 500 so that the sender retries).

What it does with a payload that fails the model is the difference (``ON_INVALID``):

- ``ignore`` (the default): logged and answered 200 — "the sender must not retry a payload that
  will never validate, and an endpoint that keeps failing gets disabled". A field renamed or
  dropped upstream, or one the sender adds in a non-breaking change (Standard Webhooks, Stripe,
  Shopify all add fields without notice), drops every update from then on, silently: each one
  answered 200. Forbidding extras is what breaks on the sender's *additive* changes — the
  blocket_api client (dunderrrrrr/blocket_api#33) had to allow them "since this'll crash if
  blocket decides to add keys".
- ``refuse``: FastAPI's own answer, 422 with the validation errors: loud, and the sender retries.

Must get: ``ignore``, under renamed-field and missing-field, ``drift_is_loud`` fails on the
updates answered 200 and never written, and ``no_lost_events`` does not pass them silently;
under an added field (tests/gallery/scenarios/contacts-field-added.yaml) ``drift_is_loud``
must not call the added field harmless — the update it came with was dropped whole. ``refuse``:
``drift_is_loud`` passes every drifted update as refused loudly (4xx), and
``accepts_genuine`` does not blame the signature for a 422 of drifted payloads.

    export WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.strict_contacts --port 8000
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import defaultdict
from datetime import datetime
from typing import Literal

from fastapi import FastAPI, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError
from standardwebhooks import Webhook, WebhookVerificationError

from . import _serve, _uvicorn
from ._fastapi import crm_client

log = logging.getLogger("strict_contacts")

ON_INVALID = os.environ.get("ON_INVALID", "ignore")


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    type: Literal["contact"]
    email: str
    name: str
    company: str
    plan: str
    updated_at: datetime


class ContactUpdated(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["contact.updated"]
    timestamp: datetime
    data: Contact


def create_app() -> FastAPI:
    """The app (``uvicorn --factory``): the CRM's URL and the signing secret from the
    environment."""
    app = FastAPI(lifespan=crm_client)
    verifier = Webhook(os.environ["WEBHOOK_SECRET"])
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    written: dict[str, datetime] = {}  # contact id -> the timestamp of its last update written

    @app.post("/webhooks/contacts")
    async def webhook(request: Request) -> Response:
        body = await request.body()
        try:
            verifier.verify(body, dict(request.headers))
        except WebhookVerificationError:
            return Response(status_code=400)
        try:
            event = ContactUpdated.model_validate_json(body)
        except ValidationError as error:
            if ON_INVALID == "refuse":
                raise HTTPException(422, error.errors(include_url=False)) from None
            log.warning("invalid contact.updated, ignored: %s", error)
            return Response(status_code=200)
        contact = event.data
        async with locks[contact.id]:
            if contact.id in written and event.timestamp <= written[contact.id]:
                return Response(status_code=200)  # a copy, or older than what the CRM holds
            fields = contact.model_dump(include={"email", "name", "company", "plan"})
            answer = await request.app.state.crm.put(f"/contacts/{contact.id}", json=fields)
            if answer.is_error:
                return Response(status_code=500)
            written[contact.id] = event.timestamp
        return Response(status_code=200)

    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.strict_contacts", "CRM_URL")
    os.environ["CRM_URL"] = opts.downstream
    _uvicorn.serve("tests.gallery.strict_contacts:create_app", opts.port)


if __name__ == "__main__":
    main()
