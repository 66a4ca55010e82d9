"""Deliberately broken webhook receivers, each failing one downstream fault the way real ones do.

Both acknowledge at once (202) and call the downstream in the background, as queue-backed
automations do; neither verifies signatures (the tests are about the downstream).

* ``fire-and-forget``: one call per event, no retry: an outage or a throttle loses the event
  silently, after the sender was told it was accepted.
* ``retry-without-key``: retries 5xx, 429 and failed connections, but without an
  Idempotency-Key: a payout taken and then answered 502 is paid again.
* ``read-modify-write``: a CRM sync that keeps, on each contact, the names of every update
  it saw: it GETs the contact, adds the event's name and PUTs it back, with no lock per
  contact, so of two simultaneous updates one is lost (the final state shows it).
  ``read-modify-write-locked`` is the same sync done right: one update per contact at a time.

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
MODES = ("fire-and-forget", "retry-without-key", "read-modify-write", "read-modify-write-locked")
RETRIES = 8
BACKOFF = 0.1
# Between the read and the write, as a sync's own work (a lookup, a mapping) takes: it keeps
# the window of the race open long enough for simultaneous updates to meet in it.
THINK = 0.05


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

    locks: dict[str, asyncio.Lock] = {}

    async def sync(client: aiohttp.ClientSession, event: HookEvent) -> int:
        """GET the contact, add this update's name to its ``names``, PUT it back."""
        url = opts.downstream + event.call.path
        async with client.get(url) as r:
            current = await r.json() if r.status == 200 else {}
        await asyncio.sleep(THINK)
        names = sorted({*current.get("names", []), event.call.body["name"]})
        async with client.put(url, json={"names": names}) as r:
            return r.status

    async def on_contact(request: web.Request, event: HookEvent) -> web.Response:
        client = request.app[CLIENT]
        if mode == "read-modify-write-locked":
            async with locks.setdefault(event.key, asyncio.Lock()):
                status = await sync(client, event)
        else:
            status = await sync(client, event)
        return web.json_response({"ok": True, "downstream_status": status})

    async def on_event(request: web.Request) -> web.Response:
        try:
            event = parse_event(await request.read())
        except BadEvent as exc:
            return exc.response()
        if mode.startswith("read-modify-write"):
            return await on_contact(request, event)
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
