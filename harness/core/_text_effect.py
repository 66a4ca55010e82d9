"""An Effect whose headers are the journal's JSON text until read: a loaded run's effects.

A ``LazyHeaders`` for each of a million effects is 48 MB and a third of a second of
``load()``, and judging reads few effects' headers (the Idempotency-Key of repeated requests,
found absent from the text without decoding it); the redaction searches the texts
(``headers_held``). Read once, the headers are a ``LazyHeaders``, kept in the text's place.
Equal to the Effect it stands for, and an Effect in every other way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from ._build import builder
from ._headers import LazyHeaders, named_nowhere
from ._model import Effect

_HEADERS = Effect.__dict__["headers"]  # Effect's slot: its frozen __setattr__ refuses others


class TextEffect(Effect):
    """An Effect whose headers slot holds their JSON text until they are read."""

    __slots__ = ()

    @property
    def headers(self) -> Mapping[str, str]:
        held = _HEADERS.__get__(self, TextEffect)
        if isinstance(held, str):
            held = LazyHeaders(held)
            _HEADERS.__set__(self, held)
        headers: Mapping[str, str] = held
        return headers

    @headers.setter
    def headers(self, value: Mapping[str, str]) -> None:  # Effect's __init__ (``replace``)
        _HEADERS.__set__(self, value)

    def header(self, name: str) -> str | None:
        held = _HEADERS.__get__(self, TextEffect)
        if isinstance(held, str) and named_nowhere(held, name):
            return None
        return Effect.header(self, name)

    def __eq__(self, other: object) -> bool:
        # Effect's own __eq__ compares effects of one class only: a loaded effect equals the
        # Effect it was written from.
        if not isinstance(other, Effect):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in Effect.__slots__)

    __hash__ = Effect.__hash__


def headers_held(effects: Iterable[Effect]) -> list[Mapping[str, str] | str]:
    """Each effect's headers as it holds them, a TextEffect's JSON text until they are read:
    in one pass, by C code (a million effects' redaction)."""
    return list(map(_HEADERS.__get__, effects))


_effect = builder(Effect)
_text_effect = builder(Effect, TextEffect)


def naming(effect: Effect, event_ids: tuple[str, ...], key: str | None = None) -> Effect:
    """``effect`` naming ``event_ids`` (and the record ``key``, where given): a copy, its headers
    as it holds them (a loaded effect's JSON text stays unread), at a fraction of
    ``dataclasses.replace``'s cost — a run may have a million effects to copy."""
    kind = type(effect)
    record = effect.key if key is None else key
    if kind is not Effect and kind is not TextEffect:
        return replace(effect, event_ids=event_ids, key=record)
    make = _text_effect if kind is TextEffect else _effect
    e = effect
    held = _HEADERS.__get__(e, Effect)
    return make(e.id, e.downstream, e.at, e.method, e.path, held, e.body, e.status, event_ids,
                record, e.committed)  # fmt: skip
