"""order.paid -> a CRM contact: ``POST /contacts`` with the customer's email and name.

The CRM's OpenAPI document requires ``email`` and ``name``. With ``CONTACT_NAME_FIELD`` set to
another field name (``full_name``, as an older CRM version called it) the automation sends the
name under that key and no ``name``: the real CRM would refuse every call with a 422, and the
automation, which does not look at the answer, acknowledges the webhook anyway.

Must get: ``effects_match_contract`` fail naming the missing ``name`` when the field is
renamed; hold when it is not.

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.contact_sync --port 8000
"""

from __future__ import annotations

import os

import aiohttp
from aiohttp import web

from . import _serve

API: web.AppKey[aiohttp.ClientSession] = web.AppKey("api", aiohttp.ClientSession)


def build_app(api_url: str, name_field: str) -> web.Application:
    app = web.Application()

    app.cleanup_ctx.append(_serve.client_session(API, api_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        data = event["data"]
        customer = data["customer"]
        contact = {"email": customer["email"], name_field: customer["name"]}
        contact["order"] = data["order_id"]
        async with request.app[API].post("/v1/contacts", json=contact) as answer:
            await answer.read()  # the flaw, when the field is wrong: the answer is not checked
        return web.json_response({"received": event["id"]})

    app.router.add_post("/hooks/orders", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.contact_sync", "CRM_URL")
    _serve.run(build_app(opts.downstream, os.environ.get("CONTACT_NAME_FIELD", "name")), opts.port)


if __name__ == "__main__":
    main()
