"""HubSpot contact.propertyChange webhooks -> the contact's property set in the CRM.

Each event PATCHes ``/crm/v3/objects/contacts/{objectId}`` with ``{"properties": {name: value}}``
sent as ``application/json``, as HubSpot's CRM API takes it: the API merges the properties it
names into the contact, so the same PATCH twice leaves the contact as once. The request names the
contact (the event's record) and nothing of the event itself. It does not deduplicate.

It reads one event a request, as its own scenarios send them; HubSpot itself sends a JSON array
of up to 100 (found by the standard suite, session 16): under ``harness init --provider hubspot``
every delivery is answered 500, and the run says so (``_refusal_context.batch_cause``).

Must get: its PATCHes counted per contact against the clean run's, never "could not be
attributed to an event"; under redeliveries ``no_duplicate_effects`` not passed while nothing
says the route merges (more PATCHes per contact than its clean run made, naming the contact and
not the event), and passed once the downstream declares ``merges:`` for the route. Where the
value it writes is one of the event's (an email), each PATCH names its event: a repeated
identical PATCH is neither passed nor failed until the route is declared.

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.hubspot_contacts --port 8000
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve

CRM: web.AppKey[aiohttp.ClientSession] = web.AppKey("crm", aiohttp.ClientSession)


def build_app(crm_url: str) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(CRM, crm_url))

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        if event.get("subscriptionType") != "contact.propertyChange":
            return web.json_response({"ignored": True})
        contact = f"/crm/v3/objects/contacts/{event['objectId']}"
        properties = {"properties": {event["propertyName"]: event["propertyValue"]}}
        try:
            async with request.app[CRM].patch(contact, json=properties) as r:
                r.raise_for_status()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return web.json_response({"error": str(exc)}, status=503)
        return web.Response(status=204)

    app.router.add_post("/hooks/hubspot", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.hubspot_contacts", "CRM_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
