"""An automation that spills credentials into every call it makes, for the seeded-secret test.

Each event becomes one payment call (no idempotency: a duplicate delivery pays twice) that
carries an API key in its query string (``?api_key=``), a bearer token, the event's card number
under a neutral key (``reference``) and — a debugging leftover — the webhook signing secret
itself, in a header and in the body, and the next secret of a rotation (``LEAKY_ROLLOVER``, a
name no redaction recognises as a secret's). The reports, the console, the pytest plugin and a
redacted export must show none of them.

    API_URL=http://127.0.0.1:9100 LEAKY_API_KEY=... LEAKY_TOKEN=... HARNESS_SECRET=... \
        LEAKY_ROLLOVER=... python -m tests.leaky_automation --port 8000
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from .gallery import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def build_app(
    api_url: str, api_key: str, token: str, signing_secret: str, next_secret: str
) -> web.Application:
    app = web.Application()

    async def client(app: web.Application) -> AsyncIterator[None]:
        app[API] = aiohttp.ClientSession(api_url, timeout=aiohttp.ClientTimeout(total=10))
        yield
        await app[API].close()

    app.cleanup_ctx.append(client)

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        data = event["data"]
        body = {
            "event": event["id"],
            "order_id": data["order_id"],
            "amount": data["amount"],
            "reference": data["card_number"],  # the card number under a neutral key
            "debug": signing_secret,
            "debug_next": next_secret,
        }
        headers = {
            "Authorization": f"Bearer {token}",
            "X-Debug": signing_secret,
            "X-Debug-Next": next_secret,
        }
        async with request.app[API].post(
            f"/payments?api_key={api_key}", json=body, headers=headers
        ) as r:
            await r.read()
        return web.json_response({"ok": True})

    app.router.add_post("/hooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.leaky_automation", "API_URL")
    app = build_app(
        opts.downstream,
        os.environ["LEAKY_API_KEY"],
        os.environ["LEAKY_TOKEN"],
        os.environ["HARNESS_SECRET"],
        os.environ["LEAKY_ROLLOVER"],
    )
    _serve.run(app, opts.port)


if __name__ == "__main__":
    main()
