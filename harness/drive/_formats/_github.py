"""``format: github``: GitHub webhook deliveries — the "Get a delivery" API's objects
(``{"guid", "event", "delivered_at", "redelivery", "request": {"headers", "payload"}}``), as a
JSON array (read whole) or one a line (read a line at a time); or a folder of example payloads
laid out as ``@octokit/webhooks-examples`` lays them out (``<event>/<action>.payload.json``).
A delivery's ``guid`` is its ``X-GitHub-Delivery``: redeliveries share it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import (
    Record,
    document,
    export_records,
    fail,
    header_map,
    member,
    replayable,
)

NAME = "github"
TO_LINES = "jq -c '.[]' deliveries.json > deliveries.jsonl"
_SUMMARY_HINT = (
    "List deliveries gives summaries only; fetch each one with Get a delivery "
    "(gh api repos/OWNER/REPO/hooks/HOOK_ID/deliveries/DELIVERY_ID)"
)


def records(path: Path, doc: Any | None) -> Iterator[Record]:
    if path.is_dir():
        return examples(path)
    return export_records(path, doc, NAME, delivery, None, "deliveries")


def delivery(where: str, number: int, obj: Any) -> Record:
    if not isinstance(obj, dict):
        raise fail(NAME, where, "a delivery must be an object")
    member(NAME, where, obj, "guid", str, "the delivery's GUID (its X-GitHub-Delivery)")
    member(NAME, where, obj, "event", str, 'the event name, like "issues"')
    member(NAME, where, obj, "delivered_at", str, "an ISO 8601 time")
    if not isinstance(obj.get("request"), dict):
        raise fail(NAME, f"{where}: request", "request is missing", _SUMMARY_HINT)
    request = obj["request"]
    headers = header_map(NAME, f"{where}: request.headers", request.get("headers", {}))
    payload = request.get("payload")
    if not isinstance(payload, dict | list):
        raise fail(NAME, f"{where}: request.payload", "payload is missing or not a JSON object")
    out = {
        "id": obj["guid"],
        "type": obj["event"],
        "occurred_at": obj["delivered_at"],
        "headers": replayable(headers),
        "payload": payload,
    }
    return Record(number, where, out, NAME)


def examples(folder: Path) -> Iterator[Record]:
    """Every ``<event>/<name>.payload.json`` under ``folder``, in path order: one event each,
    of the folder's event, its id the file's path (no delivery id exists for an example)."""
    found = sorted(folder.rglob("*.payload.json"))
    if not found:
        raise fail(
            NAME,
            str(folder),
            "the folder holds no *.payload.json file",
            "name the payload-examples/api.github.com folder of @octokit/webhooks-examples, "
            "or a folder of <event>/<action>.payload.json files",
        )
    for number, path in enumerate(found, 1):
        payload = document(path, NAME, "")
        where = str(path)
        if not isinstance(payload, dict):
            raise fail(NAME, where, "an example payload must be a JSON object")
        name = path.name.removesuffix(".payload.json")
        out = {
            "id": f"{path.parent.name}.{name}",
            "type": path.parent.name,
            "payload": payload,
        }
        yield Record(number, where, out, NAME)
