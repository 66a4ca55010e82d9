"""The repeats no_duplicate_effects' tally can tell without an Effect: an event's second write
the same POST as its first (route, body), no GraphQL request, carrying no Idempotency-Key, on
a run declaring no ``merges:`` nor ``appends:`` — a duplicate, whatever else is known.

Found over the effects' columns for every event at once: a failing run repeats half a million
POSTs, and an Effect made for each write of each (a million) was a second and 150 MB of its
check. What is not plain is told by the tally, effect by effect, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import eq, itemgetter
from typing import Any

from ..core._batch_search import passing
from ..core._graphql import MARK as GRAPHQL_MARK
from ..core._headers import named_nowhere
from ..core._model import Effect
from ..history import Effects, effect_values, time_order
from ._idempotent import IDEMPOTENCY_KEY, Repeats
from ._write_index import Writes


def plain_repeats(
    effects: Sequence[Effect], first: Writes, second: Writes, repeats: Repeats
) -> list[bool]:
    """For each event of ``second`` (in its order): is its repeat plain (module docstring)?
    Its writes after the second are the caller's to look at. A live run's effects are objects
    already: none is told plain here, the tally reads them."""
    import numpy as np

    if repeats.declares_repeats or not len(second) or not isinstance(effects, Effects):
        return [False] * len(second)
    first_of = np.full(int(max(first.codes.max(), second.codes.max())) + 1, -1, dtype=np.int64)
    first_of[first.codes] = first.rows
    rows = [first_of[second.codes], second.rows]  # every second write's event has a first
    order = time_order(effects)
    if order is not None:
        rows = [order[r] for r in rows]
    n = len(second)
    # Each field of both writes taken by C code (a tuple each), compared pair by pair.
    earlier, again = (_taker(r.tolist()) for r in rows)
    plain = np.ones(n, dtype=bool)
    for name in ("path", "downstream", "body"):
        held = effect_values(effects, name)
        plain &= np.fromiter(map(eq, earlier(held), again(held)), dtype=bool, count=n)
    methods = effect_values(effects, "method")
    post = {m: m.upper() == "POST" for m in set(methods)}
    plain &= np.fromiter(map(post.__getitem__, earlier(methods)), dtype=bool, count=n)
    plain &= np.fromiter(map(post.__getitem__, again(methods)), dtype=bool, count=n)
    # Of those left, the few a GraphQL mark or an Idempotency-Key may be in: searched at once.
    left = rows[1][plain].tolist()
    if not left:
        return [False] * n
    take = _taker(left)
    out = passing(list(take(effect_values(effects, "body"))), _marked, [GRAPHQL_MARK], str)
    texts = list(take(effect_values(effects, "headers")))  # JSON, or the shared empty mapping
    if set(map(type, texts)) != {str}:
        texts = [h if isinstance(h, str) else "" for h in texts]
    out += passing(texts, _keyed, [_KEY_LOWER, "\\"])
    plain[np.flatnonzero(plain)[out]] = False
    found: list[bool] = plain.tolist()
    return found


def _taker(rows: list[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """The values of a column at ``rows``, by C code."""
    if len(rows) == 1:
        return lambda values: [values[rows[0]]]
    return itemgetter(*rows)


def _marked(body: str) -> bool:
    return GRAPHQL_MARK in body


def _keyed(text: str) -> bool:
    """May these headers' JSON text name an Idempotency-Key?"""
    return bool(text) and not named_nowhere(text, IDEMPOTENCY_KEY)


_KEY_LOWER = IDEMPOTENCY_KEY.lower()
