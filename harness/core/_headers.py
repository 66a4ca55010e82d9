"""Headers kept as the JSON text a journal stores them in, decoded only when read."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

from ._errors import DAMAGED_HINT, InputError


class LazyHeaders(Mapping[str, str]):
    """Headers kept as the JSON object text the journal stores, decoded on first read.

    Judging reads an effect's headers rarely (the Idempotency-Key of repeated requests), so a
    loaded run holds a million short strings instead of a million small dicts. Read-only, and
    equal to any mapping with the same items, as the dict it stands for would be.
    """

    __slots__ = ("_decoded", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._decoded: dict[str, str] | None = None

    def _dict(self) -> dict[str, str]:
        if self._decoded is None:
            self._decoded = _object_of_texts(self.text)
        return self._decoded

    def __getitem__(self, name: str) -> str:
        return self._dict()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict())

    def __len__(self) -> int:
        return len(self._dict())

    def __contains__(self, name: object) -> bool:
        return name in self._dict()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyHeaders) and other.text == self.text:
            return True
        return self._dict() == other if isinstance(other, Mapping) else NotImplemented

    def header(self, name: str) -> str | None:
        """The value of the first header named ``name`` in any case, as ``Effect.header`` reads
        it; found absent from the text alone when it is (most effects carry no
        Idempotency-Key), without decoding it."""
        if named_nowhere(self.text, name):
            return None
        lname = name.lower()
        for k, v in self._dict().items():
            if k.lower() == lname:
                return v
        return None

    def __repr__(self) -> str:
        return f"LazyHeaders({self._dict()!r})"


def named_nowhere(text: str, name: str) -> bool:
    """Whether the JSON object ``text`` surely holds no header called ``name`` in any case: no
    escape could spell the name, and no spelling of it is there."""
    return "\\" not in text and name.lower() not in text.lower()


def _object_of_texts(text: str) -> dict[str, str]:
    """The headers a journal's text holds; InputError when it holds no object of texts (a
    journal another program changed: its chunks say where each value ends, not that it is
    one)."""
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):
        found = None
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise InputError(
            f"damaged journal: headers are not a JSON object of texts: {text[:60]!r}",
            hint=DAMAGED_HINT,
        )
    return found
