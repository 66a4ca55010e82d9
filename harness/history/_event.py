"""Payloads of a loaded run decoded many at a time (``decode_payloads``), for what reads many:
a loaded event (``core._text_event.TextEvent``) otherwise decodes its own when first read."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence

from ..core import _gc
from ..core._model import JSON, Event
from ..core._text_event import TextEvent, keep_payload, payload_text

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
    held = ((e, payload_text(e)) for e in events if isinstance(e, TextEvent))
    pending = [(e, text) for e, text in held if text is not None]  # one read of each text
    texts = [text for _, text in pending]
    values = (value for chunk in decoded(texts) for value in chunk)
    for (event, _), value in zip(pending, values, strict=True):
        if payload_text(event) is not None:  # not an event listed twice
            keep_payload(event, value)
