"""What every importer shares: the Record it yields, a whole JSON document read within a size
limit, headers as a provider sent them (signatures and credentials dropped), the provider and
the event's id, type and key read from a delivery's headers and body, and errors that name the
format and the record."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...core._errors import SourceError
from .._jsonl import MAX_DEPTH, _deeper_than, _finite, _no_constant, byte_limit, read_lines

DOCUMENT_LIMIT_ENV = "HARNESS_MAX_DOCUMENT_BYTES"
DEFAULT_MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
_ENVELOPE_LEVELS = 4

# Never replayed: a recorded signature is stale (each delivery is signed afresh with the test
# secret), a credential is not the harness's to send.
SIGNATURE_HEADERS = frozenset(
    {
        "stripe-signature",
        "x-hub-signature",
        "x-hub-signature-256",
        "x-shopify-hmac-sha256",
        "webhook-signature",
        "webhook-timestamp",
        "svix-signature",
        "svix-timestamp",
        "svix-id",
        "x-slack-signature",
        "x-slack-request-timestamp",
        "x-hubspot-signature",
        "x-hubspot-signature-v3",
        "x-hubspot-request-timestamp",
        "attio-signature",
        "x-attio-signature",
        "x-signature",
    }
)
CREDENTIAL_HEADERS = frozenset(
    {"authorization", "cookie", "proxy-authorization", "x-api-key", "set-cookie"}
)


@dataclass(frozen=True, slots=True)
class Record:
    """One delivery of a recorded file, as an event object of the JSONL format (``payload``
    and, where the format tells them, ``id``, ``key``, ``type``, ``headers``,
    ``occurred_at``). ``number``: its line (formats read a line at a time) or its position from
    1 (a JSON document); ``where``: how an error names it; ``provider``: the sender its headers
    or body show (a provider name of ``core._providers``), if any."""

    number: int
    where: str
    obj: dict[str, Any]
    provider: str | None = None


def fail(fmt: str, where: str, message: str, hint: str | None = None) -> SourceError:
    """A bad record: the format's name, the record and the field, what to do."""
    return SourceError(f"{fmt} format: {message}", where=where, hint=hint)


def named(fmt: str, exc: SourceError) -> SourceError:
    """``exc`` (from the JSON Lines reader) with the format's name in front of its message
    (plain JSON Lines, the format the reader's messages speak of, as it is)."""
    if fmt == "jsonl" or exc.message.startswith(f"{fmt} format:"):
        return exc
    return SourceError(f"{fmt} format: {exc.message}", where=exc.where, hint=exc.hint)


def lines(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """A JSON Lines file's objects, one at a time, errors naming the format."""
    try:
        yield from read_lines(path)
    except SourceError as exc:
        raise named(fmt, exc) from None


def document(path: Path, fmt: str, lines_hint: str) -> Any:
    """A whole JSON document (a HAR file, an API list response): it has to be read whole, so
    it may be at most HARNESS_MAX_DOCUMENT_BYTES (256 MiB by default) long."""
    limit = byte_limit(DOCUMENT_LIMIT_ENV, DEFAULT_MAX_DOCUMENT_BYTES, str(path))
    try:
        size = path.stat().st_size
        if size > limit:
            raise fail(
                fmt,
                str(path),
                f"the file is {size:,} bytes, more than the {limit:,} a JSON document is read "
                "whole within",
                f"raise the limit with {DOCUMENT_LIMIT_ENV}={size * 2}, or convert it to JSON "
                f"Lines, which is read a line at a time ({lines_hint})",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise fail(fmt, str(path), f"cannot read the file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise fail(fmt, str(path), f"not UTF-8 (byte {exc.start:,})", "save it as UTF-8") from None
    try:
        found = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise fail(fmt, str(path), "the document is nested too deep") from None
    except json.JSONDecodeError as exc:
        raise fail(
            fmt, f"{path}:{exc.lineno}", f"not JSON ({exc.msg} at column {exc.colno})"
        ) from None
    except ValueError as exc:
        raise fail(fmt, str(path), str(exc)) from None
    # Each record's payload sits a few levels into the document (log.entries[i].request...).
    return _checked_depth(fmt, str(path), found, text, MAX_DEPTH + _ENVELOPE_LEVELS)


def _checked_depth(fmt: str, where: str, value: Any, text: str, levels: int) -> Any:
    """``value`` (parsed from ``text``) nested at most ``levels`` deep; counting brackets first
    keeps the walk for the rare value that might be."""
    if text.count("{") + text.count("[") > levels and _deeper_than(value, levels):
        raise fail(fmt, where, f"a payload is nested more than {MAX_DEPTH} levels deep")
    return value


def body_json(fmt: str, where: str, text: str) -> Any:
    """A request body (text, as the sender signed it) as the JSON payload to replay."""
    try:
        payload = json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError):
        head = text.strip()[:40]
        raise fail(
            fmt,
            where,
            f"the body is not JSON ({head!r}): the harness replays JSON webhook bodies",
            "leave out requests whose body is a form or binary, or pick the webhook's own requests",
        ) from None
    if not isinstance(payload, dict | list):
        raise fail(fmt, where, f"the body {text.strip()[:40]!r} is not a JSON object or array")
    return _checked_depth(fmt, where, payload, text, MAX_DEPTH)


def replayable(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers worth replaying: without signatures, credentials and HTTP/2 pseudo-headers
    (``:path``: the request line, not a header)."""
    return {
        k: v
        for k, v in headers.items()
        if k.lower() not in SIGNATURE_HEADERS
        and k.lower() not in CREDENTIAL_HEADERS
        and not k.startswith(":")
    }


def header_map(fmt: str, where: str, value: Any) -> dict[str, str]:
    """A recorded ``headers`` object (name → value) checked to be one."""
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise fail(
            fmt,
            where,
            f"headers must be an object of strings, got {json.dumps(value)[:60]}",
            'write them like {"Content-Type": "application/json"}',
        )
    return dict(value)


_PROVIDER_HEADERS = (
    ("stripe-signature", "stripe"),
    ("x-github-event", "github"),
    ("x-hub-signature-256", "github"),
    ("x-shopify-topic", "shopify"),
    ("x-shopify-hmac-sha256", "shopify"),
    ("x-slack-signature", "slack"),
    ("x-hubspot-signature-v3", "hubspot"),
    ("attio-signature", "attio"),
    ("webhook-id", "standard-webhooks"),
    ("svix-id", "standard-webhooks"),
)


def provider_of(headers: Mapping[str, str], payload: Any) -> str | None:
    """The sender a delivery's headers (or, for Stripe, its body) show."""
    lower = {k.lower() for k in headers}
    for marker, name in _PROVIDER_HEADERS:
        if marker in lower:
            return name
    if isinstance(payload, dict) and payload.get("object") == "event":
        return "stripe"
    return None


def identified(headers: Mapping[str, str], payload: Any) -> dict[str, Any]:
    """The event's id, type and key as its provider's headers and body give them (only those
    found): what a delivery captured off the wire is about."""
    h = {k.lower(): v for k, v in headers.items()}
    body = payload if isinstance(payload, dict) else {}
    found: dict[str, Any] = {}
    provider = provider_of(headers, payload)
    if provider == "github":
        found["id"] = h.get("x-github-delivery")
        found["type"] = h.get("x-github-event")
    elif provider == "shopify":
        found["id"] = h.get("x-shopify-webhook-id") or h.get("x-shopify-event-id")
        found["type"] = h.get("x-shopify-topic")
        found["key"] = body.get("id")
    elif provider == "standard-webhooks":
        found["id"] = h.get("webhook-id") or h.get("svix-id")
    elif provider == "stripe":
        data = body.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if isinstance(obj, dict):
            found["key"] = obj.get("id")
    if found.get("id") is None and isinstance(body.get("id"), str | int):
        found["id"] = body["id"]
    if found.get("type") is None and isinstance(body.get("type"), str):
        found["type"] = body["type"]
    return {k: v for k, v in found.items() if isinstance(v, str | int) and v != ""}


def export_records(
    path: Path,
    doc: Any | None,
    fmt: str,
    convert: Callable[[str, int, Any], Record],
    listed: str | None,
    what: str,
) -> Iterator[Record]:
    """A provider export's records: one a line (``doc`` None, read a line at a time), or the
    list a JSON document holds under ``listed`` (the document itself when None), replayed
    oldest first whatever order the API listed them in."""
    if doc is None:
        for number, obj in lines(path, fmt):
            yield convert(f"{path}:{number}", number, obj)
        return
    items = doc if listed is None else member(fmt, str(path), doc, listed, list, what)
    if not isinstance(items, list):
        raise fail(fmt, str(path), f"expected a JSON array of {what}")
    made = [convert(f"{path}: {listed or ''}[{i}]", i + 1, obj) for i, obj in enumerate(items)]
    yield from sorted(made, key=lambda r: r.obj["occurred_at"])


def member(fmt: str, where: str, obj: Any, name: str, kinds: Any, what: str) -> Any:
    """``obj[name]``, which must be of ``kinds``; an error naming the field otherwise."""
    value = obj.get(name) if isinstance(obj, dict) else None
    if not isinstance(value, kinds) or isinstance(value, bool):
        shown = "missing" if value is None else f"{json.dumps(value)[:40]}"
        raise fail(fmt, f"{where}: {name}", f"{name} is {shown}, expected {what}")
    return value
