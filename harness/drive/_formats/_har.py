"""``format: har``: an HTTP Archive (HAR 1.2, ``{"log": {"entries": [...]}}``) as a browser,
a proxy (mitmproxy, Charles) or a tunnel (ngrok) saves it, read whole. The requests to the
webhook's URL or path (``har: {path: /hooks/stripe}``) are the deliveries: headers kept
(HTTP/2 pseudo-headers, signatures and credentials dropped), ``postData.text`` the body,
base64 bodies (``"encoding": "base64"``) decoded, ``startedDateTime`` the time."""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ._common import Record, body_json, fail, identified, member, provider_of, replayable

NAME = "har"
_BODIED = frozenset({"POST", "PUT", "PATCH"})


def records(path: Path, doc: Any, url: str | None, at_path: str | None) -> Iterator[Record]:
    log = doc.get("log") if isinstance(doc, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise fail(NAME, str(path), 'expected {"log": {"entries": [...]}} (HAR 1.2)')
    chosen = [(i, e) for i, e in enumerate(entries) if _wanted(path, i, e, url, at_path)]
    if not chosen:
        raise fail(
            NAME,
            str(path),
            f"no request with a body goes to {url or at_path or 'any URL'} "
            f"({len(entries)} entries)",
            _paths_hint(entries),
        )
    if url is None and at_path is None:
        targets = Counter(_path_of(e) for _, e in chosen)
        if len(targets) > 1:
            raise fail(
                NAME,
                str(path),
                f"requests go to {len(targets)} paths; say which are the webhook's",
                _paths_hint(entries),
            )
    for number, (i, entry) in enumerate(chosen, 1):
        yield _delivery(f"{path}: log.entries[{i}]", number, entry)


def webhook_paths(path: Path, doc: Any) -> Counter[str]:
    """The paths the HAR ``doc`` (read from ``path``) sent requests with a body to, with how
    many went to each: where its webhook's deliveries may be."""
    log = doc.get("log") if isinstance(doc, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        return Counter()  # records() says what is wrong with it
    return Counter(_path_of(e) for i, e in enumerate(entries) if _wanted(path, i, e, None, None))


def _wanted(path: Path, i: int, entry: Any, url: str | None, at_path: str | None) -> bool:
    where = f"{path}: log.entries[{i}]"
    request = member(NAME, where, entry, "request", dict, "the request object")
    member(NAME, f"{where}.request", request, "url", str, "the request URL")
    member(NAME, f"{where}.request", request, "method", str, 'the method, like "POST"')
    if request["method"].upper() not in _BODIED or not isinstance(request.get("postData"), dict):
        return False
    if url is not None:
        return str(request["url"]).split("?", 1)[0] == url.split("?", 1)[0]
    return at_path is None or _path_of(entry) == at_path


def _path_of(entry: dict[str, Any]) -> str:
    return urlsplit(entry["request"]["url"]).path or "/"


def _paths_hint(entries: list[Any]) -> str:
    seen = Counter(
        f"{e['request'].get('method')} {_path_of(e)}"
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("request"), dict)
        and isinstance(e["request"].get("url"), str)
    )
    if not seen:
        return (
            "record the webhook's deliveries with their bodies (a browser's or a proxy's "
            "network panel, then Export HAR), or `harness record` them (docs/recording.md)"
        )
    listed = ", ".join(f"{p} ({n})" for p, n in seen.most_common(5))
    return (
        "pick one with `har: {path: /hooks/...}` beside the recorded file (harness init and "
        f"harness run --events take --target's path); found {listed}"
    )


def _delivery(where: str, number: int, entry: dict[str, Any]) -> Record:
    request = entry["request"]
    member(NAME, where, entry, "startedDateTime", str, "an ISO 8601 time")
    pairs = member(NAME, f"{where}.request", request, "headers", list, "a list of name/value")
    headers: dict[str, str] = {}
    for j, pair in enumerate(pairs):
        name = pair.get("name") if isinstance(pair, dict) else None
        value = pair.get("value") if isinstance(pair, dict) else None
        if not isinstance(name, str) or not isinstance(value, str):
            raise fail(
                NAME,
                f"{where}.request.headers[{j}]",
                'a header must be {"name": "...", "value": "..."}',
            )
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    post = request["postData"]
    text = post.get("text")
    if not isinstance(text, str):
        raise fail(NAME, f"{where}.request.postData.text", "the request has no body text")
    if (post.get("encoding") or post.get("_encoding")) == "base64":
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            raise fail(
                NAME, f"{where}.request.postData.text", "is not base64 of a UTF-8 body"
            ) from None
    payload = body_json(NAME, f"{where}.request.postData.text", text)
    out = {
        **identified(headers, payload),
        "occurred_at": entry["startedDateTime"],
        "headers": replayable(headers),
        "payload": payload,
    }
    return Record(number, where, out, provider_of(headers, payload))
