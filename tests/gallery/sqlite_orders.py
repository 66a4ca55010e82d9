"""Stripe checkouts -> the CRM's orders, remembered in a SQLite file: Flask, one connection per
request, as Flask's tutorial opens it.

A Flask receiver (the Stripe SDK's ``construct_event``, tests/gallery/_flask.py) that keeps its
orders in SQLite the way Flask's tutorial ("flaskr") does: ``sqlite3.connect(DATABASE)`` per
request, Python's defaults — a rollback journal (no WAL), a 5 s busy timeout, a transaction
opened by the first write and held until ``commit()``. For each checkout it looks its event id
up in ``orders`` (a redelivery is answered 200 and not ordered again), creates the order in the
CRM (``POST /orders``), then records it: ``INSERT`` the row with the CRM's id, fetch the
session's line items from Stripe (``LOOKUP`` seconds: Stripe's API is not on loopback) and
``INSERT`` each, ``commit()``. Any error is left to Flask: 500, and Stripe redelivers.

The write lock is taken at the first ``INSERT`` and held across the Stripe call. One checkout at
a time, nobody waits; in a burst every other request waits on it at its own ``INSERT`` — after
its CRM order was made — and one that waited 5 s gets ``sqlite3.OperationalError: database is
locked``: 500, its order in the CRM but not in ``orders``. Stripe's redelivery finds no row and
orders it again. Two copies of a checkout at once both pass the lookup too (the second then
fails the primary key: 500 as well).

Must get: under bulk-import-burst ``no_server_errors`` fails, each 500 answered after its own
``POST /orders`` had been answered 201 (the order made, the answer a failure: a redelivery
orders it again); nothing lost; ``no_duplicate_effects`` fails where a copy of such a checkout
came in the run (import-run-twice: its second import). Under duplicate-storm
``no_duplicate_effects`` fails on the copies that both passed the lookup. One at a time every
verdict holds. With ``JOURNAL=wal`` (WAL and a 30 s busy timeout, the usual advice) the burst
waits instead of failing: no 500 and nothing ordered twice, the waits seen as slow
acknowledgements (``ack_within``).

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.sqlite_orders --port 8000
"""

from __future__ import annotations

import logging
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests
from flask import Flask

from . import _serve
from ._flask import serve, stripe_receiver

LOOKUP = float(os.environ.get("LOOKUP", "0.05"))
WAL = os.environ.get("JOURNAL") == "wal"

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (event_id TEXT PRIMARY KEY, crm_id TEXT, email TEXT);
CREATE TABLE IF NOT EXISTS order_lines (event_id TEXT, line INTEGER, amount INTEGER);
"""


def connect(store: Path) -> sqlite3.Connection:
    if not WAL:
        return sqlite3.connect(store)  # the tutorial's get_db()
    db = sqlite3.connect(store, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    return db


def line_items(session: dict[str, Any]) -> list[int]:
    """The session's line items' amounts, as ``stripe.checkout.Session.list_line_items`` gives
    them (its latency stood for by a sleep: Stripe is not on loopback)."""
    time.sleep(LOOKUP)
    return [session.get("amount_total") or 0]


def build_app(crm_url: str, secret: str, store: Path) -> Flask:
    with sqlite3.connect(store) as db:
        db.executescript(SCHEMA)
    crm = requests.Session()

    def on_checkout(event: dict[str, Any]) -> None:
        session = event["data"]["object"]
        db = connect(store)
        try:
            seen = "SELECT 1 FROM orders WHERE event_id = ?"
            if db.execute(seen, (event["id"],)).fetchone():
                return
            email = (session.get("customer_details") or {}).get("email")
            answer = crm.post(
                f"{crm_url}/orders",
                json={
                    "checkout": session["id"],
                    "email": email,
                    "amount": session.get("amount_total"),
                },
                timeout=10,
            )
            answer.raise_for_status()
            crm_id = answer.json().get("id")
            db.execute("INSERT INTO orders VALUES (?, ?, ?)", (event["id"], crm_id, email))
            for n, amount in enumerate(line_items(session)):
                db.execute("INSERT INTO order_lines VALUES (?, ?, ?)", (event["id"], n, amount))
            db.commit()
        finally:
            db.close()

    return stripe_receiver("sqlite_orders", secret, on_checkout)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    opts = _serve.options("sqlite_orders", "CRM_URL")
    state = os.environ.get("ORDERS_STATE") or tempfile.mkdtemp(prefix="sqlite_orders-")
    app = build_app(opts.downstream, os.environ["STRIPE_WEBHOOK_SECRET"], Path(state) / "orders.db")
    serve(app, opts.port)
    threading.Event().wait()  # until SIGTERM


if __name__ == "__main__":
    main()
