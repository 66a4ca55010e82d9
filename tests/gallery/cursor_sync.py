"""Stripe checkouts -> the CRM's orders, by an incremental sync of an inbox table whose cursor
is a time to the second.

The handler only stores each checkout in an ``inbox`` table of a local SQLite database (the
event id unique in it, so a redelivery is not stored twice) and answers 200. A sync job copies
new rows to the CRM (``POST /orders``) every half second, the way incremental syncs
and ELT connectors are configured: a cursor column, ``received_at`` (``default
CURRENT_TIMESTAMP``, as SQLite's docs give it), the rows ``where received_at > :cursor order by
received_at``, and the cursor saved as the last row's ``received_at`` once they are sent (each
call keyed by the event's id: a row sent again after a failed sync is not a second order).
``CURRENT_TIMESTAMP`` is to the second: a checkout stored after a sync in the same second as
the rows that sync sent has ``received_at`` equal to the cursor, not above it, and is never
sent. One checkout a second never meets it; a burst does, every second.

With ``CURSOR=id`` the cursor is the table's ``integer primary key autoincrement`` (``where id >
:cursor order by id``), which no two rows share and a later row never goes below.

Must get, under a burst: the seconds' cursor fails ``no_lost_events`` on the checkouts stored
after a sync of their second (answered 200: silent, dropped not slow); by id, no failure.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.cursor_sync --port 8000
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("cursor_sync")

EVERY = 0.5  # s between two syncs
SCHEMA = """
create table if not exists inbox (
    id integer primary key autoincrement,
    event_id text not null unique,
    body text not null,
    received_at text not null default current_timestamp
);
create table if not exists sync_state (name text primary key, cursor text not null);
"""


class Inbox(threading.Thread):
    """The inbox table, in a folder of its own, and the job that syncs it to the CRM every
    EVERY seconds until stopped."""

    def __init__(self, crm_url: str, column: str) -> None:
        super().__init__(name="inbox-sync", daemon=True)
        self.folder = tempfile.TemporaryDirectory(prefix="inbox-")
        path = Path(self.folder.name) / "inbox.db"
        self.handler_db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.handler_db.executescript(SCHEMA)
        self.db = sqlite3.connect(path, timeout=5, isolation_level=None, check_same_thread=False)
        self.crm = httpx.Client(base_url=crm_url, timeout=10)
        self.column = column  # "received_at" or "id"
        self.stopping = threading.Event()

    def store(self, event: dict[str, Any]) -> None:
        """Called by the webhook handler: the event kept, once, to be synced."""
        self.handler_db.execute(
            "insert or ignore into inbox (event_id, body) values (?, ?)",
            (event["id"], json.dumps(event)),
        )

    def run(self) -> None:
        while not self.stopping.wait(EVERY):
            try:
                self.sync()
            except httpx.HTTPError as error:  # the cursor stays: the next sync tries again
                log.warning("sync stopped: %s", error)

    def sync(self) -> None:
        saved = self.db.execute("select cursor from sync_state where name = 'orders'").fetchone()
        cursor = saved[0] if saved else ("0" if self.column == "id" else "")
        rows = self.db.execute(
            f"select {self.column}, body from inbox where {self.column} > ? order by {self.column}",
            (int(cursor) if self.column == "id" else cursor,),
        ).fetchall()
        for mark, body in rows:
            event = json.loads(body)
            key = {"Idempotency-Key": event["id"]}  # a row sent again is one order
            self.crm.post("/orders", json=_stripe.order_of(event), headers=key).raise_for_status()
            self.db.execute(
                "insert or replace into sync_state (name, cursor) values ('orders', ?)",
                (str(mark),),
            )

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.crm.close()
        self.db.close()
        self.handler_db.close()
        self.folder.cleanup()


INBOX: web.AppKey[Inbox] = web.AppKey("inbox", Inbox)


def build_app(crm_url: str, secret: str) -> web.Application:
    column = "id" if os.environ.get("CURSOR") == "id" else "received_at"

    async def syncing(app: web.Application) -> AsyncIterator[None]:
        app[INBOX] = Inbox(crm_url, column)
        app[INBOX].start()
        yield
        app[INBOX].stop()

    app = web.Application()
    app.cleanup_ctx.append(syncing)
    hook = _stripe.checkout_hook(secret, lambda app, event: app[INBOX].store(event))
    app.router.add_post("/webhooks/stripe", hook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.cursor_sync", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
