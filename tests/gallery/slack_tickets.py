"""Slack ``message`` events (Events API) -> a helpdesk ticket each, and a reply in the thread.

A support bot as they are written: it answers Slack's ``url_verification`` challenge, verifies
the ``v0=`` signature (refusing timestamps over 5 minutes old), keeps plain user messages only,
skips an ``event_id`` it already handled (a dict in memory), opens a ticket in the helpdesk
inside the request and answers 500 when the helpdesk fails, so that Slack retries; then it
replies in the message's thread with the ticket number (``chat.postMessage`` to the Slack Web
API at ``SLACK_API_URL``, when set; a failed reply is logged, not retried).

With ``SLACK_IGNORE_RETRIES`` set it also follows the common advice against Slack's duplicates:
"if ``X-Slack-Retry-Num`` is present, return 200 and do nothing". That is right only when the
first attempt is still running (Slack retries a slow ack while it works); when the first
attempt failed — the helpdesk down, a 500 — the retry was the event's last chance, and it is
answered 200 and dropped.

With ``SLACK_ACK_FIRST`` set it is shaped for Slack's 3 s ack instead, as the Flask bot it was
drawn from: the event id remembered on receipt, the answer 200 at once, the ticket and the reply
in a background task; a helpdesk error there is logged and the event is gone.

Must get, under a helpdesk outage with Slack's retries (``downstream-outage``): without the
habit, ``no_lost_events`` and ``recovers_after_outage`` pass (a retry after the outage opens
the ticket); with it, both fail, naming the events whose retries were dropped. Under a slow
helpdesk (``provider-retry-storm-slack``) the habit is right: the first attempt, still running,
opens the ticket, and its retries add nothing (no loss, no duplicate; only slow acks). When the
helpdesk commits a ticket and then fails (``ambiguous-commit``) under ``SLACK_ACK_FIRST``, the
ticket is there but the thread never gets its reply: a reply names its channel (the record),
not its message, and ``recovers_after_outage`` must fail on the replies, not pass on the
tickets.

    SLACK_SIGNING_SECRET=... HELPDESK_URL=http://127.0.0.1:9100 \
        python -m tests.gallery.slack_tickets --port 3000
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import time
from collections.abc import Mapping

import aiohttp
from aiohttp import web

from . import _serve

HELPDESK: web.AppKey[aiohttp.ClientSession] = web.AppKey("helpdesk", aiohttp.ClientSession)
SLACK: web.AppKey[aiohttp.ClientSession] = web.AppKey("slack", aiohttp.ClientSession)
HANDLED: web.AppKey[dict[str, float]] = web.AppKey("handled", dict)
WORKING: web.AppKey[set[asyncio.Task[None]]] = web.AppKey("working", set)
log = logging.getLogger("slack_tickets")


def verified(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    ts = headers.get("X-Slack-Request-Timestamp", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > 5 * 60:
        return False
    base = b"v0:" + ts.encode() + b":" + body
    mine = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mine, headers.get("X-Slack-Signature", ""))


def build_app(
    helpdesk_url: str,
    secret: str,
    *,
    slack_url: str | None = None,
    ignore_retries: bool = False,
    ack_first: bool = False,
) -> web.Application:
    app = web.Application()
    app[HANDLED] = {}
    app[WORKING] = set()
    app.cleanup_ctx.append(_serve.client_session(HELPDESK, helpdesk_url))
    if slack_url:
        app.cleanup_ctx.append(_serve.client_session(SLACK, slack_url))

    async def open_ticket(event: dict[str, str]) -> object:
        ticket = {
            "subject": event.get("text", "")[:80] or "(no text)",
            "description": event.get("text", ""),
            "email": f"{event.get('user')}@slack.example.com",
            "tags": ["slack", f"slack:{event['channel']}:{event['ts']}"],
        }
        async with app[HELPDESK].post("/api/v2/tickets", json=ticket) as r:
            r.raise_for_status()
            return (await r.json()).get("id")

    async def reply(event: dict[str, str], ticket: object) -> None:
        if SLACK not in app:
            return
        text = f"Thanks! I opened ticket #{ticket} for this."
        message = {"channel": event["channel"], "thread_ts": event["ts"], "text": text}
        try:
            async with app[SLACK].post("/chat.postMessage", json=message) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError):
            log.exception("could not reply in the thread")

    async def in_background(event: dict[str, str]) -> None:
        try:
            ticket = await open_ticket(event)
        except (aiohttp.ClientError, TimeoutError):
            log.exception("could not open a ticket")
            return
        await reply(event, ticket)

    async def events(request: web.Request) -> web.Response:
        body = await request.read()
        if not verified(secret, request.headers, body):
            return web.Response(status=403, text="invalid signature")
        payload = json.loads(body)
        if payload.get("type") == "url_verification":
            return web.json_response({"challenge": payload["challenge"]})
        if ignore_retries and request.headers.get("X-Slack-Retry-Num"):
            return web.Response(status=200)  # "we already got the first one"
        event = payload.get("event", {})
        if event.get("type") != "message" or event.get("subtype") or event.get("bot_id"):
            return web.Response(status=200)
        handled = app[HANDLED]
        if payload["event_id"] in handled:
            return web.Response(status=200)
        if ack_first:  # remembered on receipt, the work after the answer
            handled[payload["event_id"]] = time.time()
            task = asyncio.create_task(in_background(event))
            app[WORKING].add(task)
            task.add_done_callback(app[WORKING].discard)
            return web.Response(status=200)
        try:
            ticket = await open_ticket(event)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.Response(status=500, text=f"helpdesk: {exc}")  # Slack will retry
        handled[payload["event_id"]] = time.time()
        await reply(event, ticket)
        return web.Response(status=200)

    app.router.add_post("/slack/events", events)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.slack_tickets", "HELPDESK_URL")
    env = os.environ
    secret = env["SLACK_SIGNING_SECRET"]
    habits = {
        "ignore_retries": "SLACK_IGNORE_RETRIES" in env,
        "ack_first": "SLACK_ACK_FIRST" in env,
    }
    app = build_app(opts.downstream, secret, slack_url=env.get("SLACK_API_URL"), **habits)
    _serve.run(app, opts.port)


if __name__ == "__main__":
    main()
