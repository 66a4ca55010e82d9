"""``format: svix``: Svix messages — a "List messages" response (``{"data": [...],
"iterator", "done"}``, read whole, newest first: replayed oldest first) or one message a line,
read a line at a time. A message: ``{"id": "msg_…", "eventType", "payload", "timestamp"}``;
its ``id`` is what Svix sends as ``webhook-id``/``svix-id``, so it is the event's id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import Record, export_records, fail, member

NAME = "svix"
TO_LINES = "jq -c '.data | reverse | .[]' messages.json > messages.jsonl"


def records(path: Path, doc: Any | None) -> Iterator[Record]:
    return export_records(path, doc, NAME, message, "data", "messages")


def message(where: str, number: int, obj: Any) -> Record:
    if not isinstance(obj, dict):
        raise fail(NAME, where, "a message must be an object")
    member(NAME, where, obj, "id", str, 'the message id, like "msg_2a..."')
    member(NAME, where, obj, "eventType", str, 'the event type, like "invoice.paid"')
    member(NAME, where, obj, "timestamp", str, "an ISO 8601 time")
    payload = obj.get("payload")
    if not isinstance(payload, dict | list):
        raise fail(
            NAME,
            f"{where}: payload",
            "payload is missing or not JSON: list the messages with their content",
            "add with_content=true to the List messages request",
        )
    out = {
        "id": obj["id"],
        "type": obj["eventType"],
        "occurred_at": obj["timestamp"],
        "payload": payload,
    }
    return Record(number, where, out, "standard-webhooks")
