"""``format: hookdeck``: Hookdeck events or requests — an API list response (``{"models":
[...], "pagination", "count"}``, read whole, newest first: replayed oldest first) or one a
line, read a line at a time. Each holds the request as received (``data: {headers, body,
path}``; list with ``include=data``); its id and type come from the provider's headers and body
where they show them, else Hookdeck's own id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import (
    Record,
    body_json,
    export_records,
    fail,
    header_map,
    identified,
    member,
    provider_of,
    replayable,
)

NAME = "hookdeck"
TO_LINES = "jq -c '.models | reverse | .[]' events.json > events.jsonl"


def records(path: Path, doc: Any | None) -> Iterator[Record]:
    return export_records(path, doc, NAME, model, "models", "events or requests")


def model(where: str, number: int, obj: Any) -> Record:
    if not isinstance(obj, dict):
        raise fail(NAME, where, "an event or request must be an object")
    member(NAME, where, obj, "id", str, 'Hookdeck\'s id, like "evt_…" or "req_…"')
    at = obj.get("ingested_at") or obj.get("created_at")
    if not isinstance(at, str):
        raise fail(NAME, f"{where}: created_at", "created_at is missing: an ISO 8601 time")
    data = obj.get("data")
    if not isinstance(data, dict):
        raise fail(
            NAME,
            f"{where}: data",
            "data is missing: the request's headers and body",
            "list the events or requests with include=data",
        )
    headers = header_map(NAME, f"{where}: data.headers", data.get("headers", {}))
    payload = data.get("body")
    if isinstance(payload, str):
        payload = body_json(NAME, f"{where}: data.body", payload)
    if not isinstance(payload, dict | list):
        raise fail(NAME, f"{where}: data.body", "the body is missing or not JSON")
    out = {
        "id": obj["id"],
        **identified(headers, payload),
        "occurred_at": at,
        "headers": replayable(headers),
        "payload": payload,
    }
    return Record(number, where, out, provider_of(headers, payload))
