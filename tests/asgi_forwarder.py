"""A small ASGI automation for in-process tests: forwards each webhook inline with httpx.

The downstream base URL is read from HARNESS_TEST_DOWNSTREAM at request time, so a test can
start the double first and then drive this app in-process.
"""

from __future__ import annotations

import json
import os
from typing import Any

import httpx


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    event = json.loads(body)
    # Plain HTTP on loopback: without verify=False each client loads the CA bundle (about 50 ms
    # of the event loop it shares with the harness), which a burst of 60 turns into timeouts.
    async with httpx.AsyncClient(verify=False) as client:
        answer = await client.post(
            os.environ["HARNESS_TEST_DOWNSTREAM"] + "/payouts",
            json={"order": event["data"]["order_id"], "email": event["data"]["customer"]["email"]},
        )
        second = os.environ.get("HARNESS_TEST_DOWNSTREAM_2")
        if second:  # a second API, e.g. a CRM beside the payments API
            await client.put(f"{second}/contacts/{event['data']['order_id']}", json=event["data"])
    status = 200 if answer.is_success else 502
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
