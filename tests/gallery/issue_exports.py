"""GitHub ``issues`` webhooks -> the docs store: each issue opened is filed as a document.

Each issue is uploaded with ``PUT /documents/{issue id}`` (its number, title and body, as JSON),
named for its title the way the team browses the store — ``Content-Disposition: attachment;
filename="#42 Fußball-Ergebnisse fehlen.json"`` — through ``urllib.request``, as a script
written against the store's docs would. ``http.client`` sends header values as Latin-1: an
issue whose title has a letter beyond it (``Miejscowość``, ``Łódź``; ``ü`` and ``é`` are in it)
raises ``UnicodeEncodeError`` inside the handler and is answered 500 — and GitHub does not
retry: that issue is never filed. With ``FILENAME=rfc6266`` the file is named as RFC 6266
says (``filename*=UTF-8''…`` beside an ASCII ``filename``).

Must get: those issues' deliveries seen failing; an issue whose newest change was refused
lost (GitHub never redelivers), one a newer filed change superseded not (the store holds its
newest state); with the RFC 6266 name, nothing lost.

    export GITHUB_WEBHOOK_SECRET=… DOCS_URL=http://127.0.0.1:9100
    python -m tests.gallery.issue_exports --port 8000
"""

from __future__ import annotations

import asyncio
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from aiohttp import web

from . import _serve
from ._github import verified

RFC6266 = os.environ.get("FILENAME") == "rfc6266"


def disposition(issue: dict[str, Any]) -> str:
    """The document's Content-Disposition header, named for the issue."""
    filename = f"#{issue['number']} {issue['title']}.json"
    if not RFC6266:
        return f'attachment; filename="{filename}"'  # the flaw: sent as Latin-1
    plain = filename.encode("ascii", "replace").decode().replace('"', "'")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{urllib.parse.quote(filename)}"


def upload(store: str, issue: dict[str, Any]) -> None:
    document = {"number": issue["number"], "title": issue["title"], "body": issue["body"]}
    request = urllib.request.Request(
        f"{store}/documents/{issue['id']}",
        data=json.dumps(document).encode(),
        method="PUT",
        headers={"Content-Type": "application/json", "Content-Disposition": disposition(issue)},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


def build_app(store: str, secret: bytes) -> web.Application:
    app = web.Application()

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if not verified(body, request.headers.get("X-Hub-Signature-256"), secret):
            return web.json_response({"error": "bad signature"}, status=401)
        payload = json.loads(body)
        if request.headers.get("X-GitHub-Event") != "issues" or payload["action"] != "opened":
            return web.json_response({"ignored": True})
        try:
            await asyncio.to_thread(upload, store, payload["issue"])
        except (urllib.error.URLError, TimeoutError) as exc:
            return web.json_response({"error": str(exc)}, status=502)
        return web.json_response({"filed": True}, status=201)

    app.router.add_post("/hooks/github", hook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.issue_exports", "DOCS_URL")
    _serve.run(build_app(opts.downstream, os.environ["GITHUB_WEBHOOK_SECRET"].encode()), opts.port)


if __name__ == "__main__":
    main()
