"""Stripe checkouts -> the CRM's orders: answered 200 on receipt, the signature checked later,
by the worker.

Its author read two pieces of advice — "return 200 immediately, process asynchronously" and
"verify the signature" (webhook guides give both, e.g. Smartcar's *Decouple Receipt from
Processing*) — and put the check where the processing is: the handler only queues the raw body
and its ``Stripe-Signature`` header and answers 200; one worker takes each off the queue,
checks it as ``stripe.Webhook.construct_event`` does, logs and drops one that fails ("invalid
signature, dropped"), and posts each checkout's order once per event id (``POST /orders``),
trying a refused call again (100 ms doubling to 2 s, 30 times at most).

A forged delivery does nothing but is told 200: the sender — or the attacker — cannot tell a
delivery checked from one dropped. The harm is to the genuine ones: a delivery the check fails
for a reason of the receiver's own — a secret rolled at Stripe and not yet here, a clock
skewed, a body re-encoded by a proxy — is acknowledged, so Stripe never retries it and its
dashboard shows every delivery succeeded, while the worker dropped each one.

Must get: ``rejects_forged`` fails under forged-signature, each tampered delivery answered 200
— and its evidence says none caused an effect (nothing forged was acted on: the check is there,
after the answer); under a secret rotation the receiver was not told of
(tests/gallery/scenarios/checkouts-secret-rotation.yaml), ``no_lost_events`` fails on the
checkouts signed with the new secret alone, every one answered 200 — never ``accepts_genuine``
saying none was refused as if all were well.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.verify_later --port 8000
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("verify_later")

TRIES = 30
Received = tuple[bytes, str | None]  # the raw body and its Stripe-Signature header
QUEUE: web.AppKey[asyncio.Queue[Received]] = web.AppKey("queue", asyncio.Queue)


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()

    async def post(crm: aiohttp.ClientSession, order: dict[str, object]) -> bool:
        wait = 0.1
        for _ in range(TRIES):
            try:
                async with crm.post("/orders", json=order) as answer:
                    answer.raise_for_status()
                return True
            except (aiohttp.ClientError, TimeoutError):
                await asyncio.sleep(wait)
                wait = min(2 * wait, 2.0)
        return False

    async def worker(queue: asyncio.Queue[Received]) -> None:
        done: set[str] = set()
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(crm_url, timeout=timeout) as crm:
            while True:
                body, header = await queue.get()
                try:
                    event = _stripe.construct_event(body, header, secret)
                except (_stripe.SignatureError, json.JSONDecodeError) as error:
                    log.warning("invalid signature, dropped: %s", error)
                    continue
                if event.get("type") != "checkout.session.completed" or event["id"] in done:
                    continue
                if await post(crm, _stripe.order_of(event)):
                    done.add(event["id"])
                else:
                    log.error("CRM refused the order of %s %d times, dropped", event["id"], TRIES)

    app.cleanup_ctx.append(_serve.queue_worker(QUEUE, worker))

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        request.app[QUEUE].put_nowait((body, request.headers.get("Stripe-Signature")))
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    _serve.run_stripe("python -m tests.gallery.verify_later", "CRM_URL", build_app)


if __name__ == "__main__":
    main()
