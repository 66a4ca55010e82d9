"""Texts the automation made from what it was sent, different between a run and its baseline:
a hash of an email (Mailchimp's member id is the md5 of the address, and the tracer's tag in the
address makes it another in each run), a time it stamped, an id of its own. Nothing maps one
run's such text to the other's, so a difference between them shows nothing about the record's
state: ``final_state_matches_baseline`` does not compare it, and counts and says it instead.

A text is taken as made when it holds a digit (words such as ``active`` or ``PUT`` are the
automation's vocabulary, and compared), does not hold the tracer's tag, is none of the texts
the events of either run carried (ids, keys, payload values, whole numbers as text too;
without case: an automation may lower an email), and appears nowhere in the other run's final
state nor in anything it wrote (a value a record could take in either run is compared: a stale
overwrite's value — a plan code or a time the automation derived from an older event — was
written by the baseline too, when it applied that event). A text of several parts (a path,
``PUT /members/1f3a…``) is compared part by part, the same shape in both: only parts the
automation made may differ. Numbers are always compared (a run's amounts are its baseline's).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..core._model import Event
from ._facts import plural

_PARTS = re.compile(r"[/\s?&=]+")

Normal = Callable[[Any], Any]


class Made:
    """What both runs' events carried, as either run writes it (``normal`` of each run), and
    the texts of each run's final state and of its writes, read once when first asked; and the
    fields left out because both runs' values there were made."""

    def __init__(
        self,
        runs: Iterable[tuple[Iterable[Event], Normal]],
        states: tuple[Iterable[Any], Iterable[Any]],
        neutral_tag: str,
        written: tuple[tuple[Iterable[Any], Normal], tuple[Iterable[Any], Normal]],
    ) -> None:
        self._runs = list(runs)
        self._states = states
        self._written = written  # each run's writes (requests and bodies), and its normal
        self._tag = neutral_tag
        self._known: tuple[set[str], set[str], set[str]] | None = None
        self.left_out: Counter[str] = Counter()  # field -> records it was left out of

    def texts(self, mine: Any, theirs: Any) -> bool:
        """Whether ``mine`` and ``theirs`` (normalised, different) differ only where the
        automation made them."""
        if not (isinstance(mine, str) and isinstance(theirs, str)):
            return False
        a, b = _PARTS.split(mine), _PARTS.split(theirs)
        if len(a) != len(b) or _PARTS.findall(mine) != _PARTS.findall(theirs):
            return False
        sent, my_texts, their_texts = self._read()
        return all(
            x == y or (self._made(x, sent, their_texts) and self._made(y, sent, my_texts))
            for x, y in zip(a, b, strict=True)
        )

    def count(self, fields: Iterable[str]) -> None:
        """A record's ``fields`` were left out: its values there were made in both runs."""
        self.left_out.update(fields)

    def note(self) -> str:
        """``; not compared: id in 40 records — …``, or "" when nothing was left out."""
        if not self.left_out:
            return ""
        fields = ", ".join(
            f"{name or '$'} in {plural(n, 'record')}" for name, n in self.left_out.most_common(4)
        )
        more = len(self.left_out) - 4
        if more > 0:
            fields += f" and {plural(more, 'more field')}"
        return (
            f"; not compared: {fields} — texts in no event of either run, nor in anything the "
            "other run wrote or ended on, made by the automation from what it was sent (a hash, a "
            "time it stamped, an id of its own), which nothing maps from one run to the other"
        )

    def _made(self, text: str, sent: set[str], other: set[str]) -> bool:
        return (
            any(c.isdigit() for c in text)
            and self._tag not in text
            and text.lower() not in sent
            and text not in other
        )

    def _read(self) -> tuple[set[str], set[str], set[str]]:
        # Each distinct text is normalised and split once, not each event's payload rebuilt:
        # a run's events and writes repeat most of their texts (a path, a status, a plan).
        if self._known is None:
            sent: set[str] = set()
            for events, normal in self._runs:
                raw = {t for event in events for t in _texts(_leaves(event), numbers=True)}
                texts = {t for t in raw if isinstance(t, str)}
                sent.update(normal(t).lower() for t in _with_parts(texts))
                sent.update(str(normal(n)) for n in raw if type(n) is int)
            mine, theirs = (
                _with_parts(_texts(list(state)))
                | {normal(t) for t in _with_parts(_texts(list(written)))}
                for state, (written, normal) in zip(self._states, self._written, strict=True)
            )
            self._known = (sent, mine, theirs)
        return self._known


def _leaves(event: Event) -> list[Any]:
    return [event.id, event.key, event.payload]


def _texts(value: Any, numbers: bool = False) -> Iterator[Any]:
    """Every text in ``value``; and, with ``numbers``, every whole number (an event's id held
    as a number, written into a path as text, is the event's, not the automation's making)."""
    stack: list[Any] = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            yield value
        elif numbers and type(value) is int:
            yield value


def _with_parts(texts: Iterable[str]) -> set[str]:
    """The distinct ``texts``, and each part of those of several."""
    out = set(texts)
    for text in [t for t in out if _PARTS.search(t)]:
        out.update(_PARTS.split(text))
    return out
