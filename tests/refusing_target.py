"""A webhook receiver that refuses deliveries the way a misconfigured one does, on loopback.

Each status stands for a setup mistake a new user makes, with the body a framework sends:
401 a signature checked another way or with another secret, 404 the wrong path, 400 a payload
shaped differently, 500 an automation that crashes (a missing environment variable).
``--accept N`` accepts the first N deliveries (and writes each event once to the downstream), for
a run the target accepts only a small share of.

    python -m tests.refusing_target --status 401 [--accept 3 --downstream http://127.0.0.1:9100]
"""

from __future__ import annotations

import argparse
import asyncio

from aiohttp import ClientSession, web

BODIES = {
    400: {"error": "payload invalid", "detail": "field 'data.object.id' is required"},
    401: {"error": "invalid signature", "detail": "no Stripe-Signature header"},
    404: {"error": "Not Found"},
    500: {"error": "KeyError", "detail": "'DATABASE_URL' is not set"},
}


def build_app(status: int, accept: int, downstream: str) -> web.Application:
    seen = 0
    written: set[bytes] = set()

    async def on_event(request: web.Request) -> web.Response:
        nonlocal seen
        body = await request.read()
        seen += 1
        if seen <= accept:
            if body not in written:
                written.add(body)
                async with ClientSession() as client:
                    await client.post(f"{downstream}/payouts", data=body)
            return web.json_response({"ok": True})
        return web.json_response(BODIES.get(status, {"error": "refused"}), status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", on_event)
    return app


async def main(status: int, accept: int, downstream: str) -> None:
    runner = web.AppRunner(build_app(status, accept, downstream))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"LISTENING http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m tests.refusing_target")
    parser.add_argument("--status", type=int, required=True)
    parser.add_argument("--accept", type=int, default=0)
    parser.add_argument("--downstream", default="http://127.0.0.1:9100")
    args = parser.parse_args()
    try:
        asyncio.run(main(args.status, args.accept, args.downstream))
    except KeyboardInterrupt:
        pass
