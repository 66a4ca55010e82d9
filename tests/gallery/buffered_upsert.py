"""Contact updates -> the CRM in bulk: buffered, flushed as one batch upsert call.

The shape of a CRM sync built around a rate-limited API (HubSpot's ``batch/upsert``, Attio's
bulk endpoints): each ``contact.updated`` event is answered 200 at once and put in a buffer
that keeps the newest state heard of per contact (an event whose ``sequence`` is not newer than
one already heard of or written is skipped, so a redelivery writes nothing); the buffer goes out
as one ``POST /contacts/batch/upsert`` with ``{"inputs": [...]}`` (one item per contact, matched
on its id) when it holds 10 contacts or 200 ms after its first one, whichever comes first.
Which events share a call depends on their timing: a clean run and a burst group them apart.

Two variants:

* by default, a batch the CRM refuses goes back into the buffer (unless a newer state of its
  contact came meanwhile) and is tried again after a pause that doubles up to 2 s: correct;
* ``--drop-failed``: its author treated the bulk call as best effort, as many do — a refused
  batch is logged and dropped, ten contacts left on an older state (or never written) while
  the sender was told each event was fine.

Must get: ``final_state_matches_baseline`` judges the batches by their items — the correct
variant holds under a burst with redeliveries and under an outage (the grouping of items into
calls is never a difference); ``--drop-failed`` fails under the outage, naming the contacts
the dropped batches left behind. ``per_key_order`` judges the items too, each where it stands
in its call: it passes, the buffer keeping each contact's newest update (a stateful double's
201 to a call makes no item a creation).

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.buffered_upsert --port 8000
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

BATCH = 10  # contacts a call carries at most: a full buffer is flushed at once
WAIT = 0.2  # seconds after a buffer's first contact before it is flushed anyway
PAUSE, MAX_PAUSE = 0.2, 2.0  # seconds before a refused batch is tried again, doubling

log = logging.getLogger("buffered_upsert")


@dataclass
class Buffer:
    """The contacts waiting for the next call, by contact id, and what was heard of each."""

    drop_failed: bool
    waiting: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    newest: dict[str, int] = field(default_factory=dict)  # contact -> newest sequence heard of
    full: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, contact: str, seq: int, item: dict[str, Any]) -> None:
        if seq <= self.newest.get(contact, -1):
            return  # a redelivery, or an older state than one already heard of
        self.newest[contact] = seq
        self.waiting[contact] = (seq, item)
        if len(self.waiting) >= BATCH:
            self.full.set()

    def take(self) -> dict[str, tuple[int, dict[str, Any]]]:
        batch = dict(list(self.waiting.items())[:BATCH])
        for contact in batch:
            del self.waiting[contact]
        if len(self.waiting) < BATCH:
            self.full.clear()
        return batch

    def put_back(self, batch: dict[str, tuple[int, dict[str, Any]]]) -> None:
        for contact, (seq, item) in batch.items():
            held = self.waiting.get(contact)
            if held is None or held[0] < seq:
                self.waiting[contact] = (seq, item)


BUFFER: web.AppKey[Buffer] = web.AppKey("buffer", Buffer)


async def flusher(buffer: Buffer, crm_url: str) -> None:
    pause = PAUSE
    async with aiohttp.ClientSession(crm_url) as crm:
        while True:
            if not buffer.waiting:
                await asyncio.sleep(0.01)
                continue
            try:  # 200 ms after the first contact came, or as soon as ten are waiting
                await asyncio.wait_for(buffer.full.wait(), WAIT)
            except TimeoutError:
                pass
            batch = buffer.take()
            inputs = [item for _, item in batch.values()]
            try:
                async with crm.post("/contacts/batch/upsert", json={"inputs": inputs}) as r:
                    r.raise_for_status()
                pause = PAUSE
            except (aiohttp.ClientError, TimeoutError) as exc:
                log.warning("batch upsert of %d contacts failed: %s", len(batch), exc)
                if buffer.drop_failed:
                    continue
                buffer.put_back(batch)
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE)


def build_app(crm_url: str, drop_failed: bool = False) -> web.Application:
    app = web.Application()

    async def background(app: web.Application) -> AsyncIterator[None]:
        app[BUFFER] = Buffer(drop_failed)
        task = asyncio.create_task(flusher(app[BUFFER], crm_url))
        yield
        task.cancel()

    app.cleanup_ctx.append(background)

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        data = event["data"]
        item = {
            "idProperty": "external_id",
            "id": data["contact_id"],
            "properties": {
                "email": data["email"],
                "name": data["name"],
                "company": data["company"],
                "external_id": data["contact_id"],
            },
        }
        request.app[BUFFER].add(data["contact_id"], int(event["sequence"]), item)
        return web.json_response({"received": True})

    app.router.add_post("/webhook/contacts", webhook)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.gallery.buffered_upsert")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--downstream", default=os.environ.get("CRM_URL"))
    parser.add_argument(
        "--drop-failed", action="store_true", help="drop a batch the CRM refused (best effort)"
    )
    opts = parser.parse_args()
    if not opts.downstream:
        parser.error("give --downstream or set CRM_URL")
    _serve.run(build_app(opts.downstream.rstrip("/"), opts.drop_failed), opts.port)


if __name__ == "__main__":
    main()
