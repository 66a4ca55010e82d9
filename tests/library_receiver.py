"""A receiver of any provider's events, for the payload library's runs.

It verifies the signature under the scheme the headers show (``harness.core._signing``, as the
sound demo does), refuses a bad one with 401, and writes each event of the body (each element
of a HubSpot batch) to ``POST /records`` of its downstream: the event as it came, and the
delivery's id header. Then it answers 200.

    python -m tests.library_receiver --downstream http://127.0.0.1:9100
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence

from aiohttp import web

from harness.core._signing import detect_scheme, verify
from harness.demo._common import (
    CLIENT,
    Options,
    argument_parser,
    base_app,
    common_options,
    json_error,
    serve,
)

PROG = "python -m tests.library_receiver"
# Where each provider puts the delivery's id when its body has none.
ID_HEADERS = ("webhook-id", "X-GitHub-Delivery", "X-Shopify-Webhook-Id", "Idempotency-Key")


def build_app(opts: Options, secret: str) -> web.Application:
    async def on_event(request: web.Request) -> web.Response:
        body = await request.read()
        scheme = detect_scheme(request.headers)
        if scheme is None or not verify(
            scheme, secret, request.headers, body, now=time.time(), url=str(request.url)
        ):
            return json_error(401, f"bad or missing signature (scheme {scheme})")
        doc = json.loads(body)
        delivery = next((request.headers[h] for h in ID_HEADERS if h in request.headers), None)
        for event in doc if isinstance(doc, list) else [doc]:
            record = {"delivery": delivery, "event": event}
            async with request.app[CLIENT].post(
                f"{opts.downstream}/records", json=record
            ) as answer:
                if answer.status >= 400:
                    return json_error(502, f"downstream answered {answer.status}")
        return web.json_response({"ok": True})

    return base_app(on_event, opts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser(PROG, __doc__ or "")
    ns = parser.parse_args(argv)
    opts = common_options(parser, ns)
    secret = os.environ.get(ns.secret_env, "")
    return serve(build_app(opts, secret), opts, PROG)


if __name__ == "__main__":
    sys.exit(main())
