"""A small Stripe webhook receiver, as a user would write one, for the project-file tests.

It verifies the ``Stripe-Signature`` header with its own code (HMAC-SHA256 of
``"{t}.{body}"`` with the endpoint secret, a ``v1=`` among the signatures, ``t`` within 300 s:
Stripe's published scheme), never with harness's; refuses a replayed event id; then, for a
``checkout.session.completed``, writes the customer to a CRM: ``PUT /contacts/{customer}``
with the session's email. A session without an email is refused with 422 (loudly). Stripe
does not deliver in order; it handles one customer's events one at a time, in the order they
come.

    STRIPE_WEBHOOK_SECRET=whsec_... python -m tests.stripe_receiver --downstream http://127.0.0.1:9100
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import time
from typing import Any

import aiohttp
from aiohttp import web

TOLERANCE = 300  # seconds, Stripe's libraries' default


def verified(secret: str, header: str, body: bytes, now: float) -> bool:
    """Stripe's scheme: ``t=<unix>,v1=<hex hmac>[,v1=...]``."""
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k == "t"]
    signatures = [v for k, v in parts if k == "v1"]
    if len(stamps) != 1 or not signatures or not stamps[0].isdigit():
        return False
    if abs(now - int(stamps[0])) > TOLERANCE:
        return False
    signed = stamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


def build_app(secret: str, downstream: str) -> web.Application:
    seen: set[str] = set()
    locks: dict[str, asyncio.Lock] = {}

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        if not verified(secret, request.headers.get("Stripe-Signature", ""), body, time.time()):
            return web.json_response({"error": "bad signature"}, status=400)
        event: Any = json.loads(body)
        if event["id"] in seen:
            return web.json_response({"duplicate": event["id"]})
        if event.get("type") != "checkout.session.completed":
            seen.add(event["id"])
            return web.json_response({"ignored": event.get("type")})
        session = event["data"]["object"]
        email = (session.get("customer_details") or {}).get("email")
        if not email:
            return web.json_response({"error": "no customer email"}, status=422)
        customer = session["customer"]
        async with locks.setdefault(customer, asyncio.Lock()):
            contact = {"email": email, "session": session["id"], "event": event["id"]}
            client: aiohttp.ClientSession = request.app["client"]
            async with client.put(f"{downstream}/contacts/{customer}", json=contact) as answer:
                if answer.status >= 300:
                    return web.json_response({"error": "crm failed"}, status=502)
        seen.add(event["id"])
        return web.json_response({"received": True})

    async def client(app: web.Application) -> Any:
        app["client"] = aiohttp.ClientSession()
        yield
        await app["client"].close()

    app = web.Application()
    app.router.add_post("/hooks/stripe", hook)
    app.cleanup_ctx.append(client)
    return app


async def serve(app: web.Application) -> None:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(f"LISTENING http://127.0.0.1:{port}", flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.stripe_receiver")
    parser.add_argument("--downstream", required=True)
    args = parser.parse_args()
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    asyncio.run(serve(build_app(secret, args.downstream.rstrip("/"))))


if __name__ == "__main__":
    main()
