"""Standard Webhooks ``contact.updated`` -> the newsletter list, as a Mailchimp sync is written.

Answers 200 at once and works off an in-process queue; each contact is ``PUT`` as a member whose
id is the md5 of its lowered email address — Mailchimp's subscriber hash — so the member's id is
a value the automation made: the tracer's tag in the address makes it another in every run, and
nothing maps one run's to the other's. It keeps no order. Its one worker task dies on the first
call the list answers 5xx (``raise_for_status()``, nothing catches it): every contact queued
after is lost, the process still answering 200 — under ``downstream-outage`` the standard suite's
``no_lost_events`` names the stop and the 503 it died on.

``MEMBER_BY=contact`` hashes the contact's id instead of its email: one member per contact,
which a change arriving after a newer one of the same contact overwrites (a stale overwrite).

Must get, under out-of-order delivery of the library's events (a contact's changes carry its
email, as a real contact's do): either way, one member per contact, and ``per_key_order`` and
``final_state_matches_baseline`` fail on the members left on an older change, the hashed ids not
compared. (By email, each change once wrote a member of its own: the tracer marked each event's
copy of the email with the event's token.)

    NEWSLETTER_URL=http://127.0.0.1:9100 python -m tests.gallery.newsletter_sync --port 8000
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

QUEUE: web.AppKey[asyncio.Queue[dict[str, Any]]] = web.AppKey("queue", asyncio.Queue)


def build_app(api_url: str, member_by: str) -> web.Application:
    app = web.Application()

    async def worker(queue: asyncio.Queue[dict[str, Any]]) -> None:
        async with aiohttp.ClientSession(api_url) as api:
            while True:
                contact = (await queue.get())["data"]
                email = contact["email"].lower()
                hashed = email if member_by == "email" else contact["id"]
                member = hashlib.md5(hashed.encode()).hexdigest()
                body = {
                    "email_address": email,
                    "merge_fields": {"NAME": contact["name"], "PLAN": contact["plan"]},
                    "status_if_new": "subscribed",
                }
                async with api.put(f"/lists/main/members/{member}", json=body) as r:
                    r.raise_for_status()

    app.cleanup_ctx.append(_serve.queue_worker(QUEUE, worker))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        if event.get("type") == "contact.updated":
            request.app[QUEUE].put_nowait(event)
        return web.Response(status=200)

    app.router.add_post("/webhooks/contacts", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.newsletter_sync", "NEWSLETTER_URL")
    _serve.run(build_app(opts.downstream, os.environ.get("MEMBER_BY", "email")), opts.port)


if __name__ == "__main__":
    main()
