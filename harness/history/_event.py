"""An Event read back from a journal, its payload decoded when it is first read.

A payload decoded is several times its JSON text (a 1.8 kB Stripe event: 7.8 kB of dicts and
strings), and judging reads few of them: the default invariants none but the payloads of
events out of order, the redaction only those whose text names a secret-looking key. A loaded
run keeps each payload as the text the journal stores until something reads ``payload``; then
it is decoded once and kept. Equal to the Event it stands for, and an Event in every other way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence

from ..core import _gc
from ..core._model import JSON, Event

# The slots of Event, set directly: its frozen __setattr__ refuses, as it should, everyone else.
_SLOT = {name: Event.__dict__[name] for name in Event.__slots__}
_PAYLOAD = _SLOT["payload"]


class JournalEvent(Event):
    """An Event whose payload is kept as JSON text until read (``payload_text``)."""

    __slots__ = ("_text",)

    @property
    def payload(self) -> JSON:
        try:
            return _PAYLOAD.__get__(self, JournalEvent)
        except AttributeError:  # not decoded yet
            value = json.loads(_TEXT.__get__(self, JournalEvent))
            _keep(self, value)
            return value

    @payload.setter
    def payload(self, value: JSON) -> None:  # Event's __init__ (``dataclasses.replace``)
        _PAYLOAD.__set__(self, value)

    def __eq__(self, other: object) -> bool:
        # Event's own __eq__ compares events of one class only: a loaded event equals the
        # Event it was written from.
        if not isinstance(other, Event):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in Event.__slots__)

    __hash__ = Event.__hash__


_TEXT = JournalEvent.__dict__["_text"]
_new = object.__new__
_set_id, _set_key, _set_seq = _SLOT["id"].__set__, _SLOT["key"].__set__, _SLOT["seq"].__set__
_set_type, _set_at = _SLOT["type"].__set__, _SLOT["occurred_at"].__set__
_set_headers, _set_text = _SLOT["headers"].__set__, _TEXT.__set__


def journal_event(
    id: str,
    key: str,
    seq: int,
    type: str,
    occurred_at: float,
    payload: str,
    headers: Mapping[str, str],
) -> JournalEvent:
    """The event of a journal row, ``payload`` its JSON text."""
    event: JournalEvent = _new(JournalEvent)
    _set_id(event, id)
    _set_key(event, key)
    _set_seq(event, seq)
    _set_type(event, type)
    _set_at(event, occurred_at)
    _set_text(event, payload)
    _set_headers(event, headers)
    return event


PAYLOAD_CHUNK = 10_000
"""Payloads decoded in one call by ``decoded``."""


def decoded(texts: Sequence[str]) -> Iterator[list[JSON]]:
    """The JSON ``texts`` decoded PAYLOAD_CHUNK at a time, each chunk in one call (one string
    for each key it repeats): a call per text costs several times more. Collections stay paused
    while a chunk is decoded and until the next one is asked for: all its objects are alive,
    and a collection would walk every one of them. Consume it whole."""
    for start in range(0, len(texts), PAYLOAD_CHUNK):
        with _gc.paused():
            yield json.loads("[" + ",".join(texts[start : start + PAYLOAD_CHUNK]) + "]")


def decode_payloads(events: Iterable[Event]) -> None:
    """Decode the payloads of those loaded ``events`` not decoded yet, and keep them, a chunk
    at a time (``decoded``), as ``load()`` did before payloads were lazy. What reads many
    payloads calls this first."""
    pending = [e for e in events if isinstance(e, JournalEvent) and payload_text(e) is not None]
    texts = [_TEXT.__get__(e, JournalEvent) for e in pending]
    values = (value for chunk in decoded(texts) for value in chunk)
    for event, value in zip(pending, values, strict=True):
        if payload_text(event) is not None:  # not an event listed twice
            _keep(event, value)


def _keep(event: JournalEvent, value: JSON) -> None:
    """The payload decoded, kept in place of its text."""
    _PAYLOAD.__set__(event, value)
    _TEXT.__delete__(event)


def payload_text(event: Event) -> str | None:
    """The payload's JSON text while a loaded event has not decoded it; else None."""
    if isinstance(event, JournalEvent):
        try:
            _PAYLOAD.__get__(event, JournalEvent)
        except AttributeError:
            return str(_TEXT.__get__(event, JournalEvent))
    return None
