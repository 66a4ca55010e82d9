"""A batch of a streamed run's events, made as columns (``_synthetic_text.laid_batches``).

A synthetic source writes its events' payloads as text, a batch at a time. Handed on as an
Event each (a TextEvent, then a Slot, a Planned and a body each in the Feed), a batch's events
cost about 3 µs each before a value of theirs was written; the tracer then parsed each one's
key back out of the token it had just made. An EventBatch is the batch as it was made: its
ids, keys, types, times and texts as lists, and, where the tracer's tokens made its ids and
keys (``Tokens.ids_of``), what each token is made of (``KeyTokens``), which the tracer's
columns take as they are (``EventColumns.extend_tokens``). An Event is made only where one is
asked for (``event``, ``events``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import NamedTuple

from ..core._build import builder
from ..core._model import Event
from ..core._text_event import payload_json, text_event

_light = builder(Event)
_NO_HEADERS: Mapping[str, str] = {}


class KeyTokens(NamedTuple):
    """What a batch's tracer tokens are made of (``Tokens.ids_of``): each id's prefix before
    its token (``{prefix}{tag}e{seq}``), each key's before its own (``{prefix}{tag}k{n}``),
    and each key's record number ``n``."""

    id_prefixes: list[str]
    key_prefixes: list[str]
    key_numbers: list[int]


@dataclass(frozen=True, slots=True)
class EventBatch:
    """Events ``start``, ``start + 1``, ... of a run, traced, as columns: each one's id, key,
    type, time, payload as ``json.dumps`` writes it (``texts``) and as the provider lays it
    out (``laid``; None: its body is ``Provider.body`` of its text). ``headers``: each one's
    own (None: none has any). ``tokens``: how its ids and keys are tokens, where the tracer
    made them as columns (None: read back from each one)."""

    start: int
    ids: list[str]
    keys: list[str]
    types: list[str]
    ats: list[float]
    texts: list[str]
    laid: Sequence[str | None]
    headers: list[Mapping[str, str]] | None = None
    tokens: KeyTokens | None = None

    @classmethod
    def of(cls, made: Sequence[tuple[Event, str | None]]) -> EventBatch:
        """The batch of events made one at a time, each with its laid-out text (None: none)."""
        events = [ev for ev, _ in made]
        return cls(
            events[0].seq if events else 0,
            [ev.id for ev in events],
            [ev.key for ev in events],
            [ev.type for ev in events],
            [ev.occurred_at for ev in events],
            [payload_json(ev) for ev in events],
            [laid for _, laid in made],
            [ev.headers for ev in events],
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def seqs(self) -> range:
        return range(self.start, self.start + len(self.ids))

    def event(self, n: int) -> Event:
        """The ``n``-th event of the batch, without its payload (what a journal row and the
        tracer's columns hold)."""
        headers = self.headers[n] if self.headers is not None else _NO_HEADERS
        return _light(
            self.ids[n], self.keys[n], self.start + n, self.types[n], self.ats[n], None, headers
        )

    def events(self, first: int = 0, end: int | None = None) -> list[Event]:
        """Events ``first`` to ``end - 1`` of the batch (all of them), with their payloads
        (their texts)."""
        headers = self.headers or [_NO_HEADERS] * len(self)
        made = zip(
            self.seqs, self.ids, self.keys, self.types, self.ats, self.texts, headers, strict=True
        )
        return [
            text_event(i, k, seq, kind, at, text, own)
            for seq, i, k, kind, at, text, own in islice(made, first, end)
        ]
