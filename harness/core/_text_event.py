"""An Event whose payload is JSON text until it is read: decoded then, once, and kept.

A payload decoded is several times its JSON text (a 1.8 kB Stripe event: 7.8 kB of dicts and
strings), and few are read as objects. A run loaded from a journal keeps each payload as the
text the journal stores (``history._load``): judging reads few of them — the default
invariants none but the payloads of events out of order, the redaction only those whose text
names a secret-looking key. A synthetic source's events are written as text in the first place
(``drive._synthetic_text``): their bodies and journal rows are that text.
Equal to the Event it stands for, and an Event in every other way.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from ._errors import DAMAGED_HINT, InputError
from ._model import JSON, Event

# The slots of Event, set directly: its frozen __setattr__ refuses, as it should, everyone else.
_SLOT = {name: Event.__dict__[name] for name in Event.__slots__}
_PAYLOAD = _SLOT["payload"]


class TextEvent(Event):
    """An Event whose payload is kept as JSON text until read (``payload_text``)."""

    __slots__ = ("_text",)

    @property
    def payload(self) -> JSON:
        try:
            return _PAYLOAD.__get__(self, TextEvent)
        except AttributeError:  # not decoded yet
            pass
        try:
            text = _TEXT.__get__(self, TextEvent)
        except AttributeError:  # decoded by another thread since
            return _PAYLOAD.__get__(self, TextEvent)
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):  # a journal another program changed
            raise InputError(
                f"damaged journal: the payload of event {self.id!r} is not JSON: {text[:60]!r}",
                hint=DAMAGED_HINT,
            ) from None
        keep_payload(self, value)
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

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled (Locust hands the prepared run to its recorder) and copied as its text: a
        # dataclass's own state would decode the payload and carry it as objects, several
        # times the text's size.
        return text_event, (
            self.id,
            self.key,
            self.seq,
            self.type,
            self.occurred_at,
            payload_json(self),
            self.headers,
        )


_TEXT = TextEvent.__dict__["_text"]
_new = object.__new__
_set_id, _set_key, _set_seq = _SLOT["id"].__set__, _SLOT["key"].__set__, _SLOT["seq"].__set__
_set_type, _set_at = _SLOT["type"].__set__, _SLOT["occurred_at"].__set__
_set_headers, _set_text = _SLOT["headers"].__set__, _TEXT.__set__


def text_event(
    id: str,
    key: str,
    seq: int,
    type: str,
    occurred_at: float,
    payload: str,
    headers: Mapping[str, str],
) -> TextEvent:
    """An event whose payload is the JSON text ``payload``."""
    event: TextEvent = _new(TextEvent)
    _set_id(event, id)
    _set_key(event, key)
    _set_seq(event, seq)
    _set_type(event, type)
    _set_at(event, occurred_at)
    _set_text(event, payload)
    _set_headers(event, headers)
    return event


def as_text(event: Event) -> TextEvent:
    """``event`` holding its payload as the text ``json.dumps`` writes of it (``payload_json``):
    a traced event's body and journal row are that text, written once."""
    if isinstance(event, TextEvent):
        return event
    return text_event(
        event.id,
        event.key,
        event.seq,
        event.type,
        event.occurred_at,
        json.dumps(event.payload),
        event.headers,
    )


def keep_payload(event: TextEvent, value: JSON) -> None:
    """The payload decoded, kept in place of its text (which another thread decoding it at
    the same moment may have let go already)."""
    _PAYLOAD.__set__(event, value)
    try:
        _TEXT.__delete__(event)
    except AttributeError:
        pass


def payload_text(event: Event) -> str | None:
    """The payload's JSON text while ``event`` (a TextEvent) holds it; else None.

    The text is let go just after the payload decoded from it is kept (``keep_payload``):
    while it is held, it is the payload."""
    text: str | None = getattr(event, "_text", None)
    return text


def payload_texts(events: Iterable[Event]) -> list[str | None]:
    """``payload_text`` of each of ``events``, read in one pass: a call for each of a run's
    500,000 cost its redaction a tenth of a second more."""
    return [getattr(event, "_text", None) for event in events]


def payload_json(event: Event) -> str:
    """``event``'s payload as ``json.dumps`` writes it: a TextEvent's own text while it holds
    it (no decode, no encode)."""
    text = payload_text(event)
    return json.dumps(event.payload) if text is None else text


def read_payload(event: Event) -> JSON:
    """``event``'s payload for one read: a TextEvent's text decoded without being kept, so
    that what reads every payload once (an index over a run's events) holds them as text."""
    text = payload_text(event)
    return event.payload if text is None else json.loads(text)
