"""Stripe checkouts -> the CRM's orders, deduplicated in memory, served by two worker processes.

Written by the book for one process: verify ``Stripe-Signature``, skip an event id already in
the ``seen`` set, post the order (``POST /orders``) before answering, and on a failed call
forget the id and answer 500 so that Stripe retries. Then deployed the way gunicorn or
``uvicorn --workers 2`` deploy an app: the listening socket bound once, ``WORKERS`` processes
forked after it, each accepting connections from it — and each with its own ``seen``, a
module-level set that nobody thought of as per process. A copy of a checkout that lands on
the process that took the first is skipped; one that lands on the other is a second order.
Which one takes a connection is the kernel's choice.

Must get: under duplicates, ``no_duplicate_effects`` fails naming the checkouts ordered twice
— some of the copies, not all; with ``WORKERS=1`` (how it was tested) every verdict holds.

    export STRIPE_WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 WORKERS=2 python -m tests.gallery.two_process_dedup --port 8000
"""

from __future__ import annotations

import logging
import os
import signal
import socket

import aiohttp
from aiohttp import web

from . import _serve, _stripe

log = logging.getLogger("two_process_dedup")

WORKERS = int(os.environ.get("WORKERS", "2"))

seen: set[str] = set()  # the flaw: one per worker process, not one per service


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    crm_key = web.AppKey("crm", aiohttp.ClientSession)
    app.cleanup_ctx.append(_serve.client_session(crm_key, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await _stripe.read_event(request, secret)
        if event is None:
            return web.Response(status=400)
        if event.get("type") != "checkout.session.completed" or event["id"] in seen:
            return web.json_response({"received": True})
        seen.add(event["id"])
        try:
            order = _stripe.order_of(event)
            async with request.app[crm_key].post("/orders", json=order) as answer:
                answer.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as error:
            seen.discard(event["id"])
            log.warning("order of %s not written: %s", event["id"], error)
            return web.Response(status=500)
        return web.json_response({"received": True})

    app.router.add_post("/webhooks/stripe", webhook)
    return app


def main() -> None:
    """The master: bind, fork the workers, pass a SIGTERM on to them and wait."""
    logging.basicConfig(level=logging.WARNING)
    opts = _serve.options("python -m tests.gallery.two_process_dedup", "CRM_URL")
    secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    listening = socket.create_server(("127.0.0.1", opts.port), backlog=128)
    workers = []
    for _ in range(WORKERS):
        pid = os.fork()
        if pid == 0:
            _serve.serve_forked(build_app(opts.downstream, secret), listening)
        workers.append(pid)

    def stop(*_: object) -> None:
        for pid in workers:
            os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"LISTENING http://127.0.0.1:{listening.getsockname()[1]}", flush=True)
    for pid in workers:
        os.waitpid(pid, 0)


if __name__ == "__main__":
    main()
