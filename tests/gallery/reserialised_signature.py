"""GitHub ``issues`` webhooks -> the support desk: each issue opened becomes a ticket.

Its author copied a Flask snippet that verifies ``X-Hub-Signature-256`` over the payload it
has already parsed, written back as JSON: ``json.dumps(request.get_json(), separators=(",",
":"))`` — "GitHub sends compact JSON", and for the test deliveries it tried, the bytes matched.
GitHub writes its text as UTF-8 ("Webhook payloads can contain unicode characters", its docs
say); ``json.dumps`` escapes it (``\\u00e9``). Every issue opened by a Zoë or a Łukasz is refused
401, and GitHub does not retry: those tickets are never made. With ``VERIFY_OVER=dumps`` it
re-serialises with ``json.dumps``'s defaults (", " and ": "), as most snippets do, and refuses
every genuine delivery; with ``VERIFY_OVER=raw`` it verifies the raw body, as GitHub's docs ask.

Must get: the refusals of genuine deliveries seen, never passed: bodies laid out as GitHub lays
them out (compact, UTF-8) and names with the letters real customers have. Verifying the raw
body, every delivery is accepted.

    export GITHUB_WEBHOOK_SECRET=… DESK_URL=http://127.0.0.1:9100
    python -m tests.gallery.reserialised_signature --port 8000
"""

from __future__ import annotations

import json
import os
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve
from ._github import verified

DESK: web.AppKey[aiohttp.ClientSession] = web.AppKey("desk", aiohttp.ClientSession)
VERIFY_OVER = os.environ.get("VERIFY_OVER", "compact")


def signed_bytes(body: bytes) -> bytes:
    """What the signature is checked over: the raw body, or (the flaw) the parsed payload
    written back as JSON."""
    if VERIFY_OVER == "raw":
        return body
    payload: Any = json.loads(body)
    if VERIFY_OVER == "dumps":
        return json.dumps(payload).encode()
    return json.dumps(payload, separators=(",", ":")).encode()


def build_app(desk_url: str, secret: bytes) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(DESK, desk_url))

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if not verified(signed_bytes(body), request.headers.get("X-Hub-Signature-256"), secret):
            return web.json_response({"error": "bad signature"}, status=401)
        payload = json.loads(body)
        if request.headers.get("X-GitHub-Event") != "issues" or payload["action"] != "opened":
            return web.json_response({"ignored": True})
        issue = payload["issue"]
        ticket = {
            "subject": issue["title"],
            "requester": issue["user"]["login"],
            "source": issue["html_url"],
        }
        try:
            async with request.app[DESK].post("/tickets", json=ticket) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": str(exc)}, status=502)
        return web.json_response({"ticket": True}, status=201)

    app.router.add_post("/hooks/github", hook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.reserialised_signature", "DESK_URL")
    secret = os.environ["GITHUB_WEBHOOK_SECRET"].encode()
    _serve.run(build_app(opts.downstream, secret), opts.port)


if __name__ == "__main__":
    main()
