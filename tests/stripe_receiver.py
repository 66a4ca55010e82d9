"""A small Stripe webhook receiver, as a new user would write one, for the new-user test.

It checks ``Stripe-Signature`` with its own code (not harness's): ``t=<unix>,v1=<hex>``, where
v1 is HMAC-SHA256 of ``f"{t}.{body}"`` keyed with the whole ``whsec_...`` secret, within 300 s.
A ``checkout.session.completed`` event upserts the customer in the CRM (``PUT
/contacts/{customer}``) once per event id; other types are acknowledged and ignored.

    STRIPE_WEBHOOK_SECRET=whsec_... python -m tests.stripe_receiver --crm http://127.0.0.1:9100
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

TOLERANCE = 300


def verified(header: str, body: bytes, secret: str) -> bool:
    parts = [item.partition("=") for item in header.split(",")]
    stamps = [value for name, _, value in parts if name == "t"]
    signatures = [value for name, _, value in parts if name == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not signatures:
        return False
    if abs(time.time() - int(stamps[0])) > TOLERANCE:
        return False
    signed = stamps[0].encode() + b"." + body
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, s) for s in signatures)


class Receiver(BaseHTTPRequestHandler):
    secret = ""
    crm = ""
    seen: ClassVar[set[str]] = set()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not verified(self.headers.get("Stripe-Signature", ""), body, self.secret):
            self._answer(400, {"error": "bad signature"})
            return
        event = json.loads(body)
        if event["type"] == "checkout.session.completed" and event["id"] not in self.seen:
            session = event["data"]["object"]
            # The Stripe event id goes along, for the CRM's audit trail.
            contact = {
                "customer": session["customer"],
                "session": session["id"],
                "stripe_event": event["id"],
            }
            request = urllib.request.Request(
                f"{self.crm}/contacts/{session['customer']}",
                data=json.dumps(contact).encode(),
                method="PUT",
                headers={"Content-Type": "application/json"},
            )
            try:
                with urllib.request.urlopen(request, timeout=5):
                    pass
            except OSError:
                self._answer(502, {"error": "CRM unavailable"})  # Stripe will retry
                return
            self.seen.add(event["id"])
        self._answer(200, {"received": True})

    def _answer(self, status: int, doc: dict[str, object]) -> None:
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--crm", required=True)
    args = parser.parse_args()
    Receiver.secret = os.environ["STRIPE_WEBHOOK_SECRET"]
    Receiver.crm = args.crm
    # One request at a time: events of one customer are applied in the order they arrive.
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    print(f"LISTENING http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
