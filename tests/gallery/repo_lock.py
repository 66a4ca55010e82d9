"""GitHub ``issues`` webhooks -> the tracker's tickets, one repository at a time, behind a lock
taken by hand.

The tracker numbers a project's tickets in the order they are made and its API is not safe
for two writes of one project at once, so its author serialises each repository's deliveries
with an ``asyncio.Lock`` per ``repository.full_name``, taken with ``await lock.acquire()`` and
given back with ``lock.release()`` at the end of the work — the shape a handler ported from
``threading.Lock`` keeps. Inside the lock: ``opened`` (any issue without a ticket yet) makes
one, ``POST /tickets``; a later action ``PATCH``es it with the issue's title, state and labels;
each answer ``raise_for_status()``. It answers 200 when done; an error is left to aiohttp
(500): GitHub shows the failed delivery, to be redelivered by hand.

The release is not in a ``finally``: the first error inside the lock — the tracker answering
503, an issue payload without a ``title`` — leaves the lock held, and every later delivery of
that repository waits on it forever. GitHub gives up on each after 10 s and never retries:
from the first error on, the repository's issues reach the tracker no more, and nothing says
so but a column of timeouts in GitHub's delivery log.

With ``LOCK=with`` the lock is held by ``async with``, released whatever happens: an error
fails its own delivery, and the next one of the repository goes through.

Must get, under downstream-outage: ``no_lost_events`` fails on the deliveries sent after the
outage that were never answered (no effect, the tracker up again); ``ack_within`` fails on
them. With ``LOCK=with`` the deliveries after the outage are answered and written.

    GITHUB_WEBHOOK_SECRET=… TRACKER_URL=http://127.0.0.1:9100 python -m tests.gallery.repo_lock
"""

from __future__ import annotations

import asyncio
import os
from collections import defaultdict
from typing import Any

import aiohttp
from aiohttp import web

from . import _github, _serve

TRACKER: web.AppKey[aiohttp.ClientSession] = web.AppKey("tracker", aiohttp.ClientSession)


def build_app(tracker_url: str, secret: bytes) -> web.Application:
    tickets: dict[str, str] = {}  # "owner/repo#number" -> ticket id
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)  # by repository
    released_always = os.environ.get("LOCK") == "with"

    async def sync(tracker: aiohttp.ClientSession, payload: dict[str, Any]) -> None:
        issue = payload["issue"]
        key = f"{payload['repository']['full_name']}#{issue['number']}"
        fields = {
            "title": issue["title"],
            "state": issue["state"],
            "labels": [label["name"] for label in issue["labels"]],
        }
        ticket = tickets.get(key)
        if ticket is None:
            async with tracker.post("/tickets", json={"issue": key, **fields}) as answer:
                answer.raise_for_status()
                tickets[key] = (await answer.json())["id"]
        else:
            async with tracker.patch(f"/tickets/{ticket}", json=fields) as answer:
                answer.raise_for_status()

    async def hook(request: web.Request) -> web.Response:
        payload = await _github.read_issues(request, secret)
        if isinstance(payload, web.Response):
            return payload
        lock = locks[payload["repository"]["full_name"]]
        if released_always:
            async with lock:
                await sync(request.app[TRACKER], payload)
            return web.Response(status=200)
        await lock.acquire()
        await sync(request.app[TRACKER], payload)  # the flaw: an error here keeps the lock
        lock.release()
        return web.Response(status=200)

    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(TRACKER, tracker_url))
    app.router.add_post("/hooks/github", hook)
    return app


def main() -> None:
    _serve.run_github("python -m tests.gallery.repo_lock", "TRACKER_URL", build_app)


if __name__ == "__main__":
    main()
