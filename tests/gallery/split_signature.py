"""Standard Webhooks ``contact.updated`` -> the newsletter's member, behind a signature check
written by hand.

Its author kept the dependency out and checked ``webhook-signature`` from the header they saw
in the sender's dashboard, ``v1,<base64>``: ``version, signature = header.split(",")``, the
HMAC-SHA256 of ``{webhook-id}.{webhook-timestamp}.{body}`` compared with the signature under
each secret it is configured with (the current one, and the next one during a rotation), five
minutes of tolerance. The header is a space-separated list (the spec): while the sender rolls
its secret it signs with both, ``v1,<old> v1,<new>``, the unpacking raises, and every delivery
of the overlap is answered 500 — with both secrets configured, exactly the deliveries a
rotation is meant to carry through. With ``SIGNATURES=all`` it reads each entry of the list.

Must get, under a signing-secret rotation: ``accepts_genuine`` fails on the deliveries of the
overlap, answered 500; with ``SIGNATURES=all`` every verdict holds.

    export HARNESS_SECRET=whsec_... HARNESS_SECRET_NEXT=whsec_...
    NEWSLETTER_URL=http://127.0.0.1:9100 python -m tests.gallery.split_signature --port 8000
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping, Sequence

import aiohttp
from aiohttp import web

from . import _serve

NEWSLETTER: web.AppKey[aiohttp.ClientSession] = web.AppKey("newsletter", aiohttp.ClientSession)
TOLERANCE = 5 * 60
EVERY_ENTRY = os.environ.get("SIGNATURES") == "all"


def signatures(header: str) -> list[str]:
    """The base64 signatures ``webhook-signature`` carries."""
    if EVERY_ENTRY:
        return [entry.partition(",")[2] for entry in header.split() if entry.startswith("v1,")]
    version, signature = header.split(",")  # the flaw: one entry, where the spec has a list
    return [signature] if version == "v1" else []


def genuine(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> bool:
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if not (msg_id and stamp.isdigit()) or abs(time.time() - int(stamp)) > TOLERANCE:
        return False
    given = signatures(headers.get("webhook-signature", ""))
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        expected = base64.b64encode(digest).decode()
        if any(hmac.compare_digest(expected, s) for s in given):
            return True
    return False


def build_app(newsletter_url: str, secrets: Sequence[str]) -> web.Application:
    app = web.Application()
    app.cleanup_ctx.append(_serve.client_session(NEWSLETTER, newsletter_url))

    async def webhook(request: web.Request) -> web.Response:
        body = await request.read()
        if not genuine(request.headers, body, secrets):
            return web.Response(status=401)
        event = json.loads(body)
        if event.get("type") != "contact.updated":
            return web.Response(status=204)
        contact = event["data"]
        member = {"email": contact.get("email"), "name": contact.get("name")}
        async with request.app[NEWSLETTER].put(f"/members/{contact['id']}", json=member) as r:
            if r.status >= 300:
                return web.json_response({"error": f"newsletter {r.status}"}, status=502)
        return web.Response(status=204)

    app.router.add_post("/webhooks/contacts", webhook)
    return app


def main() -> None:
    opts = _serve.options("python -m tests.gallery.split_signature", "NEWSLETTER_URL")
    secrets = [os.environ["HARNESS_SECRET"], os.environ.get("HARNESS_SECRET_NEXT", "")]
    _serve.run(build_app(opts.downstream, [s for s in secrets if s]), opts.port)


if __name__ == "__main__":
    main()
