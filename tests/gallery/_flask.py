"""A Stripe receiver's Flask view, as the Stripe SDK's docs write it: the signature checked with
``stripe.Webhook.construct_event``, each checkout handed on, 200 at once (400 for a delivery
whose signature fails). The work is the automation's own; ``serve`` runs the app the way a small
deployment does, werkzeug's threaded server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import stripe
from flask import Flask, request
from werkzeug.serving import make_server


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


def serve(app: Flask, port: int) -> None:
    """``app`` on 127.0.0.1:``port`` (0: any), in a daemon thread of werkzeug's threaded server;
    prints the LISTENING line the tests wait for."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    print(f"LISTENING http://127.0.0.1:{server.server_port}", flush=True)
