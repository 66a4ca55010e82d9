"""per_key_order's ledger walk over columns: each record's events' first writes in time order,
and the steps that came after a newer event's, found by a running maximum per record.

What ``per_key_order._walk`` does write by write, done by numpy over the first writes' event
codes, for a run whose writes each name at most one of its events (a batch call naming several
is walked write by write): a million first writes take no Python step each.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import count
from typing import NamedTuple

from ..core._model import Event
from ..history import event_column
from ._write_index import Writes


class Steps(NamedTuple):
    """``behind``: (row of the step, its event's place, the place of the record's newest event
    before it) for each step older than its record's newest, in time order."""

    records: int
    checked: int
    behind: list[tuple[int, int, int]]


def ledger_steps(first: Writes, events: Sequence[Event]) -> Steps:
    """The steps of a ledger walk over ``first`` (each event's first write, in time order; each
    naming one event) of a run of ``events``."""
    import numpy as np

    codes = first.codes
    if not len(codes):
        return Steps(0, 0, [])
    held: dict[str, int] = {}
    keys = np.fromiter(
        map(held.setdefault, event_column(events, "key"), count()),
        dtype=np.int64,
        count=len(events),
    )[codes]
    seqs = np.array(event_column(events, "seq"), dtype=np.int64)[codes]
    # Each record's steps side by side in time order; a seq and its record in one number, so
    # that a running maximum never reaches back into the record before.
    order = np.argsort(keys, kind="stable")
    grouped = keys[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = grouped[1:] != grouped[:-1]
    seq_rank = np.unique(seqs, return_inverse=True)[1].reshape(-1)
    value = np.cumsum(starts) * (int(seq_rank.max()) + 1) + seq_rank[order]
    newest = np.maximum.accumulate(value)
    before = np.empty_like(newest)
    before[0] = -1
    before[1:] = newest[:-1]
    before[starts] = -1  # a record's first step finds nothing held
    places = np.arange(len(order))
    # The step that set each record's newest so far: the last that raised it.
    setter = np.maximum.accumulate(np.where(value > before, places, -1))
    late = value < before
    late[starts] = False
    behind_sorted = np.flatnonzero(late)
    steps = order[behind_sorted]  # back in time order
    setters = order[setter[behind_sorted]]
    by_time = np.argsort(steps, kind="stable")
    steps, setters = steps[by_time], setters[by_time]
    behind = list(
        zip(
            first.rows[steps].tolist(),
            codes[steps].tolist(),
            codes[setters].tolist(),
            strict=True,
        )
    )
    return Steps(int(starts.sum()), len(codes), behind)
