"""GitHub ``issues`` webhooks -> the tracker's tickets, through a bounded queue that sheds load
with ``429 Too Many Requests``.

GitHub gives up on a delivery after 10 s, so the receiver checks ``X-Hub-Signature-256``,
puts the event on an ``asyncio.Queue`` of at most ``QUEUE_SIZE`` and answers 202; one worker
makes each issue's ticket (``POST /tickets``), a call every ``PACE`` seconds under the
tracker's rate limit. Its author bounded the queue so that an import cannot eat the process's
memory, and, when it is full, answers ``429`` with ``Retry-After`` — back-pressure as the
webhook guides teach it (Standard Webhooks and Svix throttle and retry on a 429; Stripe and
Shopify retry any failure).

GitHub retries nothing (PROVIDERS.md): a delivery answered 429 is listed as failed in the
webhook's "Recent deliveries", to be redelivered by hand within three days, and that is all.
An import of issues (a repository transferred, a bulk label) sheds every event past the
queue's room — loud in GitHub's log, lost in the tracker.

With ``WHEN_FULL=wait`` the request waits for room in the queue (``await queue.put``) before
answering: the back-pressure is the answer's latency, well within GitHub's 10 s.

Must get, under a burst of openings larger than the queue: ``no_lost_events`` fails (or at
least does not pass) on the deliveries answered 429 that GitHub never sends again, never
"refused, the sender will retry"; with ``WHEN_FULL=wait`` every issue gets its ticket.

    GITHUB_WEBHOOK_SECRET=… TRACKER_URL=http://127.0.0.1:9100 python -m tests.gallery.shed_load
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from . import _github, _serve

QUEUE_SIZE = 8
PACE = 0.05  # seconds between two tracker calls: its rate limit
QUEUE: web.AppKey[asyncio.Queue[dict[str, Any]]] = web.AppKey("queue", asyncio.Queue)
log = logging.getLogger("shed_load")


async def work(tracker: aiohttp.ClientSession, queue: asyncio.Queue[dict[str, Any]]) -> None:
    while True:
        payload = await queue.get()
        issue = payload["issue"]
        ticket = {
            "issue": f"{payload['repository']['full_name']}#{issue['number']}",
            "title": issue["title"],
            "state": issue["state"],
        }
        try:
            async with tracker.post("/tickets", json=ticket) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("ticket of %s not made: %s", ticket["issue"], error)
        await asyncio.sleep(PACE)


def build_app(tracker_url: str, secret: bytes) -> web.Application:
    app = web.Application()
    wait = os.environ.get("WHEN_FULL") == "wait"

    async def worker(app: web.Application) -> AsyncIterator[None]:
        app[QUEUE] = asyncio.Queue(QUEUE_SIZE)
        async with aiohttp.ClientSession(tracker_url) as tracker:
            task = asyncio.create_task(work(tracker, app[QUEUE]))
            yield
            task.cancel()

    app.cleanup_ctx.append(worker)

    async def hook(request: web.Request) -> web.Response:
        payload = await _github.read_issues(request, secret)
        if isinstance(payload, web.Response):
            return payload
        if wait:
            await request.app[QUEUE].put(payload)
            return web.Response(status=202)
        try:
            request.app[QUEUE].put_nowait(payload)
        except asyncio.QueueFull:
            return web.Response(status=429, headers={"Retry-After": "5"})  # GitHub won't
        return web.Response(status=202)

    app.router.add_post("/hooks/github", hook)
    return app


def main() -> None:
    _serve.run_github("python -m tests.gallery.shed_load", "TRACKER_URL", build_app)


if __name__ == "__main__":
    main()
