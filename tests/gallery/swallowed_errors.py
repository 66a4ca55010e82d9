"""Standard Webhooks ``contact.updated`` -> the CRM's contact; every error logged, answered 200.

A Flask receiver that checks the signature with the ``standardwebhooks`` library, then ``PUT``s
the contact's fields to the CRM with ``requests``, inside the request. Its author read that a
sender disables an endpoint that keeps failing, so every error is caught, logged and answered
200 ("never let the provider see a 500"): while the CRM is down, each update it refuses is
acknowledged and gone — the sender never redelivers what it was told it got.

Unlike ``stale_guard``, which answers an update older than its contact's state 200 on purpose,
this one tried each write and dropped the ones that failed: a contact whose only update came in
the outage is left on what it held before, whatever the events mean.

Must get, under downstream-outage over a project whose events nobody gave a model (the hazard
assumes a ledger): ``no_lost_events`` and ``recovers_after_outage`` fail on the updates the CRM
refused — not set aside as skipped for a newer state (``invariants/_newer_first``): each was
written and refused, and answered 200 before any newer update of its contact was written.

    export WEBHOOK_SECRET=whsec_...
    CRM_URL=http://127.0.0.1:9100 python -m tests.gallery.swallowed_errors --port 8000
"""

from __future__ import annotations

import logging
import os
import threading

import requests
from flask import Flask, request
from standardwebhooks import Webhook, WebhookVerificationError

from . import _serve
from ._flask import serve

log = logging.getLogger("swallowed_errors")


def build_app(crm_url: str, secret: str) -> Flask:
    app = Flask("swallowed_errors")
    verifier = Webhook(secret)
    crm = requests.Session()

    @app.post("/webhooks/contacts")
    def webhook() -> tuple[str, int]:
        try:
            event = verifier.verify(request.get_data(), dict(request.headers))
        except WebhookVerificationError:
            return "", 400
        try:
            contact = event["data"]
            fields = {k: contact[k] for k in ("name", "email", "company")}
            answer = crm.put(f"{crm_url}/contacts/{contact['contact_id']}", json=fields, timeout=5)
            answer.raise_for_status()
        except Exception:  # the habit: the provider must never see an error
            log.exception("contact update %s not synced", event.get("id"))
        return "", 200

    return app


def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)  # its log is not the test's output
    opts = _serve.options("swallowed_errors", "CRM_URL")
    serve(build_app(opts.downstream, os.environ["WEBHOOK_SECRET"]), opts.port)
    threading.Event().wait()  # until SIGTERM


if __name__ == "__main__":
    main()
