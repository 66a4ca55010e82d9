"""Ids inside strings, made the run's own as the same ids standing alone in the payload.

The tracer makes an event's id and key tokens, renumbers the integers under id-named fields
and (for a recording) permutes its string ids — each where it stands alone. An id inside a
longer string (a Shopify order's ``gid://shopify/Order/5940139491234`` beside its ``id``, a
GitHub issue's ``html_url`` ending in its ``number``, a Stripe subscription's items ``url``
naming it) would otherwise go out as drawn or recorded: the same in every run while the id
itself is not, and naming another object than the id does. A receiver keying on that string
then meets a run's objects as its clean run's, and skips them: a false loss.

So every string keeps its text but for its ids: a digit run standing as a word — not part of a
time, a date, a decimal or a dotted address (no letter, digit or ``_`` beside it, no digit on
the far side of a ``.``, ``:``, ``-`` or ``+``) — that is an integer the payload renumbers takes
its new value; an id-like word (``_vary``'s rules: ``sub_1Pgc…``, a UUID, a 40-hex sha) that is
the event's id or key takes theirs; and in a recording every other id-like word is permuted as
``_own_ids`` permutes it whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._own_ids import OwnIds
from ._vary import ID_TOKEN, id_kind

_NUMBER = r"(?<![A-Za-z0-9_])(?<![0-9][.:+-])(?P<number>[0-9]+)(?![A-Za-z0-9_])(?![.:+-][0-9])"
_NUMBERS = re.compile(_NUMBER)
_INNER = re.compile(_NUMBER + "|" + ID_TOKEN.pattern)


def has_words(text: str) -> bool:
    """Does ``text`` hold an id-like word an ``Inner`` may rewrite, whatever the payload?"""
    return any(m.lastgroup != "digits" for m in ID_TOKEN.finditer(text))


def has_ids(text: str) -> bool:
    """Does ``text`` hold an id (``_vary.id_kind``) a recording's ``Inner`` permutes?"""
    return any(id_kind(m.group(0)) is not None for m in ID_TOKEN.finditer(text))


def runs(text: str) -> list[str]:
    """The digit runs of ``text`` that stand as words (module docstring)."""
    return _NUMBERS.findall(text)


def inner_words(text: str) -> set[str]:
    """What an ``Inner`` may rewrite in ``text``: its digit runs and id-like words."""
    return {m.group(0) for m in _INNER.finditer(text)} | set(_NUMBERS.findall(text))


class Inner:
    """One payload's ids inside strings: ``found`` maps an id's text to the run's (its
    renumbered integers, its event's id and key), ``words`` those of its keys that are not
    numbers; ``own``, a recording's, permutes every other id-like word as it does one whole
    (module docstring). ``found`` may grow after (the tracer's, as it meets the integers)."""

    def __init__(
        self, found: Mapping[str, str], words: tuple[str, ...], own: OwnIds | None = None
    ) -> None:
        self.found = found
        self._words = words
        self._own = own

    def __call__(self, text: str) -> str:
        """``text`` with the ids inside it the run's."""
        if self._own is None and not self.has_word(text):
            # Only numbers to look for (most strings): their runs found in C, and a string
            # with none of the payload's rewritten only then.
            if not self.any_number(runs(text)):
                return text
            return _NUMBERS.sub(self._new, text)
        return _INNER.sub(self._new, text)

    def any_number(self, found_runs: list[str]) -> bool:
        """Is one of ``found_runs`` an integer to rewrite?"""
        found = self.found
        for run in found_runs:
            if run in found:
                return True
        return False

    def has_word(self, text: str) -> bool:
        """Does ``text`` hold an id-like word to rewrite (the event's id or key), or may it?"""
        return self._own is not None or self.names_event(text)

    def names_event(self, text: str) -> bool:
        """Does ``text`` hold the event's id or key (as ``found`` has them)?"""
        for word in self._words:  # one or two
            if word in text:
                return True
        return False

    def _new(self, m: re.Match[str]) -> str:
        word = m.group(0)
        if m.group("number") is not None:
            return self.found.get(word, word)
        if m.lastgroup == "digits":  # a digit run in a time or a decimal: no id
            return word
        made = self.found.get(word)
        if made is not None:
            return made
        return self._own.string(word) if self._own is not None else word
