"""Orders -> payouts, deduplicated against every order id it has ever seen. Fine for a month.

Its author guarded against the sender's redeliveries the way no-code builders do: a
"processed events" table in a hosted store (a spreadsheet, an Airtable base) that each run
reads from the top, page by page, looking for the event's id before doing anything. Nothing
ever deletes a row. With a hundred rows the check takes a few round trips; after a year it
takes thousands, and the acknowledgement waits for all of them. Nobody notices until the
sender's ack timeout is passed: then every delivery times out, is retried, and the retries pile
up on a store that only grows.

Here the table is a JSON-lines file under ``--state-dir`` and each page read costs
``--page-latency`` seconds (the round trip to the hosted store; 20 ms for ``--page-size`` 10
rows by default, as such stores answer). It does not check signatures (not its flaw here).

Must get: the year's latency trend finding — acks grow with the events seen, past the run's
delivery timeout before month 12 (docs/report.md, "How a trend finding is made").

    python -m tests.gallery.dedup_store --downstream http://127.0.0.1:9100 --state-dir /tmp/dd
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
from pathlib import Path

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def build_app(api_url: str, store: Path, page_size: int, page_latency: float) -> web.Application:
    app = web.Application()
    store.touch()
    lock = asyncio.Lock()

    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def seen(event_id: str) -> bool:
        """Read the processed table from the top, one page (one round trip) at a time."""
        rows = store.read_text(encoding="utf-8").splitlines()
        for start in range(0, len(rows), page_size):
            await asyncio.sleep(page_latency)  # the hosted store's round trip for this page
            if any(json.loads(r)["id"] == event_id for r in rows[start : start + page_size]):
                return True
        return False

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        if await seen(event["id"]):
            return web.json_response({"received": True, "duplicate": True})
        order = event["data"]
        payout = {"order": order["order_id"], "amount": order["amount"], "event": event["id"]}
        try:
            async with request.app[API].post("/payouts", json=payout) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": f"payouts: {exc}"}, status=502)
        async with lock:
            with store.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"id": event["id"]}) + "\n")
        return web.json_response({"received": True})

    app.router.add_post("/hooks/orders", webhook)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--state-dir", default=None)
    parser.add_argument("--page-size", type=int, default=10)
    parser.add_argument("--page-latency", type=float, default=0.02)
    extra, rest = parser.parse_known_args()
    opts = _serve.options("python -m tests.gallery.dedup_store", "PAYOUTS_URL", rest)
    state = Path(extra.state_dir or tempfile.mkdtemp(prefix="dedup-store-"))
    os.makedirs(state, exist_ok=True)
    app = build_app(opts.downstream, state / "processed.jsonl", extra.page_size, extra.page_latency)
    _serve.run(app, opts.port)


if __name__ == "__main__":
    main()
