"""``format: stripe``: Stripe event objects — an API list response (``GET /v1/events``,
``stripe events list``: ``{"object": "list", "data": [...]}``, read whole, newest first as
Stripe lists them: replayed oldest first), or one event object a line (``jq -c '.data[]'``),
read a line at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import Record, export_records, fail, member

NAME = "stripe"
TIME_PATH = "$.created"  # what ``event`` replays an event by, in the payload it sends
TO_LINES = "jq -c '.data | reverse | .[]' events.json > events.jsonl"


def records(path: Path, doc: Any | None) -> Iterator[Record]:
    if doc is not None and (not isinstance(doc, dict) or doc.get("object") != "list"):
        raise fail(
            NAME,
            str(path),
            'expected a list response {"object": "list", "data": [...]}',
            "save the output of GET /v1/events or stripe events list",
        )
    return export_records(path, doc, NAME, event, "data", "event objects")


def event(where: str, number: int, obj: Any) -> Record:
    if not isinstance(obj, dict) or obj.get("object") != "event":
        raise fail(NAME, f"{where}: object", 'not a Stripe event object ("object": "event")')
    member(NAME, where, obj, "id", str, 'the event id, like "evt_1Pgc..."')
    member(NAME, where, obj, "type", str, 'the event type, like "invoice.paid"')
    member(NAME, where, obj, "created", int, "Unix seconds")
    data = member(NAME, where, obj, "data", dict, "an object holding object")
    found = member(NAME, f"{where}: data", data, "object", dict, "the object the event is about")
    out = {
        "id": obj["id"],
        "type": obj["type"],
        "occurred_at": obj["created"],  # TIME_PATH
        "payload": obj,
    }
    if isinstance(found.get("id"), str):
        out["key"] = found["id"]
    return Record(number, where, out, "stripe")
