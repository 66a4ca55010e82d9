"""Stripe checkouts -> the CRM's orders, through an inbox in a local SQLite file.

Its author wanted Stripe to hear 200 at once whatever the CRM does: the handler answers
straight away and hands the checkout to a thread (``run_in_executor``, never awaited) that
inserts it into an ``inbox`` table; a relay thread looks at the inbox every 200 ms and posts
each new row to the CRM (``POST /orders``), marking it sent, 20 ms apart (the CRM allows 50
calls a second). Each insert opens its connection
with a short busy timeout (``INBOX_TIMEOUT``, default 0.05 s: "a webhook must never wait on
the disk") and, as such handlers do, catches ``sqlite3.OperationalError`` with a logged
warning and moves on.

The relay marks its rows in one transaction, committed after the batch: Python's ``sqlite3``
opens it at the first ``update``, so the database's write lock is held while the relay posts
the batch's next rows. One checkout at a time, a batch is a row or two and an insert waits a
few milliseconds; in a burst a batch is dozens of rows, the lock is held longer than the busy
timeout, and an insert gives up with "database is locked" — the checkout logged and gone,
Stripe having heard 200.

Must get: under a burst, ``no_lost_events`` fails naming the checkouts whose insert gave up
(answered 200, never posted), and only those; one at a time (the clean run) nothing is lost.
With the default busy timeout of Python's ``sqlite3`` (``INBOX_TIMEOUT=5``) an insert waits
out the relay's batch: nothing lost, and every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.locked_store --port 8000
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("locked_store")

TIMEOUT = float(os.environ.get("INBOX_TIMEOUT", "0.05"))  # s an insert waits for the lock
POLL = 0.2  # s between the relay's looks at the inbox
PACE = 0.02  # s after each call: the CRM allows 50 calls a second

SCHEMA = """
create table if not exists inbox (
    event_id text primary key,
    body text not null,
    sent integer not null default 0
)
"""
INBOX: web.AppKey[Path] = web.AppKey("inbox", Path)


def store(path: Path, event: dict[str, Any]) -> None:
    """The checkout into the inbox (a redelivery is stored once), or a warning."""
    try:
        with sqlite3.connect(path, timeout=TIMEOUT) as db:
            db.execute(
                "insert or ignore into inbox (event_id, body) values (?, ?)",
                (event["id"], json.dumps(event)),
            )
    except sqlite3.OperationalError as error:
        log.warning("checkout %s not stored: %s", event["id"], error)


def relay(path: Path, crm_url: str, stopping: threading.Event) -> None:
    """Posts the inbox's unsent rows to the CRM, oldest first, until ``stopping`` is set."""
    db = sqlite3.connect(path)
    with httpx.Client(base_url=crm_url, timeout=10) as crm:
        while not stopping.wait(POLL):
            rows = db.execute("select event_id, body from inbox where sent = 0 order by rowid")
            for event_id, body in rows.fetchall():
                order = _stripe.order_of(json.loads(body))
                try:
                    crm.post("/orders", json=order).raise_for_status()
                except httpx.HTTPError as error:
                    log.warning("order of %s not sent: %s", event_id, error)
                    continue  # tried again at the next look
                db.execute("update inbox set sent = 1 where event_id = ?", (event_id,))
                time.sleep(PACE)
            db.commit()
    db.close()


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()

    async def inbox(app: web.Application) -> AsyncIterator[None]:
        with tempfile.TemporaryDirectory(prefix="inbox-") as folder:
            app[INBOX] = Path(folder) / "inbox.db"
            with sqlite3.connect(app[INBOX]) as db:
                db.execute(SCHEMA)
            stopping = threading.Event()
            relaying = threading.Thread(
                target=relay, args=(app[INBOX], crm_url, stopping), name="inbox-relay"
            )
            relaying.start()
            yield
            stopping.set()
            relaying.join()

    app.cleanup_ctx.append(inbox)

    def accept(app: web.Application, event: dict[str, Any]) -> None:
        # Not awaited: Stripe hears 200 before the row is written.
        asyncio.get_running_loop().run_in_executor(None, store, app[INBOX], event)

    app.router.add_post("/webhooks/stripe", _stripe.checkout_hook(secret, accept))
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.locked_store", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
