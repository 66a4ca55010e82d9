"""A streamed run's payload-less events, held as columns.

A streamed run keeps a payload-less copy of every event it made: what attribution, settling
and the learned expectation read (``engine/_feed``). As objects — the Event, its id string,
its time, an index by id — that cost about 200 bytes an event, the most of a million-event
run's memory. Here an event is its type and record as small numbers, its time as a double,
its id and its record's key as the run's tracer tokens (``{prefix}{tag}e{seq}``,
``{prefix}{tag}k{n}``, ``_tracer.Tokens``) — so it needs no string of its own, and is found by
id by reading the seq back out of the token: about 22 bytes an event, however many records.
An Event is made when one is read.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator, Mapping, Sequence
from typing import overload

from ..core._build import builder
from ..core._model import Event
from ._event_batch import KeyTokens

_light = builder(Event)
_NO_HEADERS: Mapping[str, str] = {}


class EventColumns(Sequence[Event]):
    """The payload-less events of the run tagged ``tag``, in seq order (each event's seq is its
    position, as every source's is). Ids and keys not of the token's shape are kept as they
    are."""

    def __init__(self, tag: str) -> None:
        self._tag = tag
        self._token = re.compile(re.escape(tag) + r"e(\d+)\Z")
        self._at = array("d")
        self._type = array("H")  # index in _types
        self._key = array("q")  # the record's number in its key token (-1: not a token)
        self._key_form = array("H")  # index in _forms: the key's prefix before its token
        self._form = array("H")  # index in _forms: the id's prefix before its token
        self._types: list[str] = []
        self._type_codes: dict[str, int] = {}
        self._key_mark = f"{tag}k"  # before a key token's number
        self._odd_keys: dict[int, str] = {}  # keys not of the token's shape, by seq
        self._forms: list[str] = []
        self._form_codes: dict[str, int] = {}
        self._odd: dict[int, str] = {}  # ids not of the token's shape, by seq
        self._odd_seq: dict[str, int] = {}

    def append(self, ev: Event) -> int:
        """One more event, the next seq; the number of its key's token (-1: none)."""
        return self.extend((ev,))[0]

    def extend(self, events: Sequence[Event]) -> list[int]:
        """More events, the next seqs; the number of each one's key's token (-1: none)."""
        start = len(self._at)
        seqs = range(start, start + len(events))
        for seq, ev in zip(seqs, events, strict=True):
            if ev.seq != seq:
                raise ValueError(f"event {ev.id} has seq {ev.seq}, expected {seq}")
        ids = [ev.id for ev in events]
        # Each id a token of this run (``{prefix}{tag}e{seq}``), or kept as it is. A batch's
        # ids share their prefix: checked against the first's at once.
        tag, head = self._tag, ""
        if ids and ids[0].endswith(token := f"{tag}e{start}"):
            head = ids[0][: -len(token)]
        if ids and ids == [f"{head}{tag}e{seq}" for seq in seqs]:
            forms = [head] * len(ids)
        else:
            forms = [self._id_form(seq, event_id) for seq, event_id in zip(seqs, ids, strict=True)]
        # The key's token (``{prefix}{tag}k{n}``, ``n`` as ``str`` writes it) ends it, or the
        # key is kept as it is.
        numbers: list[int] = []
        key_forms: list[str] = []
        mark = self._key_mark
        for seq, ev in zip(seqs, events, strict=True):
            key = ev.key
            prefix, found, digits = key.rpartition(mark)
            number = int(digits) if found and digits.isdecimal() else -1
            if number < 0 or str(number) != digits:
                number, prefix = -1, ""
                self._odd_keys[seq] = key
            numbers.append(number)
            key_forms.append(prefix)
        self._form.fromlist(_codes(self._forms, self._form_codes, forms))
        self._type.fromlist(_codes(self._types, self._type_codes, [ev.type for ev in events]))
        self._key.fromlist(numbers)
        self._key_form.fromlist(_codes(self._forms, self._form_codes, key_forms))
        self._at.fromlist([ev.occurred_at for ev in events])
        return numbers

    def extend_tokens(
        self, start: int, tokens: KeyTokens, types: list[str], ats: list[float]
    ) -> None:
        """More events, seqs ``start``, ``start + 1``, ..., their ids and keys this run's
        tokens made of ``tokens`` (``Tokens.ids_of``): taken as they are, not read back."""
        if start != len(self._at):
            raise ValueError(f"events from seq {start} given, expected {len(self._at)}")
        # ``fromlist``: ``extend`` of a list took an item at a time, 50-100 ns each (5x).
        self._form.fromlist(_codes(self._forms, self._form_codes, tokens.id_prefixes))
        self._type.fromlist(_codes(self._types, self._type_codes, types))
        self._key.fromlist(tokens.key_numbers)
        self._key_form.fromlist(_codes(self._forms, self._form_codes, tokens.key_prefixes))
        self._at.fromlist(ats)

    def _id_form(self, seq: int, event_id: str) -> str:
        """The prefix before the token ``event_id`` ends with; "" for an id kept as it is."""
        token = f"{self._tag}e{seq}"
        if event_id.endswith(token):
            return event_id[: -len(token)]
        self._odd[seq] = event_id  # kept as it is: not a token of this run
        self._odd_seq[event_id] = seq
        return ""

    def __len__(self) -> int:
        return len(self._at)

    @overload
    def __getitem__(self, i: int) -> Event: ...

    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...

    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        if isinstance(i, slice):
            return [self._event(n) for n in range(*i.indices(len(self)))]
        n = i + len(self) if i < 0 else i
        if not 0 <= n < len(self):
            raise IndexError(i)
        return self._event(n)

    def __iter__(self) -> Iterator[Event]:
        for n in range(len(self)):
            yield self._event(n)

    def subset(self, seqs: Sequence[int]) -> Sequence[Event]:
        """The events at ``seqs``, made as they are read, not held."""
        return _Subset(self, seqs)

    def find(self, event_id: str) -> Event | None:
        """The event whose id is ``event_id``, or None."""
        m = self._token.search(event_id)
        if m is not None:
            seq = int(m.group(1))
            if seq < len(self) and self._id(seq) == event_id:
                return self._event(seq)
        seq_ = self._odd_seq.get(event_id)
        return None if seq_ is None else self._event(seq_)

    def _id(self, seq: int) -> str:
        odd = self._odd.get(seq) if self._odd else None
        return odd if odd is not None else f"{self._forms[self._form[seq]]}{self._tag}e{seq}"

    def _record(self, seq: int) -> str:
        number = self._key[seq]
        if number < 0:
            return self._odd_keys[seq]
        return f"{self._forms[self._key_form[seq]]}{self._tag}k{number}"

    def _event(self, seq: int) -> Event:
        return _light(
            self._id(seq),
            self._record(seq),
            seq,
            self._types[self._type[seq]],
            self._at[seq],
            None,
            _NO_HEADERS,
        )


class _Subset(Sequence[Event]):
    """Some events of an EventColumns, by seq: each made when it is read."""

    def __init__(self, columns: EventColumns, seqs: Sequence[int]) -> None:
        self._columns = columns
        self._seqs = seqs

    def __len__(self) -> int:
        return len(self._seqs)

    @overload
    def __getitem__(self, i: int) -> Event: ...

    @overload
    def __getitem__(self, i: slice) -> list[Event]: ...

    def __getitem__(self, i: int | slice) -> Event | list[Event]:
        if isinstance(i, slice):
            return [self._columns[n] for n in self._seqs[i]]
        return self._columns[self._seqs[i]]

    def __iter__(self) -> Iterator[Event]:
        columns = self._columns
        for n in self._seqs:
            yield columns[n]


def _codes(values: list[str], codes: dict[str, int], made: list[str]) -> list[int]:
    """The code of each of ``made``, each new one coded (in the order they are met)."""
    for value in dict.fromkeys(made):  # a batch's few distinct values
        if value not in codes:
            codes[value] = len(values)
            values.append(value)
    return list(map(codes.__getitem__, made))
