"""The fragile demo automation: the webhook receiver most automations start as.

It trusts every delivery (no signature check), forwards each one as it arrives (no dedup, no
ordering) and calls the downstream inline, answering 502 when the downstream fails (no retry,
no queue). Duplicates become duplicate payouts and a late, older update overwrites a newer one.
It maps fields as a no-code flow does: a renamed or missing field goes on as "" or null, a
64-bit id through a JavaScript double (rounded), and the sender is told all is well.

    python -m harness.demo.fragile --downstream http://127.0.0.1:9100
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import aiohttp
from aiohttp import web

from ._common import (
    CLIENT,
    BadEvent,
    HookEvent,
    Options,
    argument_parser,
    base_app,
    common_options,
    json_error,
    parse_event,
    serve,
)

PROG = "python -m harness.demo.fragile"


async def forward_inline(request: web.Request, event: HookEvent, downstream: str) -> web.Response:
    """Make the event's downstream call before answering: 200 when it succeeded, else 502."""
    call = event.call
    try:
        async with request.app[CLIENT].request(
            call.method, downstream + call.path, json=call.body
        ) as answer:
            status = answer.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return json_error(502, f"downstream call failed: {exc!r}")
    if 200 <= status < 300:
        return web.json_response({"ok": True, "downstream_status": status})
    return json_error(502, f"downstream answered {status}")


def build_app(opts: Options) -> web.Application:
    """The fragile automation as an aiohttp app."""

    async def on_event(request: web.Request) -> web.Response:
        try:
            event = parse_event(await request.read(), lenient=True)
        except BadEvent as exc:
            return exc.response()
        return await forward_inline(request, event, opts.downstream)

    return base_app(on_event, opts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser(PROG, "Naive webhook receiver: no signature, dedup, order or retry.")
    opts = common_options(parser, parser.parse_args(argv))
    return serve(build_app(opts), opts, PROG)


if __name__ == "__main__":
    sys.exit(main())
