"""A Stripe receiver's Flask view, as the Stripe SDK's docs write it: the signature checked with
``stripe.Webhook.construct_event``, each checkout handed on, 200 at once (400 for a delivery
whose signature fails). The work is the automation's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import stripe
from flask import Flask, request


def stripe_receiver(name: str, secret: str, on_checkout: Callable[[dict[str, Any]], None]) -> Flask:
    """A Flask app serving ``POST /webhooks/stripe``: each ``checkout.session.completed``
    event, as a dict, to ``on_checkout``."""
    app = Flask(name)

    @app.post("/webhooks/stripe")
    def webhook() -> tuple[str, int]:
        try:
            event = stripe.Webhook.construct_event(
                request.get_data(), request.headers.get("Stripe-Signature", ""), secret
            )
        except (ValueError, stripe.SignatureVerificationError):
            return "", 400
        if event["type"] == "checkout.session.completed":
            on_checkout(event.to_dict())
        return "", 200

    return app
