"""The lines of a recorded JSONL file as Events, each checked as the run will send it.

An id, key or type is a string or an integer, one line of at most MAX_ID_CHARS (ids go into
headers: ``webhook-id``); a payload is an object or an array; headers are one-line strings under
valid names, and the ones that describe a recorded request's framing or connection
(NOT_REPLAYED: Content-Length, Transfer-Encoding, Host, ...) are dropped — the harness frames its
own request, and a recorded ``Content-Length: 999`` would make the target wait for bytes that
never come. ``occurred_at`` is on every line or on none (a file mixing the two would mix Unix
times with line numbers).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from math import isfinite
from typing import Any

from ..core import _paths
from ..core._errors import SourceError
from ..core._model import Event
from ..core._scenario import RecordedSource
from . import _formats
from ._jsonl import payload_of

MAX_ID_CHARS = 1000
MAX_HEADER_CHARS = 8192  # characters of a header value; servers commonly refuse longer lines
NOT_REPLAYED = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "expect",
        "host",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Line:
    """One line as an Event (``occurred_at``: its index, until spaced), with its number and
    its recorded time (None: the line has no occurred_at)."""

    number: int
    event: Event
    at: float | None


@dataclass(frozen=True, slots=True)
class Survey:
    """What a recorded file holds, read once in flat memory: how many lines, and how long
    replaying them takes in scenario seconds (``span``) between which lines (``ends``), spaced
    ``how``."""

    lines: int
    span: float
    ends: tuple[int, int]
    how: str


def lines(spec: RecordedSource) -> Iterator[Line]:
    """Every line of ``spec``'s file as an Event, checked; the source's paths must resolve in
    every line (``_sources._check_paths``). SourceError names the first bad line."""
    id_steps = _paths.parse(spec.id_path) if spec.id_path else None
    key_steps = _paths.parse(spec.key_path) if spec.key_path else None
    type_steps = _paths.parse(spec.type_path) if spec.type_path else None
    timed: int | None = None
    untimed: int | None = None
    for seq, record in enumerate(_formats.records(spec)):
        number = record.number
        line = _line(seq, number, record.obj, record.where, id_steps, key_steps, type_steps)
        if line.at is None:
            untimed = untimed or number
        else:
            timed = timed or number
        if timed and untimed and spec.over is None:
            raise SourceError(
                f"line {timed} has an occurred_at and line {untimed} has none: the lines' "
                "times cannot be told",
                where=f"{spec.path}:{max(timed, untimed)}",
                hint="give occurred_at on every line or on none, or spread the lines evenly "
                "with over: under source.recorded (e.g. over: 60s)",
            )
        yield line


def survey(spec: RecordedSource) -> Survey:
    """Read every line as the run will (``lines``), keeping only counts and times."""
    count = 0
    earliest = latest = (0, 0.0)
    timed = False
    for line in lines(spec):
        count += 1
        timed = line.at is not None
        at = line.at if line.at is not None else float(line.event.seq)  # 1 s apart
        if count == 1 or at < earliest[1]:
            earliest = (line.number, at)
        if count == 1 or at > latest[1]:
            latest = (line.number, at)
    ends = (earliest[0], latest[0])
    if spec.over is not None:
        return Survey(count, spec.over, ends, "spread evenly over source.recorded.over")
    how = "at their recorded times" if timed else "1 s apart (no line has an occurred_at)"
    return Survey(count, latest[1] - earliest[1], ends, how)


def _line(
    seq: int,
    number: int,
    obj: dict[str, Any],
    where: str,
    id_steps: tuple[_paths.Step, ...] | None,
    key_steps: tuple[_paths.Step, ...] | None,
    type_steps: tuple[_paths.Step, ...] | None,
) -> Line:
    wrapped = "payload" in obj
    payload = payload_of(obj)
    if not isinstance(payload, dict | list):
        raise SourceError(
            f"payload {payload!r:.40} is not a JSON object or array: it cannot be a webhook body",
            where=f"{where}: payload",
            hint='write the body the sender posts, e.g. {"payload": {"id": "evt_1", ...}}',
        )

    def pick(steps: tuple[_paths.Step, ...] | None, member: str, default: Any) -> Any:
        if steps is not None:
            return _paths.get(payload, steps, None)
        return obj.get(member, default)  # the event object, or the bare payload itself

    event_id = _name(pick(id_steps, "id", f"evt_{seq + 1:06d}"), "id", where)
    key = _name(pick(key_steps, "key", event_id), "key", where)
    etype = _name(pick(type_steps, "type", "event"), "type", where)
    headers = _headers(obj.get("headers", {}) if wrapped else {}, f"{where}: headers")
    at = _timestamp(obj.get("occurred_at") if wrapped else None, where)
    return Line(number, Event(event_id, key, seq, etype, float(seq), payload, headers), at)


def _name(value: Any, what: str, where: str) -> str:
    """An id, key or type as text: a string or an integer, one short line."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        shown = "null" if value is None else f"{value!r:.40}"
        raise SourceError(
            f"{what} {shown} is not a string or an integer",
            where=f"{where}: {what}",
            hint=f'give every line {"an" if what == "id" else "a"} {what} like "evt_1" or 42, '
            f"or point the source's {what} path at one",
        )
    text = str(value)
    problem = (
        "is empty"
        if not text
        else "holds a control character (line break, tab, NUL)"
        if _CONTROL.search(text)
        else f"is longer than {MAX_ID_CHARS:,} characters"
        if len(text) > MAX_ID_CHARS
        else None
    )
    if problem is not None:
        raise SourceError(
            f"{what} {text!r:.60} {problem}: it is sent in headers and shown in reports",
            where=f"{where}: {what}",
            hint=f"give {'an' if what == 'id' else 'a'} {what} of printable characters",
        )
    return text


def _headers(value: Any, where: str) -> Mapping[str, str]:
    """A line's headers, checked, without those the harness never replays (NOT_REPLAYED)."""
    if not isinstance(value, dict):
        raise SourceError(
            f"headers must be an object of strings, got {value!r:.60}",
            where=where,
            hint='write them like {"X-Shop-Domain": "shop.example"}',
        )
    kept: dict[str, str] = {}
    for name, text in value.items():
        if not HEADER_NAME.fullmatch(name):
            raise SourceError(
                f"{name!r} is not an HTTP header name (no spaces, ':' or other separators)",
                where=where,
            )
        if not isinstance(text, str) or _CONTROL_BUT_TAB.search(text):
            raise SourceError(
                f"{name}: {text!r:.60} is not a one-line string",
                where=where,
                hint="a header value is text without line breaks or NUL",
            )
        if len(text) > MAX_HEADER_CHARS:
            raise SourceError(
                f"{name}: the value is longer than {MAX_HEADER_CHARS:,} characters", where=where
            )
        if name.lower() not in NOT_REPLAYED:
            kept[name] = text
    return kept


def under_own(recorded: Mapping[str, str], own: Mapping[str, str]) -> dict[str, str]:
    """The headers of a delivery: the harness's own (content type, signature...) and the
    recorded ones they do not set — compared without case, so a recorded ``stripe-signature``
    is never sent beside the fresh ``Stripe-Signature``."""
    if not recorded:
        return dict(own)
    names = {name.lower() for name in own}
    return {**{k: v for k, v in recorded.items() if k.lower() not in names}, **own}


def _timestamp(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except (ValueError, OverflowError):
            pass
    raise SourceError(
        f"occurred_at {value!r:.40} is neither ISO 8601 nor Unix seconds",
        where=f"{where}: occurred_at",
        hint='write it like "2026-03-01T12:00:00Z" or 1772366400',
    )
