"""A Stripe receiver's FastAPI pieces: the dependency checking a webhook as the Stripe SDK's
docs do (the raw body and the ``Stripe-Signature`` header through
``stripe.Webhook.construct_event``, 400 for a delivery whose signature fails), and a lifespan
holding one ``httpx.AsyncClient`` of the CRM. The work is the automation's own."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import stripe
from fastapi import FastAPI, Header, HTTPException, Request


def stripe_event(secret: str) -> Callable[..., Awaitable[stripe.Event]]:
    """A dependency (``Depends(stripe_event(secret))``) giving the verified event."""

    async def verified(request: Request, stripe_signature: str = Header("")) -> stripe.Event:
        try:
            return stripe.Webhook.construct_event(await request.body(), stripe_signature, secret)
        except (ValueError, stripe.SignatureVerificationError):
            raise HTTPException(status_code=400, detail="invalid signature") from None

    return verified


@asynccontextmanager
async def crm_client(app: FastAPI) -> AsyncIterator[None]:
    """A lifespan (``FastAPI(lifespan=crm_client)``): ``app.state.crm``, a client of
    ``$CRM_URL``, for as long as the app serves."""
    async with httpx.AsyncClient(base_url=os.environ["CRM_URL"], timeout=10) as client:
        app.state.crm = client
        yield
