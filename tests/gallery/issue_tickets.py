"""GitHub ``issues`` webhooks -> one tracker ticket per issue, remembered by its number. Correct.

It checks ``X-Hub-Signature-256`` and keeps, for the life of the process (a real one keeps them in a
table), the ticket it made for each issue by ``owner/repo#number`` — the name GitHub shows and never
gives to another issue of the repository — and the ``X-GitHub-Delivery`` ids it handled, so a
redelivery is answered and not applied again over a newer state. The first event of an issue creates
its ticket (``POST /tickets``), whichever action it is; each later one updates it (``PATCH
/tickets/{id}``) with the issue's title, state and labels. One lock per issue: two events of an
issue arriving at once cannot both create it. It answers once the tracker has.

A harness that gave the issues of a run the numbers of an earlier run's (a clean run's) would
see this run's first events update the earlier run's tickets instead of creating their own: the
same issue, to this automation, as it would be in production.

Must get: ``no_lost_events`` and ``final_state_matches_baseline`` pass, in the runs after the
first, in the same process.

    GITHUB_WEBHOOK_SECRET=… TRACKER_URL=http://127.0.0.1:9100 python -m tests.gallery.issue_tickets
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import defaultdict

import aiohttp
from aiohttp import web

from . import _github, _serve

TRACKER: web.AppKey[aiohttp.ClientSession] = web.AppKey("tracker", aiohttp.ClientSession)


def build_app(tracker_url: str, secret: bytes) -> web.Application:
    tickets: dict[str, str] = {}  # "owner/repo#number" -> ticket id
    handled: set[str] = set()  # X-GitHub-Delivery ids
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if not _github.verified(body, request.headers.get("X-Hub-Signature-256"), secret):
            return web.Response(status=401)
        if request.headers.get("X-GitHub-Event") != "issues":
            return web.Response(status=204)
        payload = json.loads(body)
        issue = payload["issue"]
        key = f"{payload['repository']['full_name']}#{issue['number']}"
        fields = {
            "title": issue["title"],
            "state": issue["state"],
            "labels": [label["name"] for label in issue["labels"]],
        }
        tracker = request.app[TRACKER]
        delivery = request.headers.get("X-GitHub-Delivery", "")
        async with locks[key]:
            if delivery in handled:
                return web.Response(status=200)
            ticket = tickets.get(key)
            if ticket is None:
                made = tracker.post("/tickets", json={"number": issue["number"], **fields})
            else:
                made = tracker.patch(f"/tickets/{ticket}", json=fields)
            async with made as answer:
                if answer.status >= 300:
                    return web.Response(status=502)  # GitHub shows it; redeliver by hand
                if ticket is None:
                    tickets[key] = (await answer.json())["id"]
            handled.add(delivery)
        return web.Response(status=200)

    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(TRACKER, tracker_url))
    app.router.add_post("/hooks/github", hook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.issue_tickets", "TRACKER_URL")
    secret = os.environ["GITHUB_WEBHOOK_SECRET"].encode()
    _serve.run(build_app(opts.downstream, secret), opts.port)


if __name__ == "__main__":
    main()
