"""``python -m tests.gallery.node NAME --port P --downstream URL``: the Node.js receiver
``NAME.js`` as the gallery's Python ones are started — the downstream's URL in
``$DOWNSTREAM_URL``, its secret in the environment it was given, ``LISTENING <url>`` printed
once it listens. The process becomes ``node`` (exec), so a signal sent to it reaches node."""

from __future__ import annotations

import argparse
import os
import sys

from . import node, script


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.gallery.node")
    parser.add_argument("name", help="the receiver, a .js file of tests/gallery/node/")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--downstream", default=os.environ.get("DOWNSTREAM_URL"))
    opts = parser.parse_args()
    found = node()
    if found is None:
        parser.error(
            "node is not on PATH: these receivers need Node.js >= 18 (apt-get install nodejs)"
        )
    if not script(opts.name).is_file():
        parser.error(f"no receiver {opts.name!r}: no {script(opts.name)}")
    if not opts.downstream:
        parser.error("give --downstream or set DOWNSTREAM_URL")
    os.environ["DOWNSTREAM_URL"] = opts.downstream.rstrip("/")
    sys.stdout.flush()
    os.execv(found, [found, str(script(opts.name)), "--port", str(opts.port)])


if __name__ == "__main__":
    main()
