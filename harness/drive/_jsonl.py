"""Recorded events as JSON Lines, read one line at a time: a file of any size is validated with
flat memory, and every problem is refused with its line before anything is sent.

A line must be strict JSON (no NaN, Infinity or numbers too large for a double: a body with
them is not JSON a target can parse), UTF-8, one object, nested at most MAX_DEPTH levels and at
most ``HARNESS_MAX_LINE_BYTES`` bytes long (one event; the file itself has no size limit).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

from ..core._errors import SourceError
from ..core._model import JSON

MAX_DEPTH = 64  # levels of nesting in one event, and in a scenario file (_lines)
LINE_LIMIT_ENV = "HARNESS_MAX_LINE_BYTES"
DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024  # one event; real webhooks are a few KB
_BOM = b"\xef\xbb\xbf"
_GZIP = b"\x1f\x8b"
_LINES_HINT = 'each line is one JSON event object, like {"payload": {...}, "id": "evt_1"}'


def read_lines(path: Path) -> Generator[tuple[int, dict[str, Any]], None, None]:
    """The JSON objects of a JSONL file with their line numbers, one at a time; blank lines
    skipped. SourceError, naming the line, for the first line that is not a usable event."""
    limit = max_line_bytes(str(path))
    found = False
    with _opened(path) as f:
        lineno = 0
        while True:
            try:
                raw = f.readline(limit + 1)
            except OSError as exc:
                raise SourceError(f"cannot read the event file ({exc})", where=str(path)) from None
            if not raw:
                break
            lineno += 1
            where = f"{path}:{lineno}"
            if len(raw) > limit and not raw.endswith(b"\n"):
                raise SourceError(
                    f"the line is longer than {limit:,} bytes, the limit for one event",
                    where=where,
                    hint=f"is it one JSON document rather than JSON Lines? To read longer "
                    f"events, raise the limit with {LINE_LIMIT_ENV}={limit * 4}",
                )
            if lineno == 1 and raw.startswith(_GZIP):
                raise SourceError(
                    "the event file is gzip-compressed",
                    where=str(path),
                    hint=f"decompress it (gunzip -k {path.name}) and name the .jsonl file",
                )
            obj = _parsed(raw[len(_BOM) :] if lineno == 1 and raw.startswith(_BOM) else raw, where)
            if obj is not None:
                found = True
                yield lineno, obj
    if not found:
        raise SourceError(
            "the event file has no events (it is empty or holds only blank lines)",
            where=str(path),
            hint=_LINES_HINT,
        )


def payload_of(obj: dict[str, Any]) -> Any:
    """A line's payload: its ``payload`` member, or the line itself (a bare payload)."""
    return obj["payload"] if "payload" in obj else obj


def max_line_bytes(where: str) -> int:
    """The limit in force: HARNESS_MAX_LINE_BYTES if set (a positive integer), else 16 MiB."""
    return byte_limit(LINE_LIMIT_ENV, DEFAULT_MAX_LINE_BYTES, where)


def byte_limit(variable: str, default: int, where: str) -> int:
    """The size limit the environment ``variable`` sets (a positive integer), else ``default``."""
    text = os.environ.get(variable)
    if text is None:
        return default
    value = int(text) if text.strip().isdigit() else 0
    if value <= 0:
        raise SourceError(
            f"{variable}={text!r} is not a positive integer",
            where=where,
            hint=f"unset it for the default ({default:,} bytes) or give e.g. {default * 4}",
        )
    return value


class _opened:
    """The file opened for reading, or a SourceError that says why it cannot be."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> Any:
        try:
            self._file = self.path.open("rb")
        except FileNotFoundError:
            raise SourceError(
                "event file not found", where=str(self.path), hint="check source.recorded.file"
            ) from None
        except IsADirectoryError:
            raise SourceError(
                "the event file is a directory",
                where=str(self.path),
                hint="name a .jsonl file in source.recorded.file",
            ) from None
        except OSError as exc:
            raise SourceError(
                f"cannot read the event file ({exc.strerror})", where=str(self.path)
            ) from None
        return self._file

    def __exit__(self, *_: object) -> None:
        self._file.close()


def _parsed(raw: bytes, where: str) -> dict[str, Any] | None:
    """One line as an event object; None for a blank line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(
            f"not UTF-8: byte {raw[exc.start]:#04x} at column {exc.start + 1}",
            where=where,
            hint="save the file as UTF-8 (iconv -f latin1 -t utf-8 in.jsonl > out.jsonl)",
        ) from None
    if not text.strip():
        return None
    try:
        # Without its line end, so that a line cut short is told at its own last column.
        obj = json.loads(text.rstrip("\r\n"), parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise _too_deep(where, "far more than") from None
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"not JSON ({exc.msg} at column {exc.colno})", where=where, hint=_not_json_hint(text)
        ) from None
    except ValueError as exc:  # _no_constant, _finite
        raise SourceError(str(exc), where=where, hint="write a finite number, or null") from None
    if isinstance(obj, list):
        raise SourceError(
            "a JSON array, where JSON Lines holds one event object per line",
            where=where,
            hint="write one object per line, e.g. with jq -c '.[]' events.json > events.jsonl",
        )
    if not isinstance(obj, dict):
        raise SourceError(
            f"expected a JSON object, got {_kind(obj)} {text.strip()[:40]}",
            where=where,
            hint=_LINES_HINT,
        )
    if raw.count(b"{") + raw.count(b"[") > MAX_DEPTH and _deeper_than(obj, MAX_DEPTH):
        raise _too_deep(where, "more than")
    return obj


def _not_json_hint(text: str) -> str:
    head = text.strip()
    if head in ("[", "{") or head.endswith((",", "[", "{")):
        return "this looks like JSON spread over lines; JSON Lines holds one whole event per line"
    return _LINES_HINT


def _too_deep(where: str, how: str) -> SourceError:
    return SourceError(
        f"the event is nested {how} {MAX_DEPTH} levels deep",
        where=where,
        hint="real payloads nest a few levels; flatten this event or leave it out",
    )


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (a target's JSON parser refuses it)")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large for a JSON number (it would be sent as Infinity)")
    return value


def _kind(value: JSON) -> str:
    return {str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _deeper_than(value: JSON, limit: int) -> bool:
    """Whether ``value`` nests objects and lists more than ``limit`` levels (iteratively)."""
    level: list[Any] = [value]
    for _ in range(limit):
        level = [
            inner
            for node in level
            for inner in (node.values() if isinstance(node, dict) else node)
            if isinstance(inner, dict | list)
        ]
        if not level:
            return False
    return True
