"""The repeats no_duplicate_effects' tally can tell without an Effect: an event's second write
the same POST as its first (route, body), no GraphQL request, carrying no Idempotency-Key, on
a run declaring no ``merges:`` nor ``appends:`` — a duplicate, whatever else is known.

Found over the effects' columns for every event at once: a failing run repeats half a million
POSTs, and an Effect made for each write of each (a million) was a second and 150 MB of its
check. What is not plain is told by the tally, effect by effect, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    plain = np.ones(len(second), dtype=bool)
    for name in ("method", "path", "downstream", "body"):
        held = effect_values(effects, name)
        values = np.fromiter(held, dtype=object, count=len(held))
        earlier, again = values[rows[0]], values[rows[1]]
        if name == "method":
            post = {m: m.upper() == "POST" for m in set(held)}
            plain &= np.fromiter(map(post.__getitem__, earlier), dtype=bool, count=len(earlier))
            plain &= np.fromiter(map(post.__getitem__, again), dtype=bool, count=len(again))
            continue
        plain &= earlier == again
        if name == "body":
            plain &= np.fromiter(
                (GRAPHQL_MARK not in b for b in again), dtype=bool, count=len(again)
            )
    # Headers as held: JSON text, or the shared empty mapping.
    headers = effect_values(effects, "headers")
    again = rows[1][plain].tolist()
    keyed = [
        isinstance(h, str) and not named_nowhere(h, IDEMPOTENCY_KEY)
        for h in map(headers.__getitem__, again)
    ]
    plain[np.flatnonzero(plain)[keyed]] = False
    found: list[bool] = plain.tolist()
    return found
