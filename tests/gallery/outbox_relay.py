"""Stripe checkouts -> the CRM's orders, through a transactional outbox.

The pattern the microservice books teach: the webhook handler only writes the event into an
``outbox`` table of a local SQLite database (its primary key the event id, so a redelivery is
not stored twice) and answers 200 once the row is committed; a relay thread polls the outbox
every 200 ms and sends each unsent row to the CRM (``POST /orders``). Stripe hears 200 fast,
and nothing acknowledged lives only in memory. How the relay marks a row sent is the
difference (``OUTBOX_RELAY``):

- ``mark-first`` (the default): marked sent, then sent — the author wanted no row sent twice.
  A call the CRM refuses (an outage) leaves its row marked: that order is never sent;
- ``no-key``: sent, then marked after a 2xx, retried with backoff when the call fails — but
  with no ``Idempotency-Key``: a call the CRM committed before its answer was lost (a 502
  from a proxy, a timeout) is sent again, and the CRM books the order twice;
- ``keyed``: as ``no-key``, each call carrying ``Idempotency-Key: <event id>``: the CRM
  answers the retry with the first one's result;
- ``fresh-key``: as ``keyed``, but the key made where the call is (``uuid4()`` per attempt, as
  many an HTTP helper does it): every resend carries a new key, and the CRM books it again.

Scaled out, the relay runs ``OUTBOX_RELAYS`` at once (default 1), each claiming a row for a
lease of ``LEASE`` seconds before it sends it (``update … set locked_until = now + 1 where
locked_until <= now``, the usual visibility timeout): a call slower than the lease lets
another relay claim the row and send it too.

Must get: under a CRM outage, ``mark-first`` fails ``no_lost_events`` naming the orders refused
(Stripe heard 200 for each), the others pass it; under ambiguous commits, ``no-key`` fails
``no_duplicate_effects`` naming each order's two ``POST /orders``, and so does ``fresh-key``
(a key on every call, none twice); ``keyed`` passes it. Two relays and a CRM slower than the
lease: each slow order sent by both, a duplicate without a key; keyed, one order.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.outbox_relay --port 8000
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("outbox_relay")

RELAY = os.environ.get("OUTBOX_RELAY", "mark-first")
POLL = 0.2  # s between the relay's looks at the outbox
BACKOFF = (0.2, 0.4, 0.8)  # s before a failed row is tried again: its 1st, 2nd, 3rd+ failure
RELAYS = int(os.environ.get("OUTBOX_RELAYS", "1"))
LEASE = 1.0  # s a relay holds the row it claimed

SCHEMA = """
create table if not exists outbox (
    event_id text primary key,
    body text not null,
    sent integer not null default 0,
    failures integer not null default 0,
    next_try real not null default 0,
    locked_until real not null default 0
)
"""
DB: web.AppKey[sqlite3.Connection] = web.AppKey("db", sqlite3.Connection)


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
    db.execute("pragma journal_mode=wal")
    return db


class Relay(threading.Thread):
    """Sends the outbox's unsent rows to the CRM, oldest first, until stopped."""

    def __init__(self, path: Path, crm_url: str, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.db = _connect(path)
        self.crm = httpx.Client(base_url=crm_url, timeout=10)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(POLL):
            due = self.db.execute(
                "select event_id, body, failures from outbox"
                " where sent = 0 and next_try <= ? order by rowid",
                (time.monotonic(),),
            ).fetchall()
            for event_id, body, failures in due:
                if self.claim(event_id):
                    self.relay(event_id, json.loads(body), failures)

    def claim(self, event_id: str) -> bool:
        """The row for LEASE seconds, unless another relay holds it (or sent it)."""
        now = time.monotonic()
        claimed = self.db.execute(
            "update outbox set locked_until = ?"
            " where event_id = ? and sent = 0 and locked_until <= ?",
            (now + LEASE, event_id, now),
        )
        return claimed.rowcount == 1

    def relay(self, event_id: str, event: dict[str, Any], failures: int) -> None:
        if RELAY == "mark-first":
            self.mark_sent(event_id)
        headers = {}
        if RELAY == "keyed":
            headers["Idempotency-Key"] = event_id
        elif RELAY == "fresh-key":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        try:
            self.crm.post(
                "/orders", json=_stripe.order_of(event), headers=headers
            ).raise_for_status()
        except httpx.HTTPError as error:
            log.warning("order of %s not sent: %s", event_id, error)
            if RELAY != "mark-first":
                delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
                self.db.execute(
                    "update outbox set failures = failures + 1, next_try = ? where event_id = ?",
                    (time.monotonic() + delay, event_id),
                )
            return
        if RELAY != "mark-first":
            self.mark_sent(event_id)

    def mark_sent(self, event_id: str) -> None:
        self.db.execute("update outbox set sent = 1 where event_id = ?", (event_id,))

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.crm.close()
        self.db.close()


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()

    async def outbox(app: web.Application) -> AsyncIterator[None]:
        with tempfile.TemporaryDirectory(prefix="outbox-") as folder:
            path = Path(folder) / "outbox.db"
            app[DB] = _connect(path)
            app[DB].execute(SCHEMA)
            relays = [Relay(path, crm_url, f"outbox-relay-{n}") for n in range(RELAYS)]
            for relay in relays:
                relay.start()
            yield
            for relay in relays:
                relay.stop()
            app[DB].close()

    app.cleanup_ctx.append(outbox)

    def accept(app: web.Application, event: dict[str, Any]) -> None:
        app[DB].execute(
            "insert or ignore into outbox (event_id, body) values (?, ?)",
            (event["id"], json.dumps(event)),
        )

    app.router.add_post("/webhooks/stripe", _stripe.checkout_hook(secret, accept))
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.outbox_relay", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
