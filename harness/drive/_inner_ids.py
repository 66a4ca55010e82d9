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
the far side of a ``.``, ``:`` or ``-``) — that is an integer the payload renumbers takes its
new value; an id-like word (``_vary``'s rules: ``sub_1Pgc…``, a UUID, a 40-hex sha) that is the
event's id or key takes theirs; and in a recording every other id-like word is permuted as
``_own_ids`` permutes it whole.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._own_ids import OwnIds
from ._vary import ID_TOKEN

_INNER = re.compile(
    r"(?<![A-Za-z0-9_])(?<![0-9][.:-])(?P<number>[0-9]+)(?![A-Za-z0-9_])(?![.:-][0-9])|"
    + ID_TOKEN.pattern
)


def has_inner(text: str) -> bool:
    """Does ``text`` hold anything ``inner`` may rewrite (a digit run or an id-like word)?"""
    return _INNER.search(text) is not None


def inner_words(text: str) -> set[str]:
    """What ``inner`` may rewrite in ``text``: its digit runs and id-like words."""
    return {m.group(0) for m in _INNER.finditer(text)}


def inner(text: str, found: Mapping[str, str], own: OwnIds | None = None) -> str:
    """``text`` with each id inside it as ``found`` (old text -> the run's) says, and where
    ``own`` is given every other id-like word as ``own`` makes it (module docstring)."""

    def new(m: re.Match[str]) -> str:
        word = m.group(0)
        if m.group("number") is not None:
            return found.get(word, word)
        if m.lastgroup == "digits":  # a digit run in a time or a decimal: no id
            return word
        made = found.get(word)
        if made is not None:
            return made
        return own.string(word) if own is not None else word

    return _INNER.sub(new, text)
