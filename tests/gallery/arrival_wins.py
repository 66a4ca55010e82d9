"""Standard Webhooks ``contact.updated`` -> the CRM's contact, written as each update arrives.

The obvious sync: every update is a ``PUT`` of the contact's fields, in the order the updates
reach it. Senders do not promise that order (Standard Webhooks, HubSpot, Stripe all say so):
an older update that arrives after a newer one overwrites it, and the contact ends on a stale
name until its next change — if one ever comes. In order, it is right.

Must get: ``per_key_order`` (a stale overwrite) and ``final_state_matches_baseline`` (the
contact's last state is not the clean run's) fail under reordering, naming the contact; every
verdict passes when the updates come in order.

    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.arrival_wins --port 8000
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from . import _serve


def build_app(crm_url: str) -> web.Application:
    app = web.Application()

    async def webhook(request: web.Request) -> web.Response:
        event = await request.json()
        contact = event["data"]
        fields = {k: contact[k] for k in ("name", "email", "company")}
        async with (
            aiohttp.ClientSession(crm_url) as crm,
            crm.put(f"/contacts/{contact['contact_id']}", json=fields) as r,
        ):
            if r.status >= 300:
                return web.json_response({"error": f"CRM answered {r.status}"}, status=502)
        return web.json_response({"received": True})  # the flaw: whatever came last wins

    app.router.add_post("/webhooks/contacts", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.arrival_wins", "CRM_URL")
    _serve.run(build_app(opts.downstream), opts.port)


if __name__ == "__main__":
    main()
