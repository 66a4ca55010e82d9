"""Deliberately broken webhook receivers, each failing one downstream fault the way real ones do.

Both acknowledge at once (202) and call the downstream in the background, as queue-backed
automations do; neither verifies signatures (the tests are about the downstream).

* ``fire-and-forget``: one call per event, no retry: an outage or a throttle loses the event
  silently, after the sender was told it was accepted.
* ``retry-without-key``: retries 5xx, 429 and failed connections, but without an
  Idempotency-Key: a payout taken and then answered 502 is paid again.

    python -m tests.broken_automations --mode fire-and-forget --downstream http://127.0.0.1:9100
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence

import aiohttp
from aiohttp import web

from harness.demo._common import (
    CLIENT,
    BadEvent,
    HookEvent,
    Options,
    argument_parser,
    base_app,
    common_options,
    parse_event,
    serve,
)

PROG = "python -m tests.broken_automations"
MODES = ("fire-and-forget", "retry-without-key")
RETRIES = 8
BACKOFF = 0.1


def build_app(opts: Options, mode: str) -> web.Application:
    tasks: set[asyncio.Task[None]] = set()

    async def call(client: aiohttp.ClientSession, event: HookEvent) -> int | None:
        c = event.call
        try:
            async with client.request(c.method, opts.downstream + c.path, json=c.body) as r:
                return r.status
        except (aiohttp.ClientError, TimeoutError):
            return None

    async def process(client: aiohttp.ClientSession, event: HookEvent) -> None:
        attempts = 1 if mode == "fire-and-forget" else RETRIES
        for _ in range(attempts):
            status = await call(client, event)
            if status is not None and status < 500 and status != 429:
                return
            await asyncio.sleep(BACKOFF)

    async def on_event(request: web.Request) -> web.Response:
        try:
            event = parse_event(await request.read())
        except BadEvent as exc:
            return exc.response()
        task = asyncio.create_task(process(request.app[CLIENT], event))
        tasks.add(task)  # held until done: a bare task may be collected mid-flight
        task.add_done_callback(tasks.discard)
        return web.json_response({"accepted": True, "id": event.id}, status=202)

    return base_app(on_event, opts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser(PROG, "Broken webhook receivers for the fault tests.")
    parser.add_argument("--mode", choices=MODES, required=True)
    ns = parser.parse_args(argv)
    opts = common_options(parser, ns)
    return serve(build_app(opts, ns.mode), opts, PROG)


if __name__ == "__main__":
    sys.exit(main())
