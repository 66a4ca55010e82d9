"""Importers: a recorded file in any supported format as Records — event objects of the JSON
Lines format, each with where it came from (docs/recording.md).

``format:`` names the format (``github`` for a folder of example payloads), or it is detected:
a ``.har`` file is a HAR; otherwise the first line tells — one whole JSON object on it is a
format read a line at a time (a capture, GitHub deliveries, Svix messages, Stripe events,
Hookdeck events, or plain JSONL events); a ``.jsonl`` file is JSON Lines whatever its first
line holds (its reader says what is wrong there); else the file is one JSON document, read
whole (a HAR, a Stripe, Svix or Hookdeck list response, a JSON array of events or of GitHub
deliveries).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ...core._model import JSON
from ...core._scenario import RecordedSource
from .._jsonl import payload_of, read_lines
from . import _capture, _github, _har, _hookdeck, _shared, _stripe, _svix
from ._common import Record, document, fail, provider_of

FORMATS = ("jsonl", "json", "capture", "har", "stripe", "github", "svix", "hookdeck")
# Provider exports: read a line at a time, or as one JSON document (how to make it lines).
_EXPORTS: dict[str, tuple[Callable[[Path, Any], Iterator[Record]], str]] = {
    "stripe": (_stripe.records, _stripe.TO_LINES),
    "github": (_github.records, _github.TO_LINES),
    "svix": (_svix.records, _svix.TO_LINES),
    "hookdeck": (_hookdeck.records, _hookdeck.TO_LINES),
}
_HAR_TO_CAPTURE = (
    "as a capture: jq -c '.log.entries[] | select(.request.postData) | {received_at: "
    '.startedDateTime, method: .request.method, path: "/hooks/…", headers: ([.request.headers[]'
    ' | select(.name | startswith(":") | not) | {(.name): .value}] | add), body: '
    ".request.postData.text}' traffic.har > capture.jsonl, then format: capture"
)
_ARRAY_TO_LINES = "jq -c '.[]' events.json > events.jsonl"
_PEEK_BYTES = 1 << 20
_LINES_SUFFIXES = frozenset({".jsonl", ".ndjson", ".jsonlines"})
_ENVELOPES = (
    (re.compile(r'^\{\s*"log"\s*:\s*\{'), "har"),
    (re.compile(r'^\{\s*"object"\s*:\s*"list"'), "stripe"),
    (re.compile(r'^\{\s*"(?:pagination|count|models)"\s*:'), "hookdeck"),
    (re.compile(r'^\{\s*"data"\s*:\s*\[\s*\{[^{]*"eventType"'), "svix"),
)
_GITHUB_DELIVERY = re.compile(r'^\[\s*\{[^{]*"guid"\s*:')


def records(spec: RecordedSource) -> Iterator[Record]:
    """Every delivery of ``spec``'s file, in replay order; SourceError names the format and
    the first bad record, or says the file holds none."""
    fmt = spec.format or detect(spec.path)
    if fmt == "jsonl":  # the common case, kept lean: its reader refuses an empty file itself
        where = str(spec.path)
        return (Record(n, f"{where}:{n}", obj) for n, obj in read_lines(spec.path))
    return _nonempty(spec, fmt)


def time_path(spec: RecordedSource) -> str | None:
    """Where each payload of ``spec``'s file holds the time its reader replays it by, where a
    path does (Stripe's event objects: ``$.created``, ``_stripe.TIME_PATH``); None for the
    formats whose times are the envelope's or the line's own."""
    fmt = spec.format or detect(spec.path)
    return _stripe.TIME_PATH if fmt == _stripe.NAME else None


def _nonempty(spec: RecordedSource, fmt: str) -> Iterator[Record]:
    found = False
    for record in _read(spec, fmt):
        found = True
        yield record
    if not found:
        raise fail(fmt, str(spec.path), "the file holds no deliveries (an empty list?)")


def _read(spec: RecordedSource, fmt: str) -> Iterator[Record]:
    path = spec.path
    if fmt == "capture":
        return _capture.records(path)
    if fmt == "github" and path.is_dir():
        return _github.records(path, None)
    if fmt in _EXPORTS and _one_per_line(path):  # read a line at a time: never kept whole
        return _EXPORTS[fmt][0](path, None)
    return _shared.records(path, (fmt, spec.har_url, spec.har_path), lambda: _whole(spec, fmt))


def _whole(spec: RecordedSource, fmt: str) -> Iterator[Record]:
    """The records of a file that is one JSON document, read whole."""
    path = spec.path
    if fmt == "har":
        doc = document(path, "har", _HAR_TO_CAPTURE)
        return _har.records(path, doc, spec.har_url, spec.har_path)
    if fmt == "json":
        return _array(path, document(path, "json", _ARRAY_TO_LINES))
    reader, to_lines = _EXPORTS[fmt]
    return reader(path, document(path, fmt, to_lines))


class RecordPayloads:
    """Every record's payload with its number, read from the file again each time they are
    iterated: what a Sample checks a recorded file's paths against, in flat memory where the
    format is read a line at a time."""

    def __init__(self, spec: RecordedSource):
        self.spec = spec
        self._count: int | None = None

    def __iter__(self) -> Iterator[tuple[int, JSON]]:
        return ((r.number, payload_of(r.obj)) for r in records(self.spec))

    def __len__(self) -> int:
        if self._count is None:
            self._count = sum(1 for _ in records(self.spec))
        return self._count


def har_paths(path: Path) -> Counter[str]:
    """The paths a HAR file's requests with a body went to, with how many went to each
    (``_har.webhook_paths``)."""
    return _har.webhook_paths(path, document(path, "har", _HAR_TO_CAPTURE))


def provider(spec: RecordedSource) -> str | None:
    """The sender the file's first delivery shows (its headers, or a Stripe event body)."""
    record = first(spec)
    return record.provider or provider_of(record.obj.get("headers", {}), payload_of(record.obj))


def first(spec: RecordedSource) -> Record:
    """The file's first delivery (a file without one is refused by its reader)."""
    found = iter(records(spec))
    try:
        return next(found)
    finally:
        close = getattr(found, "close", None)
        if close is not None:
            close()


def detect(path: Path) -> str:
    """The format of the file at ``path`` (see the module's docstring)."""
    suffix = path.suffix.lower()
    if suffix == ".har":
        return "har"
    first = _first_object(path)
    if first is not None and _envelope(first) is None:
        return _line_format(first)
    if (suffix in _LINES_SUFFIXES or path.is_dir()) and first is None:
        return "jsonl"  # its reader says what is wrong with the first line
    return _document_format(path)


def recognised(path: Path) -> str | None:
    """The recording format ``path`` is plainly in — a ``.jsonl``/``.har`` file, a provider's
    export or a capture, told by its name or its first bytes without reading it whole — or
    None (an example payload, a JSON array, a file that cannot be read)."""
    suffix = path.suffix.lower()
    if suffix == ".har":
        return "har"
    first = _first_object(path)
    if first is not None and _envelope(first) is None:
        fmt = _line_format(first)
        return fmt if fmt != "jsonl" or suffix in _LINES_SUFFIXES else None
    if suffix in _LINES_SUFFIXES:
        return "jsonl"
    head = _head(path).lstrip(b"\xef\xbb\xbf \t\r\n").decode("utf-8", "replace")
    if first is not None:
        return _envelope(first)
    if _GITHUB_DELIVERY.search(head):
        return "github"
    return next((fmt for pattern, fmt in _ENVELOPES if pattern.search(head)), None)


def _line_format(obj: dict[str, Any]) -> str:
    if "received_at" in obj and "method" in obj and ("body" in obj or "body_base64" in obj):
        return "capture"
    if "guid" in obj and "request" in obj:
        return "github"
    if "eventType" in obj and "payload" in obj:
        return "svix"
    if obj.get("object") == "event" and "payload" not in obj:
        return "stripe"
    data = obj.get("data")
    if isinstance(data, dict) and "headers" in data and "body" in data and "payload" not in obj:
        return "hookdeck"
    return "jsonl"


def _document_format(path: Path) -> str:
    head = _head(path).lstrip(b"\xef\xbb\xbf \t\r\n").decode("utf-8", "replace")
    if head.startswith("["):
        return "github" if _GITHUB_DELIVERY.search(head) else "json"
    if not head.startswith("{"):
        return "jsonl"  # its reader says what is wrong with the first line
    # The envelope's own members come first in each API's answer: known without reading it all
    # (a file over the size limit is then refused by its own format's reader).
    for pattern, fmt in _ENVELOPES:
        if pattern.search(head):
            return fmt
    found = document(path, "json", _ARRAY_TO_LINES)
    known = _envelope(found) if isinstance(found, dict) else None
    if known is not None:
        return known
    raise fail(
        "json",
        str(path),
        "one JSON document of no known format",
        f"name its format with format: under source.recorded (one of {', '.join(FORMATS)})",
    )


def _envelope(doc: dict[str, Any]) -> str | None:
    """The format of a JSON document holding a list of deliveries, if it is one."""
    if isinstance(doc.get("log"), dict):
        return "har"
    if doc.get("object") == "list":
        return "stripe"
    if isinstance(doc.get("models"), list):
        return "hookdeck"
    if isinstance(doc.get("data"), list) and ("done" in doc or "iterator" in doc):
        return "svix"
    return None


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            return f.read(_PEEK_BYTES)
    except OSError:
        return b""  # the reader says why the file cannot be read


def _first_object(path: Path) -> dict[str, Any] | None:
    """The first line as a JSON object, when it holds one whole: a file read a line at a time
    (a first line longer than _PEEK_BYTES is taken for a document's)."""
    try:
        with path.open("rb") as f:
            for raw in iter(lambda: f.readline(_PEEK_BYTES), b""):
                text = raw.decode("utf-8", "replace").lstrip("\ufeff").strip()
                if not text:
                    continue
                obj = json.loads(text)
                return obj if isinstance(obj, dict) else None
    except (OSError, ValueError, RecursionError):
        return None
    return None


def _one_per_line(path: Path) -> bool:
    first = _first_object(path)
    return first is not None and _envelope(first) is None


def _array(path: Path, doc: Any) -> Iterator[Record]:
    """A JSON array of event objects (or bare payloads), as JSON Lines would hold them."""
    if not isinstance(doc, list):
        raise fail("json", str(path), "expected a JSON array of events", _ARRAY_TO_LINES)
    for i, obj in enumerate(doc):
        where = f"{path}: [{i}]"
        if not isinstance(obj, dict):
            raise fail("json", where, "an event must be a JSON object")
        yield Record(i + 1, where, obj, None)


__all__ = [
    "FORMATS",
    "Record",
    "RecordPayloads",
    "detect",
    "first",
    "provider",
    "recognised",
    "records",
]
