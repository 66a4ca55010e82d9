"""Values that differ only by a binary float's rounding: a sum made in another order.

An automation that keeps money (or any running total) as a float — ``balance += amount / 100``
— gets the same amounts' sum in its last bits according to the order it added them in:
``0.1 + 0.2 + 0.3`` is ``0.6000000000000001``, ``0.3 + 0.2 + 0.1`` is ``0.6``. Events that come
in another order than the clean run's leave such a total a few units in the last place away
from the clean run's, with no event lost, added twice or wrong. ``final_state_matches_baseline``
still fails the record — the downstream holds another number, and ``int(balance * 100)`` of it
can be a cent short — but says what the difference is, so that it is not read as a lost or
wrong event.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# A float's rounding is what its last bits hold: a few units in the last place of the larger
# number (``math.ulp``: 1.4e-14 at 89.8, 2.4e-7 at 1.7e9 epoch seconds) — a sum of the same
# amounts made in another order strays by about that — or what a decimal of at most 15
# significant digits (DBL_DIG: as many as survive a binary float) becomes in binary: two
# numbers the same to 15 digits are the same decimal written twice (a thousand amounts summed
# backwards end 12 units apart, both 504385.42). Not a relative tolerance: 1e-12 of epoch
# seconds is 1.7 ms, another time.
_ULPS = 4
_DECIMAL = ".15g"


def rounding_gap(a: Any, b: Any) -> float | None:
    """How far apart ``a`` and ``b`` are where they are two numbers, at least one a float, that
    differ only by a float's rounding (a few units in the last place, or the same decimal to
    15 significant digits); else None."""
    if type(a) not in (int, float) or type(b) not in (int, float) or a == b:
        return None
    if float not in (type(a), type(b)) or not (math.isfinite(a) and math.isfinite(b)):
        return None
    gap = float(abs(a - b))
    if gap <= _ULPS * math.ulp(max(abs(a), abs(b))) or format(a, _DECIMAL) == format(b, _DECIMAL):
        return gap
    return None


def only_rounding(mine: Mapping[Any, Sequence[Any]], theirs: Mapping[Any, Sequence[Any]]) -> bool:
    """Does a record's state (slot -> its resources) differ from the baseline's, and only in
    numbers a float's rounding apart, one resource a slot?"""
    found = False
    for slot in mine.keys() | theirs.keys():
        a, b = mine.get(slot, ()), theirs.get(slot, ())
        if list(a) == list(b):
            continue
        if len(a) != 1 or len(b) != 1:
            return False
        for x, y in _leaves_apart(a[0], b[0]):
            if rounding_gap(x, y) is None:
                return False
            found = True
    return found


def _leaves_apart(a: Any, b: Any) -> Iterator[tuple[Any, Any]]:
    """The pairs of values at which two JSON values differ, leaf by leaf."""
    if isinstance(a, dict) and isinstance(b, dict):
        for name in a.keys() | b.keys():
            yield from _leaves_apart(a.get(name, _ABSENT), b.get(name, _ABSENT))
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for x, y in zip(a, b, strict=True):
            yield from _leaves_apart(x, y)
    elif a != b:
        yield a, b


_ABSENT = object()


def gap_text(gap: float) -> str:
    """``; 1.4e-14 apart: a float's rounding``."""
    return f"; {gap:.1e} apart: a float's rounding"


def rounding_note(records: int, differ: int) -> str:
    """``; it differs only by a float's rounding …``: ``records`` of the ``differ`` records
    whose state differs; "" for none."""
    if not records:
        return ""
    if records == differ:
        which = "it differs" if records == 1 else "each differs"
    else:
        which = f"{records:,} of them differ"
    return (
        f"; {which} only by a float's rounding: the same numbers added in another order, as "
        "events that came in another order are added — no event lost, repeated or wrong for "
        "that; the automation keeps a total (money?) as a binary float, whose last bits depend "
        "on the order of its additions: keep integer cents or a decimal"
    )
