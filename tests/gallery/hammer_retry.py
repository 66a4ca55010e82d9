"""Stripe checkouts -> the CRM's orders, "retried until it works": no wait, Retry-After ignored.

A Flask receiver (the Stripe SDK's ``construct_event``, tests/gallery/_flask.py) that posts each
checkout's order to its CRM with httpx, inside the webhook request, in a loop: up to 200 tries,
no sleep between them, whatever the answer says — a common shape of "make sure it gets there".
Each order carries the event id as its ``Idempotency-Key``, so nothing is posted twice and
nothing is lost: a run that judges only loss and duplicates calls it Ready. In production the
CRM answers its 429s with ``Retry-After`` and gets hundreds of calls a second instead: the API
key is throttled harder or banned, the integrations sharing its quota starve, and an outage
it retries into lasts longer.

With ``HONOUR=1`` it is written the way the CRM asks: 200 at once, the order posted from a
worker thread that waits the ``Retry-After`` a 429 or 503 gives, else backs off exponentially
(50 ms doubling, with jitter, capped at 2 s), for up to 12 tries.

Must get: under downstream-throttled ``backs_off`` fails, naming the orders made again before
their 429's Retry-After had elapsed; under downstream-outage it fails, naming an order made more
than 20 times in a second while the CRM answered 503; with ``HONOUR=1`` every verdict holds
but, on a starved machine, per_key_order: two orders of one record delivered at once are
queued in the order its request threads ran, which keeps no per-record order.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.hammer_retry --port 8000
"""

from __future__ import annotations

import logging
import os
import queue
import random
import threading
import time
from typing import Any

import httpx
from flask import Flask

from . import _serve
from ._flask import serve, stripe_receiver

log = logging.getLogger("hammer_retry")

HONOUR = os.environ.get("HONOUR") == "1"
HAMMER_TRIES = 200
TRIES = 12
BACKOFF_START, BACKOFF_CAP = 0.05, 2.0


def _order(event: dict[str, Any]) -> dict[str, Any]:
    session = event["data"]["object"]
    return {"session": session["id"], "amount": session.get("amount_total")}


def _post(client: httpx.Client, crm_url: str, event: dict[str, Any]) -> httpx.Response:
    key = {"Idempotency-Key": event["id"]}
    return client.post(f"{crm_url}/orders", json=_order(event), headers=key)


def hammer(client: httpx.Client, crm_url: str, event: dict[str, Any]) -> None:
    """The flaw: retried at once, as often as it takes (up to HAMMER_TRIES)."""
    for _ in range(HAMMER_TRIES):
        if _post(client, crm_url, event).status_code < 300:
            return
    log.error("order of %s not posted after %d tries", event["id"], HAMMER_TRIES)


def _wait(answer: httpx.Response | None, backoff: float) -> float:
    """The answer's Retry-After where it gives one in seconds, else ``backoff`` jittered."""
    told = answer.headers.get("Retry-After") if answer is not None else None
    if told is not None and told.isdigit():
        return float(told)
    return random.uniform(backoff / 2, backoff)


def patient(client: httpx.Client, crm_url: str, event: dict[str, Any]) -> None:
    backoff = BACKOFF_START
    for _ in range(TRIES):
        answer: httpx.Response | None = None
        try:
            answer = _post(client, crm_url, event)
            if answer.status_code < 300:
                return
            if answer.status_code < 500 and answer.status_code != 429:
                break  # refused for good: no retry mends it
        except httpx.HTTPError as error:
            log.warning("order of %s: %s", event["id"], error)
        time.sleep(_wait(answer, backoff))
        backoff = min(BACKOFF_CAP, backoff * 2)
    log.error("order of %s not posted", event["id"])


def build_app(crm_url: str, secret: str) -> Flask:
    client = httpx.Client(timeout=5)
    if not HONOUR:
        return stripe_receiver("hammer_retry", secret, lambda e: hammer(client, crm_url, e))
    orders: queue.Queue[dict[str, Any]] = queue.Queue()

    def work() -> None:
        while True:
            patient(client, crm_url, orders.get())

    threading.Thread(target=work, name="orders", daemon=True).start()
    return stripe_receiver("hammer_retry", secret, orders.put)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    opts = _serve.options("hammer_retry", "CRM_URL")
    app = build_app(opts.downstream, os.environ["STRIPE_WEBHOOK_SECRET"])
    serve(app, opts.port)
    threading.Event().wait()  # until SIGTERM


if __name__ == "__main__":
    main()
