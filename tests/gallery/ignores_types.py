"""Order lifecycle webhooks -> a payout on ``order.paid``; every other type answered 200, unused.

Many senders let an endpoint subscribe only to "all order events"; the automation needs one of
them and acknowledges the others so the sender does not retry or disable the endpoint. Doing
nothing for ``order.created`` and ``order.fulfilled`` is its design, not a loss.

Must get: ``no_lost_events`` pass, with ``order.created`` and ``order.fulfilled`` reported as
ignored by design (a clean run makes no effect for them).

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.ignores_types --port 8000
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)
SEEN: web.AppKey[set[str]] = web.AppKey("seen", set)


def build_app(api_url: str) -> web.Application:
    app = web.Application()
    app[SEEN] = set()

    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        if event["type"] != "order.paid":
            return web.json_response({"ignored": event["type"]})  # on purpose
        seen = request.app[SEEN]
        if event["id"] in seen:
            return web.json_response({"duplicate": True})
        data = event["data"]
        payout = {
            "order_id": data["order_id"],
            "amount": data["amount"],
            "currency": data["currency"],
            "email": data["customer"]["email"],
        }
        try:
            async with request.app[API].post(
                "/payouts", json=payout, headers={"Idempotency-Key": event["id"]}
            ) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": str(exc)}, status=503)
        seen.add(event["id"])
        return web.json_response({"paid": True})

    app.router.add_post("/hooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.ignores_types", "PAYOUTS_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
