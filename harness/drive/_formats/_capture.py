"""``format: capture``: what ``harness record`` writes, one delivery a line —
``{"received_at", "method", "path", "query"?, "headers", "body" | "body_base64", "response"?}``
(docs/recording.md). Read a line at a time: a capture of any size in flat memory."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ._common import (
    Record,
    body_json,
    fail,
    header_map,
    identified,
    lines,
    member,
    provider_of,
    replayable,
)

NAME = "capture"


def records(path: Path) -> Iterator[Record]:
    for number, obj in lines(path, NAME):
        yield delivery(NAME, f"{path}:{number}", number, obj)


def delivery(fmt: str, where: str, number: int, obj: dict[str, Any]) -> Record:
    """One captured request as a Record (shared with Hookdeck, whose requests look alike)."""
    member(fmt, where, obj, "received_at", str, "an ISO 8601 time")
    member(fmt, where, obj, "method", str, 'the request method, like "POST"')
    headers = header_map(fmt, f"{where}: headers", obj.get("headers"))
    payload = body_json(fmt, f"{where}: body", text_of(fmt, where, obj))
    event = {
        **identified(headers, payload),
        "occurred_at": obj["received_at"],
        "headers": replayable(headers),
        "payload": payload,
    }
    return Record(number, where, event, provider_of(headers, payload))


def text_of(fmt: str, where: str, obj: dict[str, Any]) -> str:
    """The body as text: ``body``, or ``body_base64`` decoded."""
    if isinstance(obj.get("body"), str):
        return str(obj["body"])
    encoded = obj.get("body_base64")
    if not isinstance(encoded, str):
        raise fail(
            fmt,
            f"{where}: body",
            "body is missing: a captured delivery holds its body as text (body) or base64 "
            "(body_base64)",
        )
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise fail(fmt, f"{where}: body_base64", "is not base64 of a UTF-8 body") from None
