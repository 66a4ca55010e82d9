"""Deliberately careless webhook receivers for the drift tests, built like no-code flows.

Both acknowledge at once (202) and call the downstream in the background; neither verifies
signatures (the tests are about the payload).

* ``lenient``: maps fields the way a Zapier or n8n step does: a renamed or missing field goes
  on as "" or null, a value of the wrong type as it came, every number through a JavaScript
  double (a 64-bit id arrives rounded). The sender never hears of it.
* ``alerting``: checks every field strictly; a delivery it cannot map is still acknowledged,
  but raises an alert (``POST /alerts`` naming the event) instead of a write: loud, the way a
  flow with an error path is.

    python -m tests.drift_automations --mode lenient --downstream http://127.0.0.1:9100
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web

from harness.demo._common import (
    CLIENT,
    BadEvent,
    DownstreamCall,
    Options,
    argument_parser,
    base_app,
    common_options,
    parse_event,
    serve,
)

PROG = "python -m tests.drift_automations"
MODES = ("lenient", "alerting")


def build_app(opts: Options, mode: str) -> web.Application:
    tasks: set[asyncio.Task[None]] = set()

    async def call(client: aiohttp.ClientSession, c: DownstreamCall) -> None:
        try:
            async with client.request(c.method, opts.downstream + c.path, json=c.body):
                pass
        except (aiohttp.ClientError, TimeoutError):
            pass  # no retry: these tests are about the payload

    def later(client: aiohttp.ClientSession, c: DownstreamCall) -> None:
        task = asyncio.create_task(call(client, c))
        tasks.add(task)  # held until done: a bare task may be collected mid-flight
        task.add_done_callback(tasks.discard)

    async def on_event(request: web.Request) -> web.Response:
        body = await request.read()
        client = request.app[CLIENT]
        try:
            event = parse_event(body, lenient=mode == "lenient")
        except BadEvent as exc:
            if mode == "lenient":
                return exc.response()
            alert = {"event": _event_id(body), "error": exc.detail, "field": exc.where}
            later(client, DownstreamCall("POST", "/alerts", alert))
            return web.json_response({"accepted": True}, status=202)
        later(client, event.call)
        return web.json_response({"accepted": True, "id": event.id}, status=202)

    return base_app(on_event, opts)


def _event_id(body: bytes) -> Any:
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    return doc.get("id") if isinstance(doc, dict) else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser(PROG, "Careless webhook receivers for the drift tests.")
    parser.add_argument("--mode", choices=MODES, required=True)
    ns = parser.parse_args(argv)
    opts = common_options(parser, ns)
    return serve(build_app(opts, ns.mode), opts, PROG)


if __name__ == "__main__":
    sys.exit(main())
