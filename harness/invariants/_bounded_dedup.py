"""A dedup that remembers only the last events: copies written again came after more events
than the copies skipped.

A receiver that keeps the ids it handled in a size-bounded cache (an ``OrderedDict`` of the last
100, ``functools.lru_cache``, a ring buffer) skips a copy that comes while its event is still
among the last ones taken, and handles again one that comes after enough other events pushed it
out (tests/gallery/lru_dedup.py: every copy written again came after 100 or more other events,
every one skipped after fewer). Counted here: the other events whose deliveries were accepted
between a copy and the event's delivery before it (each touches its id: a claim, or a hit
that keeps it recent). Where the copies written again also came later in time than every one
skipped, a cache that forgets by time separates them as well, and the run cannot tell which.

Where nothing was done twice, how far apart an event's copies came (``copies_apart``) is what
the pass shows of such a cache: one holding more ids than that passes the run whatever its bound.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import Outcome
from ..history import delivery_column, delivery_numbers, delivery_rows
from ._facts import Facts, plural
from ._timing import seconds


@dataclass(frozen=True, slots=True)
class Bounded:
    """The fewest other events, and seconds, between a copy written again and its event's
    delivery before it (``again``, ``again_s``); the most between a skipped copy and its
    (``skipped``, ``skipped_s``). ``timed``: the seconds separate them too."""

    again: int
    skipped: int
    again_s: float
    skipped_s: float

    @property
    def timed(self) -> bool:
        return self.again_s > self.skipped_s

    def text(self) -> str:
        """``: it deduplicates, but its record holds only the last events …``."""
        counts = (
            f"every copy written again came after at least {self.again:,} other events had "
            f"been accepted since its event's delivery before it, every copy skipped after at "
            f"most {self.skipped:,}"
        )
        keep = (
            "keep the event ids in one durable store for as long as the sender redelivers "
            "(Stripe: up to 3 days), whatever the rate"
        )
        if self.timed:
            return (
                f": it deduplicates, but its record forgets — {counts}, and at least "
                f"{seconds(self.again_s)} later against at most {seconds(self.skipped_s)}: a "
                f"record bounded in size (the last {self.again:,} or so ids: an LRU cache) or "
                "in time (a time to live), this run cannot tell which; " + keep
            )
        return (
            f": it deduplicates, but its record holds only the last events — {counts}: a "
            "size-bounded record of the events handled (an LRU cache, a set of the last N "
            f"ids) that forgets an event once about {self.again:,} others have come; " + keep
        )


# Deliveries between two of an event's read, at most: a window longer than this counts as
# this many other events (a record of more is no bound a run shows).
_WINDOW = 10_000


def bounded(facts: Facts, late: Sequence[str], skipped: Sequence[str]) -> Bounded | None:
    """``Bounded`` where every one of ``late`` (events written again by a copy sent after
    their first write) had more other events accepted between that copy and the event's
    delivery before it than any of ``skipped`` (events whose later copies were skipped) had
    before any of its copies; None where the counts overlap or a side is empty. Each accepted
    delivery touches its event's id (a claim, or a hit that keeps it recent)."""
    if not late or not skipped:
        return None
    accepted = sorted(
        (sent, eid)
        for eid, sent, outcome in delivery_rows(
            facts.history.deliveries, "event_id", "sent_at", "outcome"
        )
        if outcome is Outcome.OK
    )
    times = [sent for sent, _ in accepted]
    mine: dict[str, list[int]] = {}  # event -> the indices of its accepted deliveries
    wanted = {*late, *skipped}
    for n, (_, eid) in enumerate(accepted):
        if eid in wanted:
            mine.setdefault(eid, []).append(n)

    def gaps(eid: str) -> list[tuple[int, float]]:
        """(other events touched, seconds) between each copy after the event's first write
        and the delivery of it before that copy."""
        made = facts.first_write.value(eid, "at")
        found = []
        for before, n in itertools.pairwise(mine.get(eid, ())):
            if times[n] > made:
                window = accepted[before + 1 : min(n, before + 1 + _WINDOW)]
                others = len({other for _, other in window if other != eid})
                found.append((others, times[n] - times[before]))
        return found

    again = [g[0] for eid in late if (g := gaps(eid))]
    held = [g for eid in skipped for g in gaps(eid)]
    if not again or not held:
        return None
    fewest, most = min(n for n, _ in again), max(n for n, _ in held)
    if fewest <= most:
        return None
    return Bounded(fewest, most, min(t for _, t in again), max(t for _, t in held))


def copies_apart(facts: Facts) -> int | None:
    """The most deliveries of other events accepted between two accepted deliveries of one
    event, one after the other; None where no event had two accepted, or where they came
    further apart than a run shows of a bound (``_WINDOW``). A record of the handled ids
    holding more than that many never forgot an event before its copy came.

    Counted on the accepted deliveries' places in send order, grouped by their event ids'
    hashes with numpy's sorts (a million deliveries in well under a second); the pairs are
    read from the farthest apart down, the first whose ids are equal giving the answer."""
    import numpy as np

    deliveries = facts.history.deliveries
    statuses = delivery_numbers(deliveries, "status")  # no answer: NaN
    ok = (statuses >= 200) & (statuses < 300)
    taken = list(itertools.compress(delivery_column(deliveries, "event_id"), ok.tolist()))
    hashes = np.fromiter(map(hash, taken), dtype=np.int64, count=len(taken))
    sent = delivery_numbers(deliveries, "sent_at")[ok]
    place = np.empty(len(taken), dtype=np.int64)
    place[np.argsort(sent, kind="stable")] = np.arange(len(taken))
    order = np.lexsort((place, hashes))  # by event (its id's hash), then in send order
    grouped = hashes[order]
    pairs = np.flatnonzero(grouped[1:] == grouped[:-1])
    between = place[order[pairs + 1]] - place[order[pairs]] - 1
    for k in np.argsort(-between, kind="stable").tolist():
        first, then = order[pairs[k]], order[pairs[k] + 1]
        if taken[first] == taken[then]:
            most = int(between[k])
            return most if most < _WINDOW else None
    return None


def apart_text(most: int, advised: bool) -> str:
    """``an event's copies came at most 12 other deliveries apart …``: what a pass shows of a
    dedup bounded in size. ``advised``: the note already says how long to keep the ids."""
    if most == 0:
        apart, holds = "one right after another", "whatever it holds"
    else:
        apart = f"at most {plural(most, 'other delivery', 'other deliveries')} apart"
        holds = f"if it holds more than {most:,}"
    text = (
        f"an event's copies came {apart}: a dedup that keeps only the last ids it handled (an "
        f"LRU cache, a set of the last N) passes here {holds}, and repeats events in "
        "production, where a sender's redelivery comes after hours of other events"
    )
    if advised:
        return text
    return text + "; keep each event's id in one durable store for as long as its sender redelivers"
