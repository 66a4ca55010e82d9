"""Recorded files in each format the importers read, written from the formats' public
documentation: HAR 1.2 (W3C draft, ``log.entries[].request``), Stripe's "List all events"
response, GitHub's "Get a webhook delivery" objects and the ``@octokit/webhooks-examples``
folder layout, Svix's "List messages" response, Hookdeck's events list (``include=data``) and
the capture format of docs/recording.md.

The bodies are what the demo automations understand (``order.paid`` events; Stripe events as
Stripe sends them), so a replay against the sound demo has effects to judge. Ids are long, as
real ones are: faithful replay attributes effects by the ids they carry.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

ORDERS = 4
START = "2026-03-01T12:00:0{n}Z"


def order(n: int) -> dict[str, Any]:
    """The n-th (from 1) ``order.paid`` body, one order each, as the receiver was sent it."""
    return {
        "id": f"evt_1Pgc00Rec{n:04d}ordPaid",
        "type": "order.paid",
        "occurred_at": START.format(n=n),
        "sequence": 1,
        "data": {
            "order_id": f"ord_9Hq2LmNp{n:04d}",
            "customer": {"name": "Ada Lovelace", "email": f"ada{n}@example.com"},
            "amount": 1000 + n,
            "currency": "usd",
            "note": "first order of the day",
        },
    }


ORDER_IDS = [order(n)["id"] for n in range(1, ORDERS + 1)]
STRIPE_IDS = [f"evt_1PgcStripe{n:04d}Inv" for n in range(1, ORDERS + 1)]
GITHUB_GUIDS = [f"0b989ba4-242f-11e5-81e1-c7b6966d{n:04d}" for n in range(1, ORDERS + 1)]
SVIX_IDS = [f"msg_2KWPBgLlAfxdpx2AI54pPJ{n:04d}" for n in range(1, ORDERS + 1)]


def har(folder: Path, *, base64_body: bool = False) -> Path:
    """A HAR 1.2 file as a proxy saves it: the webhook's POSTs to /hooks/orders among a page
    load (GET) and a POST elsewhere; HTTP/2 pseudo-headers and a stale signature included."""
    entries: list[dict[str, Any]] = [_har_entry("GET", "https://shop.example/", None, 0)]
    for n in range(1, ORDERS + 1):
        text = json.dumps(order(n))
        entries.append(
            _har_entry("POST", "https://hooks.example/hooks/orders", text, n, base64_body)
        )
    entries.append(_har_entry("POST", "https://shop.example/api/cart", '{"sku": "A-1"}', 9))
    doc = {
        "log": {
            "version": "1.2",
            "creator": {"name": "WebInspector", "version": "537.36"},
            "pages": [],
            "entries": entries,
        }
    }
    path = folder / "traffic.har"
    path.write_text(json.dumps(doc, indent=2))
    return path


def _har_entry(
    method: str, url: str, text: str | None, n: int, base64_body: bool = False
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "httpVersion": "HTTP/2",
        "cookies": [],
        "headers": [
            {"name": ":method", "value": method},
            {"name": ":path", "value": url.split("example", 1)[1]},
            {"name": "content-type", "value": "application/json"},
            {"name": "webhook-id", "value": order(n)["id"] if n <= ORDERS else f"msg_{n:08d}"},
            {"name": "webhook-signature", "value": "v1,c3RhbGVzaWduYXR1cmU="},
            {"name": "x-shop-domain", "value": "shop.example"},
        ],
        "queryString": [],
        "headersSize": -1,
        "bodySize": len(text or ""),
    }
    if text is not None:
        post: dict[str, Any] = {"mimeType": "application/json", "text": text}
        if base64_body:
            post = {**post, "text": base64.b64encode(text.encode()).decode(), "encoding": "base64"}
        request["postData"] = post
    return {
        "startedDateTime": START.format(n=n).replace("Z", ".000Z"),
        "time": 12.5,
        "request": request,
        "response": {
            "status": 200,
            "statusText": "OK",
            "httpVersion": "HTTP/2",
            "cookies": [],
            "headers": [],
            "content": {"size": 2, "mimeType": "application/json", "text": "{}"},
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": 2,
        },
        "cache": {},
        "timings": {"send": 0, "wait": 12, "receive": 0.5},
    }


def stripe_event(n: int) -> dict[str, Any]:
    """An ``invoice.paid`` event object as GET /v1/events lists it."""
    return {
        "id": STRIPE_IDS[n - 1],
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_772_366_400 + n,
        "data": {
            "object": {
                "id": f"in_1PgcInvoice{n:04d}",
                "object": "invoice",
                "amount_paid": 2000 + n,
                "currency": "usd",
                "customer": f"cus_QbWxYz{n:04d}",
                "customer_email": f"ada{n}@example.com",
                "status": "paid",
            }
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "invoice.paid",
    }


def stripe_list(folder: Path) -> Path:
    """The "List all events" response (also what ``stripe events list`` prints): newest first."""
    doc = {
        "object": "list",
        "url": "/v1/events",
        "has_more": False,
        "data": [stripe_event(n) for n in range(ORDERS, 0, -1)],
    }
    path = folder / "events.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def github_delivery(n: int, *, redelivery: bool = False) -> dict[str, Any]:
    """A "Get a delivery for a repository webhook" object: the request's headers and payload."""
    return {
        "id": 12345678 + n + (100 if redelivery else 0),
        "guid": GITHUB_GUIDS[n - 1],
        "delivered_at": START.format(n=n + (4 if redelivery else 0)),
        "redelivery": redelivery,
        "duration": 0.27,
        "status": "OK",
        "status_code": 200,
        "event": "order",
        "action": "paid",
        "installation_id": 123,
        "repository_id": 426,
        "url": "https://hooks.example/hooks/orders",
        "request": {
            "headers": {
                "X-GitHub-Delivery": GITHUB_GUIDS[n - 1],
                "X-GitHub-Event": "order",
                "X-GitHub-Hook-ID": "42",
                "X-Hub-Signature-256": "sha256=" + "0" * 64,
                "Content-Type": "application/json",
                "User-Agent": "GitHub-Hookshot/a1b2c3d",
            },
            "payload": order(n),
        },
        "response": {"headers": {}, "payload": "ok"},
    }


def github_deliveries(folder: Path) -> Path:
    """Get-a-delivery objects as a JSON array (``gh api ... | jq -s``), the first delivery
    redelivered once (same guid)."""
    doc = [github_delivery(n) for n in range(1, ORDERS + 1)] + [github_delivery(1, redelivery=True)]
    path = folder / "deliveries.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def github_examples(folder: Path) -> Path:
    """A folder laid out as @octokit/webhooks-examples: <event>/<action>.payload.json."""
    root = folder / "payload-examples" / "api.github.com"
    for name, payload in (
        ("issues", {"action": "opened", "issue": {"id": 1}}),
        ("issues", {"action": "closed", "issue": {"id": 1}}),
        ("push", {"ref": "refs/heads/main", "after": "6113728f27ae"}),
    ):
        here = root / name
        here.mkdir(parents=True, exist_ok=True)
        stem = payload.get("action", "push")
        (here / f"{stem}.payload.json").write_text(json.dumps(payload, indent=2))
    return root


def svix_message(n: int) -> dict[str, Any]:
    return {
        "eventId": None,
        "eventType": "order.paid",
        "payload": order(n),
        "channels": ["orders"],
        "id": SVIX_IDS[n - 1],
        "timestamp": START.format(n=n).replace("Z", "+00:00"),
        "tags": [],
    }


def svix_export(folder: Path) -> Path:
    """The "List messages" response (with_content=true): newest first."""
    doc = {
        "data": [svix_message(n) for n in range(ORDERS, 0, -1)],
        "iterator": "iter_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        "prevIterator": "-iter_2KWPBgLlAfxdpx2AI54pPJ85f4W",
        "done": True,
    }
    path = folder / "messages.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def hookdeck_events(folder: Path) -> Path:
    """Hookdeck's GET /events?include=data response: each event with its request's data."""
    models = [
        {
            "id": f"evt_hookdeck{n:04d}",
            "team_id": "tm_1",
            "webhook_id": "web_1",
            "source_id": "src_1",
            "destination_id": "des_1",
            "request_id": f"req_{n:04d}",
            "attempts": 1,
            "status": "SUCCESSFUL",
            "created_at": START.format(n=n),
            "data": {
                "path": "/hooks/orders",
                "query": "",
                "parsed_query": {},
                "headers": {"content-type": "application/json", "webhook-id": ORDER_IDS[n - 1]},
                "body": order(n),
            },
        }
        for n in range(ORDERS, 0, -1)
    ]
    doc = {
        "pagination": {"order_by": "created_at", "dir": "desc", "limit": 100},
        "count": ORDERS,
        "models": models,
    }
    path = folder / "hookdeck.json"
    path.write_text(json.dumps(doc, indent=2))
    return path


def capture(folder: Path) -> Path:
    """The capture format of docs/recording.md: one received delivery a line."""
    lines = [
        {
            "received_at": START.format(n=n),
            "method": "POST",
            "path": "/hooks/orders",
            "query": "",
            "headers": {"Content-Type": "application/json", "X-Shop-Domain": "shop.example"},
            "body": json.dumps(order(n), separators=(",", ":")),
            "response": {"status": 200, "ms": 3.5},
        }
        for n in range(1, ORDERS + 1)
    ]
    path = folder / "capture.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path
