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

# A digit run standing as a word. Its first digit is matched before the look behind it (the
# same runs as ``(?<![A-Za-z0-9_])(?<![0-9][.:+-])[0-9]+…``): a pattern that starts with a
# character class lets the regex engine skip to the digits, 2-3x faster in a string with few.
_NUMBER = (
    r"(?P<number>[0-9](?<![A-Za-z0-9_][0-9])(?<![0-9][.:+-][0-9])[0-9]*)"
    r"(?![A-Za-z0-9_])(?![.:+-][0-9])"
)
_NUMBERS = re.compile(_NUMBER)
_DIGIT = re.compile(r"[0-9]")
_HEX_LETTERS = re.compile(r"[a-fA-F][a-fA-F]{7}")  # a class first: the engine skips to it
_INNER = re.compile(_NUMBER + "|" + ID_TOKEN.pattern)


def idless(text: str) -> bool:
    """Does ``text`` hold neither a digit nor 8 hex letters in a row? Then it holds no digit
    run and no id (``_vary.id_kind``: a prefixed or capitalised id has a digit, a UUID or a hex
    one 8 hex digits in a row): an ``Inner`` rewrites no word of it but the event's id or key.
    (Two searches the regex engine skips through, against the id pattern at each character.)"""
    return _DIGIT.search(text) is None and _HEX_LETTERS.search(text) is None


def runs(text: str) -> list[str]:
    """The digit runs of ``text`` that stand as words (module docstring)."""
    return _NUMBERS.findall(text)


def inner_words(text: str) -> tuple[frozenset[str], tuple[str, ...]]:
    """What an ``Inner`` may rewrite in ``text`` (its digit runs and id-like words), and its
    digit runs (``runs``): one pass where it holds no id-like word (most strings hold none)."""
    words: set[str] = set()
    numbers: list[str] = []
    alone = True  # no word found that may hold a digit run of its own (a UUID's "-1234-")
    for m in _INNER.finditer(text):
        word = m.group(0)
        if m.lastgroup == "number":
            numbers.append(word)
        elif m.lastgroup == "digits" and word.isascii():  # in a time or a decimal: kept
            continue
        else:
            alone = False
        words.add(word)
    if not alone:
        numbers = _NUMBERS.findall(text)
        words.update(numbers)
    return frozenset(words), tuple(numbers)


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
        if self._own is None:
            if not self.holds(text):  # no id to rewrite in it (most strings): no regex
                return text
            if not self.names_event(text):  # only numbers to look for: their runs
                return _NUMBERS.sub(self._new, text)
        return _INNER.sub(self._new, text)

    def holds(self, text: str) -> bool:
        """Does ``text`` hold one of the ids ``found`` rewrites, standing as a word or not?
        (Where it holds none, no word of it is rewritten: a test of a few ``in``.)"""
        for old in self.found:
            if old in text:
                return True
        return False

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
