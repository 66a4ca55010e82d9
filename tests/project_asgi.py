"""A bare ASGI app that takes webhooks only at ``/webhooks/stripe`` (404 elsewhere), for the
tests of in-process targets with a path (``tests.project_asgi:app/webhooks/stripe``)."""

from __future__ import annotations

from typing import Any

HOOK_PATH = "/webhooks/stripe"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    more = True
    while more:  # read the whole body, as a real app would
        message = await receive()
        more = message.get("more_body", False)
    status = 200 if scope["path"] == HOOK_PATH and scope["method"] == "POST" else 404
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})
