"""Stripe checkouts -> the CRM's orders, deduplicated by a primary key that raises.

A Flask receiver (the Stripe SDK's ``construct_event``, tests/gallery/_flask.py) that keeps
the events it handled in SQLite, the way a tutorial's "idempotent webhook" does: in one
transaction, ``INSERT INTO processed_events (id)`` then the order posted to the CRM, committed
when the post succeeded — so a failed post rolls the mark back and the sender's retry does the
work. A copy of an event already handled breaks the primary key: ``sqlite3.IntegrityError``,
never caught, and Flask answers **500**. Nothing is posted twice (a concurrent copy waits on
the first's write lock, then fails the key), but every duplicate is answered as a failure,
which the sender retries — Stripe for three days — and counts against the endpoint.

Must get: under duplicate-storm ``no_duplicate_effects`` holds and ``no_server_errors``
fails, saying every 500 answered a copy of an event already taken; with ``DUPLICATE_OK=1``
(the IntegrityError caught, 200) every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.unique_insert --port 8000
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
import threading
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from . import _serve
from ._flask import serve, stripe_receiver

DUPLICATE_OK = os.environ.get("DUPLICATE_OK") == "1"


def build_app(crm_url: str, secret: str, store: Path) -> Flask:
    with sqlite3.connect(store) as db:
        db.execute("CREATE TABLE IF NOT EXISTS processed_events (id TEXT PRIMARY KEY)")

    def on_checkout(event: dict[str, Any]) -> None:
        session = event["data"]["object"]
        order = {"checkout": session["id"], "amount": session.get("amount_total")}
        db = sqlite3.connect(store, timeout=30)
        try:
            with db:  # one transaction: the mark and the post, or neither
                db.execute("INSERT INTO processed_events (id) VALUES (?)", (event["id"],))
                requests.post(f"{crm_url}/orders", json=order, timeout=10).raise_for_status()
        except sqlite3.IntegrityError:
            if not DUPLICATE_OK:
                raise  # Flask answers 500
        finally:
            db.close()

    return stripe_receiver("unique_insert", secret, on_checkout)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line, nor traceback, per 500
    opts = _serve.options("unique_insert", "CRM_URL")
    state = os.environ.get("UNIQUE_STATE") or tempfile.mkdtemp(prefix="unique_insert-")
    store = Path(state) / "events.db"
    app = build_app(opts.downstream, os.environ["STRIPE_WEBHOOK_SECRET"], store)
    serve(app, opts.port)
    threading.Event().wait()  # until SIGTERM


if __name__ == "__main__":
    main()
