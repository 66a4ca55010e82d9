"""order.paid -> ``POST /payouts`` with an OAuth bearer token fetched once and kept forever.

The API issues tokens at ``POST /oauth/token`` (client credentials) that expire. This automation
asks for one at its first event and never again: no refresh before expiry, no new token on 401.
From the first expiry on every payout is refused 401, and the webhook is acknowledged anyway.

Must get: ``no_lost_events`` fail once the token has expired, naming the 401s; the sound demo,
which refreshes its token, holds on the same scenario.

    API_URL=http://127.0.0.1:9100 python -m tests.gallery.token_once --port 8000
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def build_app(api_url: str) -> web.Application:
    app = web.Application()
    token: list[str] = []  # the one token, once fetched

    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        data = event["data"]
        api = request.app[API]
        if not token:  # the flaw: fetched once, never refreshed
            grant = {"grant_type": "client_credentials", "client_id": "automation"}
            async with api.post("/oauth/token", data=grant) as answer:
                token.append((await answer.json())["access_token"])
        payout = {"order_id": data["order_id"], "amount": data["amount"], "event": event["id"]}
        headers = {"Authorization": f"Bearer {token[0]}"}
        async with api.post("/payouts", json=payout, headers=headers) as answer:
            await answer.read()  # a 401 is not looked at
        return web.json_response({"received": event["id"]})

    app.router.add_post("/hooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.token_once", "API_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
