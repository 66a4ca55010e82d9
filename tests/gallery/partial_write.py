"""HubSpot ``contact.propertyChange`` batches -> the mailing list, one subscriber call per event.

HubSpot delivers up to 100 events in one request. This receiver loops over the batch and writes
each email change to the mailing-list API in turn; on the first error it stops and — so that
HubSpot will not resend the events already written — answers 200 anyway. The events after the
failing one, and the failing one itself, are never written, and HubSpot was told they were.

Must get: ``no_lost_events`` fail, naming the event whose call was refused and the events after
it in its batch that were never tried.

    MAILING_LIST_URL=http://127.0.0.1:9100 python -m tests.gallery.partial_write --port 8000
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def build_app(api_url: str) -> web.Application:
    app = web.Application()

    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        batch = await request.json()
        written = 0
        # The app subscribes to changes of the email property only.
        for event in batch:
            subscriber = {"email": event["propertyValue"], "hubspot_id": event["objectId"]}
            try:
                async with request.app[API].post("/subscribers", json=subscriber) as r:
                    r.raise_for_status()
            except (aiohttp.ClientError, TimeoutError):
                break  # the flaw: the rest of the batch is dropped, and HubSpot hears 200
            written += 1
        return web.json_response({"written": written})

    app.router.add_post("/hubspot/webhooks", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.partial_write", "MAILING_LIST_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
