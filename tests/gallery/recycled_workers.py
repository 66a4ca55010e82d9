"""Stripe checkouts -> the CRM's orders, under gunicorn, whose workers are recycled.

A Flask receiver deployed the way gunicorn's docs suggest for an app that might leak memory:
two ``gthread`` workers, each restarted after ``--max-requests 40`` (``--max-requests-jitter
10``). The view checks the signature with the Stripe SDK and answers 200 at once; the order is
posted from a ``threading.Thread(daemon=True)`` started for each checkout (fire and forget, so
Stripe never waits), after half a second of looking the customer up.

A worker that reaches its request limit finishes the requests it is serving and exits: its
daemon threads die with it, mid-lookup. Every checkout whose thread was still running then is
lost — a few at each restart, none in between — though each was answered 200. In a short
test nothing restarts and all is well.

Must get: under bulk-import-burst ``no_lost_events`` fails, naming lost checkouts; with
``RECYCLE=0`` (no request limit) every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.recycled_workers --port 8000
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import requests
from flask import Flask

from . import _gunicorn, _serve
from ._flask import stripe_receiver

log = logging.getLogger("recycled_workers")

RECYCLE = os.environ.get("RECYCLE") != "0"
LOOKUP = 0.5  # seconds to look the customer up before the order is posted


def post_order(crm_url: str, event: dict[str, Any]) -> None:
    session = event["data"]["object"]
    time.sleep(LOOKUP)  # the customer, looked up in Stripe (not on loopback: waited)
    order = {
        "checkout": session["id"],
        "email": (session.get("customer_details") or {}).get("email"),
        "amount": session.get("amount_total"),
        "currency": session.get("currency"),
    }
    try:
        requests.post(f"{crm_url}/orders", json=order, timeout=10).raise_for_status()
    except requests.RequestException as error:
        log.warning("order of %s not posted: %s", event["id"], error)


def build_app(crm_url: str, secret: str) -> Flask:
    def fire_and_forget(event: dict[str, Any]) -> None:
        work = threading.Thread(target=post_order, args=(crm_url, event))
        work.daemon = True  # so that a stuck order never holds the worker's exit
        work.start()

    return stripe_receiver("recycled_workers", secret, fire_and_forget)


def main() -> None:
    opts = _serve.options("recycled_workers", "CRM_URL")
    options: dict[str, Any] = {
        "workers": 2,
        "worker_class": "gthread",
        "threads": 4,
        "graceful_timeout": 5,
    }
    if RECYCLE:
        options.update(max_requests=40, max_requests_jitter=10)
    app = build_app(opts.downstream, os.environ["STRIPE_WEBHOOK_SECRET"])
    _gunicorn.serve(app, opts.port, options)


if __name__ == "__main__":
    main()
