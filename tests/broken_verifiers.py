"""Deliberately broken signature checks, each a hole real receivers ship with.

Both call the downstream inline and acknowledge after it (as the fragile demo does), so a slow
downstream also makes a provider retry them into duplicate effects.

* ``no-timestamp-check``: verifies the Standard Webhooks signature but not its timestamp, and
  keeps no record of ids: a stale delivery or a captured one replayed an hour later pays out.
* ``accepts-unsigned``: verifies a signature when one is sent, and lets an unsigned request
  through ("the old integration doesn't sign yet").

    python -m tests.broken_verifiers --mode accepts-unsigned --downstream http://127.0.0.1:9100
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence

from aiohttp import web

from harness.core._signing import detect_scheme, verify
from harness.demo._common import (
    BadEvent,
    Options,
    argument_parser,
    base_app,
    common_options,
    json_error,
    parse_event,
    serve,
)
from harness.demo.fragile import forward_inline

PROG = "python -m tests.broken_verifiers"
MODES = ("no-timestamp-check", "accepts-unsigned")


def build_app(opts: Options, mode: str, secret: str) -> web.Application:
    def trusted(request: web.Request, body: bytes) -> bool:
        scheme = detect_scheme(request.headers)
        if scheme is None:
            return mode == "accepts-unsigned"
        tolerance = float("inf") if mode == "no-timestamp-check" else 300.0
        return verify(scheme, secret, request.headers, body, now=time.time(), tolerance=tolerance)

    async def on_event(request: web.Request) -> web.Response:
        body = await request.read()
        if not trusted(request, body):
            return json_error(401, "invalid signature")
        try:
            event = parse_event(body)
        except BadEvent as exc:
            return exc.response()
        return await forward_inline(request, event, opts.downstream)

    return base_app(on_event, opts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argument_parser(PROG, "Broken signature checks for the security tests.")
    parser.add_argument("--mode", choices=MODES, required=True)
    ns = parser.parse_args(argv)
    opts = common_options(parser, ns)
    return serve(build_app(opts, ns.mode, os.environ[opts.secret_env]), opts, PROG)


if __name__ == "__main__":
    sys.exit(main())
