"""Stripe checkouts -> the CRM's orders, through a real task queue: Flask, the Stripe SDK, huey.

Written the way the libraries' own docs show it. The Flask view checks the signature with
``stripe.Webhook.construct_event`` and hands the event to a huey task (``SqliteHuey``: no
Redis to run), then answers 200: Stripe hears back at once. The huey consumer — two worker
threads, the consumer's default polling (0.1 s, backing off to 10 s while the queue is empty)
— posts each checkout's order to the CRM with ``requests``, and huey retries a task that
raised (``retries=3, retry_delay=1``).

Before it posts, the task fetches the session's line items from Stripe (waited for here:
Stripe's API is not on loopback). Redeliveries are guarded as a tutorial would: the task looks
the event id up in a ``processed`` table and skips it if found, and marks it there after the
order is posted. The lookup and the mark are two steps, and two workers take the queue's next
tasks at once: two copies of one event queued close together (Stripe's retry right after a
timeout, a duplicate) can both pass the lookup before either marks it, and both post an order.

The work also comes late: the consumer polls, so an order is posted up to a few seconds after
its event was answered (longer after a quiet spell) — late work, not lost work.

A CRM that applies an order and then answers 502 (a gateway timing out on a backend that
committed) gets it again: huey retries the task a second later, the event is not marked done,
and the order is posted twice — a guard by event id cannot tell a write applied from one
refused.

Must get: under duplicate-storm ``no_duplicate_effects`` fails on the checkouts posted twice,
and nothing is called lost (late work is not lost work); under ambiguous-commit it fails on
every checkout, saying the write was made again after the API had applied it. With
``ORDER_LOCK=1`` each task holds huey's lock on its event id (``huey.lock_task``) around the
lookup and the post, a copy that finds the lock taken retried later; with ``ORDER_KEY=1`` each
order carries an ``Idempotency-Key`` made from the event id: with both, every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.huey_checkouts --port 8000
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from huey import SqliteHuey
from huey.exceptions import TaskLockedException

from . import _serve
from ._flask import serve, stripe_receiver

log = logging.getLogger("huey_checkouts")

LOCK = os.environ.get("ORDER_LOCK") == "1"
KEYED = os.environ.get("ORDER_KEY") == "1"
POLL_MAX = float(os.environ.get("HUEY_MAX_DELAY", "1"))  # huey_consumer -m (its default: 10)
LINE_ITEMS = 0.05  # Stripe's API answering a session's line items: not on loopback, so waited
WORKERS = 2
STATE = Path(os.environ.get("HUEY_STATE") or tempfile.mkdtemp(prefix="huey-checkouts-"))

huey = SqliteHuey("checkouts", filename=str(STATE / "queue.db"))
settings: dict[str, str] = {}


def _processed() -> sqlite3.Connection:
    db = sqlite3.connect(STATE / "processed.db", timeout=10)
    db.execute("CREATE TABLE IF NOT EXISTS processed (event_id TEXT PRIMARY KEY)")
    return db


def _post_once(event: dict[str, Any]) -> None:
    with _processed() as db:
        seen = db.execute("SELECT 1 FROM processed WHERE event_id = ?", (event["id"],))
        if seen.fetchone():
            log.info("event %s already processed", event["id"])
            return
    session = event["data"]["object"]
    time.sleep(LINE_ITEMS)  # the session's line items, fetched from Stripe's API
    order = {
        "checkout": session["id"],
        "email": (session.get("customer_details") or {}).get("email"),
        "amount": session.get("amount_total"),
        "currency": session.get("currency"),
    }
    headers = {"Idempotency-Key": f"order-{event['id']}"} if KEYED else {}
    crm = f"{settings['crm']}/orders"
    requests.post(crm, json=order, headers=headers, timeout=5).raise_for_status()
    with _processed() as db:
        db.execute("INSERT OR IGNORE INTO processed VALUES (?)", (event["id"],))


@huey.task(retries=3, retry_delay=1)
def post_order(event: dict[str, Any]) -> None:
    if not LOCK:
        _post_once(event)
        return
    try:
        with huey.lock_task(f"event-{event['id']}"):
            _post_once(event)
    except TaskLockedException:
        raise  # huey retries the task after retry_delay: the other copy is posting it


def build_app(secret: str) -> Flask:
    return stripe_receiver("huey_checkouts", secret, post_order)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    opts = _serve.options("huey_checkouts", "CRM_URL")
    settings["crm"] = opts.downstream
    app = build_app(os.environ["STRIPE_WEBHOOK_SECRET"])
    serve(app, opts.port)
    # The consumer in the main thread, as `huey_consumer` runs it: SIGTERM stops it, and the
    # process with it (the web server's threads are daemons).
    huey.create_consumer(workers=WORKERS, worker_type="thread", max_delay=POLL_MAX).run()


if __name__ == "__main__":
    main()
