"""GitHub ``issues`` webhooks kept in sync with a project tracker, worked off a queue by two
threads.

GitHub gives up on a delivery after 10 s and never retries on its own, so the receiver checks
``X-Hub-Signature-256``, answers 202 at once and hands the event to a ``queue.Queue`` that two
worker threads drain: ``opened`` creates a ticket (``POST /tickets``, its id kept in a dict by
``owner/repo#number``), ``labeled``/``edited``/``closed`` update it (``PATCH /tickets/{id}``
with the issue's title, state and labels). Each worker looks the ticket up, then waits its turn
under the tracker's rate limit (5 calls a second) before calling. Its flaws are the common ones:
no lock, so an update looked up while the ``opened`` before it is still waiting finds no
ticket and is dropped (logged); deliveries marked seen only once handled, so two copies in the
queue at once are both handled.

Sent one event at a time, back to back (each as soon as the previous was answered, as a clean
run once sent them), an issue's updates arrive while its ``opened`` waits: every one is dropped,
and the ticket keeps the issue's first state.
Sent at GitHub's pace (seconds apart), each is handled before the next arrives, and the ticket
ends on the issue's last state. A verdict comparing the two must not blame the run that was
right (tests/test_gallery_github.py).

    GITHUB_WEBHOOK_SECRET=… TRACKER_URL=http://127.0.0.1:9100 python -m tests.gallery.github_issues
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from aiohttp import web

from . import _github, _serve

PACE = 0.2  # seconds between two calls of one worker: the tracker allows 5 a second
WORKERS = 2
log = logging.getLogger("github_issues")

Job = tuple[str, str, dict[str, Any]]  # delivery id, event name, payload


def build_app(tracker_url: str, secret: bytes) -> web.Application:
    jobs: queue.Queue[Job] = queue.Queue()
    tickets: dict[str, str] = {}  # "owner/repo#number" -> ticket id
    seen: set[str] = set()  # X-GitHub-Delivery ids handled

    def call(method: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        request = urllib.request.Request(
            tracker_url + path,
            data=json.dumps(body).encode(),
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read() or b"{}")  # type: ignore[no-any-return]
        except urllib.error.HTTPError as exc:
            log.error("tracker said %s to %s %s", exc.code, method, path)
            return None

    def handle(delivery: str, event: str, payload: dict[str, Any]) -> None:
        if event != "issues":
            return
        issue, action = payload["issue"], payload["action"]
        key = f"{payload['repository']['full_name']}#{issue['number']}"
        if action == "opened":
            time.sleep(PACE)
            made = call("POST", "/tickets", {"number": issue["number"], "title": issue["title"]})
            if made is not None:
                tickets[key] = made["id"]
            return
        ticket = tickets.get(key)
        if ticket is None:
            log.warning("no ticket for %s yet, dropping %s (delivery %s)", key, action, delivery)
            return
        time.sleep(PACE)
        fields = {
            "title": issue["title"],
            "state": issue["state"],
            "labels": [label["name"] for label in issue["labels"]],
        }
        call("PATCH", f"/tickets/{ticket}", fields)

    def worker() -> None:
        while True:
            delivery, event, payload = jobs.get()
            handle(delivery, event, payload)
            seen.add(delivery)

    for n in range(WORKERS):
        threading.Thread(target=worker, name=f"worker-{n}", daemon=True).start()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if not _github.verified(body, request.headers.get("X-Hub-Signature-256"), secret):
            return web.Response(status=401)
        delivery = request.headers.get("X-GitHub-Delivery", "")
        if delivery in seen:
            return web.Response(status=200)
        jobs.put((delivery, request.headers.get("X-GitHub-Event", ""), json.loads(body)))
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/hooks/github", hook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.github_issues", "TRACKER_URL")
    secret = os.environ["GITHUB_WEBHOOK_SECRET"].encode()
    _serve.run(build_app(opts.downstream, secret), opts.port)


if __name__ == "__main__":
    main()
