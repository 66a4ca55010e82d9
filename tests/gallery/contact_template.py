"""Standard Webhooks ``contact.updated`` -> the CRM's contact, its fields filled into a template.

It checks each delivery with the ``standardwebhooks`` library and writes the contact to the CRM
(``PUT /contacts/{id}``) from a module-level template of the CRM's fields, so that every write
carries all of them, the ones an event lacks as null. Its author wrote ``contact =
CONTACT_TEMPLATE`` where a copy was meant: every delivery fills the one dict. While every
update carries every field each overwrites them all and nothing shows; an update that lacks a
field (a form that stops sending the company) is written with the company of the contact
written before it — another customer's data, silently, in this contact's record. With
``TEMPLATE=copy`` (its reviewer's fix) it fills a copy, and refuses 422 an update that lacks a
field rather than write it null over the CRM's value.

Must get, under missing-field: ``drift_is_loud`` fails, each witness a contact written with
another contact's value where its event had none (record 5's email in record 6's, ...); with
``TEMPLATE=copy`` it passes, the drifted updates refused.

    export WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.contact_template --port 8000
"""

from __future__ import annotations

import os
from typing import Any

import aiohttp
from aiohttp import web
from standardwebhooks import Webhook, WebhookVerificationError

from . import _serve

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)
COPY = os.environ.get("TEMPLATE") == "copy"

# The CRM's contact fields, each written on every update (null where the event has none).
CONTACT_TEMPLATE: dict[str, Any] = {
    "email": None,
    "name": None,
    "company": None,
    "plan": None,
    "source": "webhooks",
}


def crm_contact(data: dict[str, Any]) -> dict[str, Any]:
    """The CRM's contact for an event's ``data``: the template, filled with what the event has."""
    if COPY:
        return {**CONTACT_TEMPLATE, **{f: data[f] for f in ("email", "name", "company", "plan")}}
    contact = CONTACT_TEMPLATE  # the flaw: the one dict, not a copy
    for field in ("email", "name", "company", "plan"):
        if field in data:
            contact[field] = data[field]
    return contact


def build_app(crm_url: str, secret: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))
    verifier = Webhook(secret)

    async def webhook(request: web.Request) -> web.Response:
        try:
            event = verifier.verify(await request.read(), dict(request.headers))
        except WebhookVerificationError:
            return web.Response(status=400)
        if event.get("type") != "contact.updated":
            return web.Response(status=204)
        data = event["data"]
        try:
            contact = crm_contact(data)
        except KeyError as missing:
            return web.json_response({"error": f"contact update lacks {missing}"}, status=422)
        async with request.app[CRM].put(f"/contacts/{data['id']}", json=contact) as r:
            if r.status >= 300:
                return web.json_response({"error": f"CRM answered {r.status}"}, status=502)
        return web.Response(status=204)

    app.router.add_post("/webhooks/contacts", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.contact_template", "CRM_URL")
    _serve.run(build_app(opts.downstream, os.environ["WEBHOOK_SECRET"]), opts.port)


if __name__ == "__main__":
    main()
