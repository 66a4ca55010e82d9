"""Values an effect carries as they were sent: the words of its path, query and body, and the
document numbers of a run's events by value (docs/correlation.md, "Document numbers").

A document number is what people read a record by, and what a ledger, a packing slip or a
ticket is kept under: a Stripe invoice's or credit note's ``number`` (``6C2E1A3B-0002``), a
Shopify order's ``order_number`` (and the ``name`` written from it, ``#1001``), a carrier's
``tracking_number``. The run makes each its own — a string holding an id is drawn or permuted
with the run's alphabets (``_run_ids``, ``_own_ids``), an integer under ``number`` renumbered
(``_tracer.renumbered``) — so a value of this run is in none of its clean run's events nor an
earlier run's: an effect that carries it was made for an event of this run that holds it. It
carries no tracer token (a token would break its format), so it is followed by value instead:
an effect carrying the number only one event of the run holds is that event's; one that several
events of one record hold (a number repeated between a record's events), the record's; one
that events of several records hold, nobody's.

Read from each event's JSON text as the tracer is given it (a streamed run's payloads are let go
once sent), so an effect is matched against the events made so far: every event that holds the
value and could have been sent before the effect was made, as a value of this run reaches the
target only in an event of this run. Up to ``_MOST`` values are held (a run of millions of
events); past that no new value is, but a value held already still learns every event that
holds it, so that a value two events share never names one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from ._vary import holds_id, id_named

# Event ids and record keys matched as recorded, and document numbers, must look like ids: a
# short value ("42", "usd") or a small number turns up in unrelated effects by chance.
_MIN = 6
_MIN_DIGITS = 10
# What separates values in a path, query or JSON body; ids are the runs between them.
WORD = re.compile(r"[^\s\"'/?&=,;:<>{}\[\]()\\#|]+")
# What follows a field's name in JSON text: a string or an integer value.
_VALUE = re.compile(r'\s*:\s*(?:"([^"\\]*)"|(\d+))')
_NAME = re.compile(r"\w*[Nn]umber")
# An upper-case id as a Stripe invoice's prefix is drawn (the commonest number, found at a
# quarter of ``holds_id``'s cost), a digit in it or not: each of 8 characters drawn from 36,
# none is a digit about one draw in 13 (``DRRWOQOO-0002``), which ``holds_id`` takes for a word.
_UPPER = re.compile(r"(?<![A-Za-z0-9])(?=[0-9]*[A-Z])[0-9A-Z]{8,}(?![A-Za-z0-9])")
_MOST = 1_000_000  # about 100 MiB held (bench_prepare: 30 MiB more at 300,000 invoices)


def distinctive(value: str) -> bool:
    """Does ``value`` look like an id, not like a word or a count that recurs by chance?"""
    if value.isdigit():
        return len(value) >= _MIN_DIGITS
    return len(value) >= _MIN and WORD.fullmatch(value) is not None


def document_numbers(text: str, tag: str) -> Iterable[str]:
    """The document numbers a payload's JSON ``text`` holds that the run made its own: the
    distinctive words holding an id of a field named ``*number`` (``number``,
    ``tracking_number``: not a phone number, which holds none), and the integers of 10 digits
    or more under ``number`` or ``order_number`` (renumbered per run; a ``sequence_number`` is
    not). A word holding the run's tag is left to the tracer."""
    # Found by their names' end, not by a pattern over the whole text: a pattern tried at every
    # quote of a Stripe invoice (288 of them) cost more than making the event.
    end = text.find('umber"')
    while end != -1:
        at, end = end, text.find('umber"', end + 6)
        start = text.rfind('"', 0, at) + 1
        name = text[start : at + 5]
        m = _VALUE.match(text, at + 6)
        if m is None or not _NAME.fullmatch(name):
            continue
        string, digits = m.groups()
        if digits is not None:
            if id_named(name) and len(digits) >= _MIN_DIGITS:
                yield digits
            continue
        for word in WORD.findall(string):
            if tag in word or not distinctive(word):
                continue
            if _UPPER.search(word) is not None or holds_id(word):
                yield word


# A value's owner: the seq of the one event holding it, the record key several events of one
# record share, or None when events of different records hold it (it names nobody).
Owner = int | str | None


class DocNumbers:
    """A run's document numbers by value (module docstring); ``key_of``: an event's record key
    by its seq."""

    def __init__(self, tag: str, key_of: Callable[[int], str]) -> None:
        self._tag = tag
        self._key_of = key_of
        self._owners: dict[str, Owner] = {}

    def __bool__(self) -> bool:
        return bool(self._owners)

    def __len__(self) -> int:
        return len(self._owners)

    def add(self, text: str, seq: int, key: str) -> None:
        """Index the document numbers of the event ``seq`` of record ``key``, its payload's
        JSON ``text``."""
        owners = self._owners
        for value in document_numbers(text, self._tag):
            had = owners.get(value, seq)
            if had == seq:
                if len(owners) < _MOST or value in owners:
                    owners[value] = seq
            elif had is not None:
                held = had if isinstance(had, str) else self._key_of(had)
                owners[value] = key if held == key else None

    def get(self, value: str) -> Owner:
        """The owner of ``value``; None where it names nobody or is not a number of the run."""
        return self._owners.get(value)
