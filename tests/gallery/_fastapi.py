"""A Stripe receiver's FastAPI dependency, as the Stripe SDK's docs check a webhook: the raw
body and the ``Stripe-Signature`` header through ``stripe.Webhook.construct_event``, 400 for a
delivery whose signature fails. The work is the automation's own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import stripe
from fastapi import Header, HTTPException, Request


def stripe_event(secret: str) -> Callable[..., Awaitable[stripe.Event]]:
    """A dependency (``Depends(stripe_event(secret))``) giving the verified event."""

    async def verified(request: Request, stripe_signature: str = Header("")) -> stripe.Event:
        try:
            return stripe.Webhook.construct_event(await request.body(), stripe_signature, secret)
        except (ValueError, stripe.SignatureVerificationError):
            raise HTTPException(status_code=400, detail="invalid signature") from None

    return verified
