"""contact.updated -> the CRM contact: listed to find it, then ``PATCH``ed, else ``POST``ed.

The CRM's ``GET /contacts`` answers in pages (``{"data": [...], "next": ...}``). This
automation looks for the event's contact on the first page only and never follows ``next``:
once the CRM holds more contacts than a page, a contact beyond it is not found and is created a
second time.

Must get: the final state differ from the clean run's (a contact twice) and ``no_lost_events``
miss the update it should have made, once the store holds more than a page; the sound demo,
which writes ``PUT /contacts/{id}`` and never lists, holds on the same scenario.

    API_URL=http://127.0.0.1:9100 python -m tests.gallery.first_page --port 8000
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
        event = await request.json()
        data = event["data"]
        api = request.app[API]
        async with api.get("/contacts") as answer:
            page = await answer.json()  # the flaw: page["next"] is never followed
        found = [c for c in page["data"] if c.get("contact_id") == data["contact_id"]]
        contact = {k: data[k] for k in ("contact_id", "name", "email", "company")}
        if found:
            call = api.patch(f"/contacts/{found[0]['id']}", json=contact)
        else:
            call = api.post("/contacts", json=contact)
        async with call as answer:
            await answer.read()
        return web.json_response({"received": event["id"]})

    app.router.add_post("/hooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.first_page", "API_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
