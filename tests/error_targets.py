"""In-process (ASGI) targets that never accept an event, for the console's honest counts.

``always_500`` answers every delivery 500 with the kind of JSON error body a framework's
debug handler sends, a database password included: the console must show the start of that
body, and never the password.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]

PASSWORD = "hunter2-db-password"
# Longer than the 200 bytes a Delivery keeps: what is kept is not valid JSON, and the password
# (within the first 80 characters the console shows) must be redacted all the same.
BODY = json.dumps(
    {
        "error": "OperationalError",
        "password": PASSWORD,
        "detail": "could not connect to server: Connection refused. Is the server running on "
        "host db.internal (10.0.0.7) and accepting TCP/IP connections on port 5432?",
    }
).encode()


async def always_500(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    while True:
        message = await receive()
        if not message.get("more_body"):
            break
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": BODY})
