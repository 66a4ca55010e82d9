"""An ``async`` webhook handler that looks the customer up with a blocking HTTP call.

The shape of a FastAPI receiver whose author wrote ``async def`` and then called a synchronous
SDK inside it (``requests.get``, a CRM client, ``urllib``): the call holds the event loop for as
long as the lookup takes, so every other request to the app waits behind it too. Served by
uvicorn, that is the app's own latency; driven in-process by the harness (``--target
tests.gallery.blocking_enrich:app``) it holds the harness's loop as well, which then runs late.
A harness that takes all of its loop's lateness for its own excuses the app.

Must get: ``ack_within`` fails — the loop's thread neither ran nor waited for a CPU while it
was held; it was blocked in the app's call.

    ENRICH_URL=http://127.0.0.1:9200/customers \
        harness run duplicate-storm --target tests.gallery.blocking_enrich:app
"""

from __future__ import annotations

import json
import os
import urllib.request
from typing import Any

from . import _serve


def lookup(customer: str) -> dict[str, Any]:
    """The "SDK": a synchronous GET to the enrichment service."""
    url = f"{os.environ['ENRICH_URL']}/{customer}"
    with urllib.request.urlopen(url, timeout=30) as answer:
        found: dict[str, Any] = json.load(answer)
    return found


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    event = json.loads(await _serve.asgi_body(receive) or b"{}")
    customer = event.get("data", {}).get("customer", {}).get("email", "unknown")
    tier = lookup(customer).get("tier", "standard")  # blocks the loop: the flaw
    answer = json.dumps({"received": event.get("id"), "tier": tier}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": answer})
