"""Stripe checkouts -> the payments API's payouts, paid inline with no client timeout, under
gunicorn's sync workers.

A Flask receiver (the Stripe SDK's ``construct_event``, tests/gallery/_flask.py) served the way
gunicorn's docs start one: ``gunicorn -w 2 app:app``, two sync workers, each serving one request
at a time. For each checkout the view posts the payout with ``requests.post(url, json=...)`` and
answers 200 once it went through — no ``timeout=``: requests' default is to wait for ever.

When the API takes the connection and answers nothing (a load balancer holding requests, a
deadlocked upstream), each worker sits in its call until the API lets go: two checkouts take
both workers, every later delivery waits in the listen queue behind them, and Stripe gives each
up unanswered. The hang outlives the API's own: once it answers again the workers first work
off the queue of deliveries their sender has already given up on.

With ``TIMEOUT=2`` it is written the way the hang asks: 200 at once, the payout posted from a
thread with a 2 s timeout and tried again (0.5 s doubling, up to 8 tries) on a timeout or a
5xx, each try with the event id as ``Idempotency-Key``.

Must get: under downstream-hangs ``ack_within`` fails, saying the deliveries waited on the API's
held calls — their own, or those holding every worker —, and ``target_available`` holds (stuck,
not gone); with ``TIMEOUT=2`` every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    API_URL=http://127.0.0.1:9100 python -m tests.gallery.no_timeout --port 8000
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

log = logging.getLogger("no_timeout")

TIMEOUT = float(os.environ["TIMEOUT"]) if os.environ.get("TIMEOUT") else None
TRIES = 8
BACKOFF_START = 0.5


def _payout(event: dict[str, Any]) -> dict[str, Any]:
    session = event["data"]["object"]
    return {"checkout": session["id"], "amount": session.get("amount_total")}


def pay_inline(api_url: str, event: dict[str, Any]) -> None:
    """The flaw: the sender's answer waits on the API, for as long as the API takes."""
    requests.post(f"{api_url}/payouts", json=_payout(event)).raise_for_status()


def pay_with_retries(api_url: str, event: dict[str, Any], timeout: float) -> None:
    backoff = BACKOFF_START
    for _ in range(TRIES):
        try:
            answer = requests.post(
                f"{api_url}/payouts",
                json=_payout(event),
                headers={"Idempotency-Key": event["id"]},
                timeout=timeout,
            )
            if answer.status_code < 500:
                answer.raise_for_status()
                return
        except (requests.ConnectionError, requests.Timeout) as error:
            log.warning("payout of %s: %s", event["id"], error)
        time.sleep(backoff)
        backoff *= 2
    log.error("payout of %s not made after %d tries", event["id"], TRIES)


def build_app(api_url: str, secret: str) -> Flask:
    def pay(event: dict[str, Any]) -> None:
        if TIMEOUT is None:
            pay_inline(api_url, event)
            return
        work = threading.Thread(target=pay_with_retries, args=(api_url, event, TIMEOUT))
        work.start()

    return stripe_receiver("no_timeout", secret, pay)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    opts = _serve.options("no_timeout", "API_URL")
    app = build_app(opts.downstream, os.environ["STRIPE_WEBHOOK_SECRET"])
    _gunicorn.serve(app, opts.port, {"workers": 2})


if __name__ == "__main__":
    main()
