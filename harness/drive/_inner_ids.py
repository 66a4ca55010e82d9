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
from ._vary import ID_TOKEN

_NUMBER = r"(?<![A-Za-z0-9_])(?<![0-9][.:+-])(?P<number>[0-9]+)(?![A-Za-z0-9_])(?![.:+-][0-9])"
_NUMBERS = re.compile(_NUMBER)
_INNER = re.compile(_NUMBER + "|" + ID_TOKEN.pattern)


def has_inner(text: str) -> bool:
    """Does ``text`` hold anything an ``Inner`` may rewrite (a digit run or an id-like word)?"""
    return _INNER.search(text) is not None


def runs(text: str) -> list[str]:
    """The digit runs of ``text`` that stand as words (module docstring)."""
    return _NUMBERS.findall(text)


def inner_words(text: str) -> set[str]:
    """What an ``Inner`` may rewrite in ``text``: its digit runs and id-like words."""
    return {m.group(0) for m in _INNER.finditer(text)} | set(_NUMBERS.findall(text))


class Inner:
    """One payload's ids inside strings: ``found`` maps an id's text to the run's (its
    renumbered integers, its event's id and key); ``own``, a recording's, permutes every other
    id-like word as it does one whole (module docstring)."""

    def __init__(self, found: Mapping[str, str], own: OwnIds | None = None) -> None:
        self.found = found
        self._own = own
        self.numbers = frozenset(k for k in found if k.isdigit())
        self._words = tuple(k for k in found if not k.isdigit())

    def __call__(self, text: str) -> str:
        """``text`` with the ids inside it the run's."""
        if self._own is None and not self.has_word(text):
            # Only numbers to look for (most strings): their runs found in C, and a string
            # with none of the payload's rewritten only then.
            if not self.numbers or self.numbers.isdisjoint(runs(text)):
                return text
            return _NUMBERS.sub(self._new, text)
        return _INNER.sub(self._new, text)

    def has_word(self, text: str) -> bool:
        """Does ``text`` hold an id-like word to rewrite (the event's id or key), or may it?"""
        if self._own is not None:
            return True
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
