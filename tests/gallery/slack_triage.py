"""Slack ``message`` events (Events API) -> a helpdesk ticket each, opened before the answer,
with no memory of what it handled.

The first version of a support bot: it answers the ``url_verification`` challenge, verifies
the ``v0=`` signature, keeps plain user messages, and opens the ticket inside the request
(``POST /api/v2/tickets``), answering 200 once the helpdesk has it — 500 when the helpdesk
fails, so that Slack retries. Its author never read ``X-Slack-Retry-Num`` and keeps no
``event_id``: "Slack sends each event once, and again only when we fail".

Slack also sends it again when the answer is late: no 2xx within 3 s, and it retries at once,
while the first request still runs (PROVIDERS.md), up to three times. A helpdesk that takes
seconds — a busy Monday, or the triage step later added in front of it — makes every message
outlast the ack, and each retry opens its own ticket: one message, up to four tickets, four
agents answering one customer. Slack's SDK trackers hold the reports: "when I set a
time.sleep(1) in handle_message function, multiple repeated responses will occur"
(slackapi/python-slack-sdk#790), a ``monday_create_ticket_slack`` handler getting each event
twice and again a minute later (#1164), "whenever a message processing take more than a certain
time, i am receiving duplicate events" (slackapi/bolt-python#1027); the answer each time: ack
within 3 s, work after.

With ``ACK_FIRST=1`` it is written as Bolt asks: 200 at once, each ``event_id`` opened once in
a background task (a copy, a retry of one in hand, adds nothing; a failed ticket is released
and logged — and lost, Slack having heard 200: the trade ``slack_tickets``' ``SLACK_ACK_FIRST``
shows, which a queue with retries would close).

Must get, under provider-retry-storm-slack: ``no_duplicate_effects`` fails, its cause Slack's
retries of deliveries answered late (not the sender's duplicates), and ``ack_within`` fails;
with ``ACK_FIRST=1`` both hold.

    SLACK_SIGNING_SECRET=... HELPDESK_URL=http://127.0.0.1:9100 \
        python -m tests.gallery.slack_triage --port 3000
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve
from .slack_tickets import verified

HELPDESK: web.AppKey[aiohttp.ClientSession] = web.AppKey("helpdesk", aiohttp.ClientSession)
OPENED: web.AppKey[set[str]] = web.AppKey("opened", set)
WORKING: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("working", set)
log = logging.getLogger("slack_triage")


def ticket_of(event: dict[str, Any]) -> dict[str, Any]:
    text = str(event.get("text", ""))
    return {
        "subject": text[:80] or "(no text)",
        "description": text,
        "requester": event.get("user"),
        "tags": ["slack", f"slack:{event.get('channel')}:{event.get('ts')}"],
    }


def build_app(helpdesk_url: str, secret: str, *, ack_first: bool = False) -> web.Application:
    app = web.Application()
    app[OPENED] = set()
    app[WORKING] = set()
    app.cleanup_ctx.append(_serve.client_session(HELPDESK, helpdesk_url))

    async def open_ticket(event: dict[str, Any]) -> None:
        async with app[HELPDESK].post("/api/v2/tickets", json=ticket_of(event)) as r:
            r.raise_for_status()

    async def in_background(event_id: str, event: dict[str, Any]) -> None:
        try:
            await open_ticket(event)
        except (aiohttp.ClientError, TimeoutError):
            app[OPENED].discard(event_id)
            log.exception("could not open a ticket")

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if not verified(secret, request.headers, body):
            return web.Response(status=403, text="invalid signature")
        payload = json.loads(body)
        if payload.get("type") == "url_verification":
            return web.json_response({"challenge": payload["challenge"]})
        event = payload.get("event", {})
        if event.get("type") != "message" or event.get("subtype") or event.get("bot_id"):
            return web.Response(status=200)
        if ack_first:
            if payload["event_id"] in app[OPENED]:
                return web.Response(status=200)
            app[OPENED].add(payload["event_id"])
            task = asyncio.create_task(in_background(payload["event_id"], event))
            app[WORKING].add(task)
            task.add_done_callback(app[WORKING].discard)
            return web.Response(status=200)
        try:
            await open_ticket(event)  # the flaw: the ack waits on the helpdesk
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.Response(status=500, text=f"helpdesk: {exc}")  # Slack will retry
        return web.Response(status=200)

    app.router.add_post("/slack/events", events)
    return app


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    opts = _serve.options("python -m tests.gallery.slack_triage", "HELPDESK_URL")
    secret = os.environ["SLACK_SIGNING_SECRET"]
    app = build_app(opts.downstream, secret, ack_first=os.environ.get("ACK_FIRST") == "1")
    _serve.run(app, opts.port)


if __name__ == "__main__":
    main()
