"""Order webhooks answered 200 at once and queued in memory, by a worker its supervisor restarts.

The shape of a small service behind systemd socket activation, gunicorn or a container
platform: the supervisor holds the listening socket and forks the worker process again when it
exits, so the sender never sees a refused connection. The worker acknowledges each order, keeps
it in an in-memory queue and pays it out 0.2 s later. After ``--die-after`` orders it exits (an
OOM kill, a deploy that does not drain), and whatever was still queued is gone — though the
sender heard 200 for every one. The next worker starts empty and goes on.

Must get: ``no_lost_events`` fail naming the orders that were queued when the worker died, and
only those; the orders after the restart are paid.

    PAYOUTS_URL=http://127.0.0.1:9100 python -m tests.gallery.restarts_midrun --die-after 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
from typing import Any

import aiohttp
from aiohttp import web

from . import _serve

WORK = 0.2  # real seconds before an order is paid out (--work)
QUEUE: web.AppKey[asyncio.Queue[dict[str, Any]]] = web.AppKey("queue", asyncio.Queue)


def build_app(api_url: str, die_after: int, work: float = WORK) -> web.Application:
    app = web.Application()
    accepted = 0

    async def worker(queue: asyncio.Queue[dict[str, Any]]) -> None:
        async with aiohttp.ClientSession(api_url) as api:
            while True:
                event = await queue.get()
                await asyncio.sleep(work)
                data = event["data"]
                payout = {"order_id": data["order_id"], "amount": data["amount"]}
                try:
                    async with api.post("/payouts", json=payout) as r:
                        r.raise_for_status()
                except (aiohttp.ClientError, TimeoutError):
                    queue.put_nowait(event)

    app.cleanup_ctx.append(_serve.queue_worker(QUEUE, worker))

    async def webhook(request: web.Request) -> web.Response:
        nonlocal accepted
        request.app[QUEUE].put_nowait(await request.json())
        accepted += 1
        if accepted == die_after:  # the flaw's trigger: gone just after this answer
            asyncio.get_running_loop().call_later(0.05, os._exit, 1)
        return web.json_response({"queued": True})

    app.router.add_post("/webhook/orders", webhook)
    return app


def _supervise(opts: argparse.Namespace) -> None:
    """Hold the socket; fork a worker on it, and another each time one exits."""
    listening = socket.create_server(("127.0.0.1", opts.port))
    print(f"LISTENING http://127.0.0.1:{listening.getsockname()[1]}", flush=True)
    stopping = False
    child: int | None = None

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        if child is not None:
            os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        pid = os.fork()
        if pid == 0:
            app = build_app(opts.downstream, opts.die_after, opts.work)
            _serve.serve_forked(app, listening)
        child = pid
        os.waitpid(pid, 0)
        child = None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.gallery.restarts_midrun")
    parser.add_argument("--die-after", type=int, default=10)
    parser.add_argument("--work", type=float, default=WORK, help="seconds before a payout")
    opts, rest = parser.parse_known_args()
    served = _serve.options("python -m tests.gallery.restarts_midrun", "PAYOUTS_URL", rest)
    opts.port, opts.downstream = served.port, served.downstream
    _supervise(opts)


if __name__ == "__main__":
    main()
