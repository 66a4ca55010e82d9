"""A register's latest event passed over for an older one nothing told it from.

Two changes of one record with the same time at the source's time path (Stripe's ``created``
is whole seconds) that reach the target together cannot be ordered by it: an automation that
keeps the newest state keeps whichever came last, and one that coalesces a flurry of changes
into one write (a debounce) writes that one alone — the record's latest event never written,
its older twin's state written instead (tests/gallery/debounce_sync.py under
simultaneous-same-record). ``final_state_matches_baseline`` does not judge a record so left
(``_untold``); ``no_lost_events`` does not call its latest event lost either, and says why.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from ..core._model import Effect, Event
from ._facts import Facts, timestamp
from ._order import Knowable, alike


@dataclass(frozen=True, slots=True)
class Untold:
    """The record's last write ``write``, of its older event ``older``, where its latest event
    was never written and nothing told the two apart."""

    older: Event
    write: Effect

    def text(self) -> str:
        """``its record's last write was PUT /subscriptions/sub_1 (eff_2) at 0.39 s, of evt_31``."""
        w = self.write
        return (
            f"its record's last write was {w.method.upper()} {w.path.partition('?')[0]} "
            f"({w.id}) at {timestamp(w.at)}, of {self.older.id} (seq {self.older.seq})"
        )


def untold_latest(facts: Facts, lost: Collection[str]) -> dict[str, Untold]:
    """Register: those of ``lost`` (records' latest accepted events with no effect) whose
    record's last write carried an older event the automation could not tell from it (the same
    time, both in hand at once: ``_order.Knowable``): event id -> that write."""
    events = facts.events_by_id
    latest = {e.key: e for eid in lost if (e := events.get(eid)) is not None}
    if not latest:
        return {}
    last: dict[str, tuple[Event, Effect]] = {}  # record -> its last write's newest own event
    for w in facts.writes_in_order:
        if w.key not in latest:
            continue
        top = newest_own(w, w.key, events)
        if top is not None:
            last[w.key] = (top, w)
    pairs = {k: found for k, found in last.items() if found[0].seq < latest[k].seq}
    if not pairs:
        return {}
    asked = {e.id for k, (older, _) in pairs.items() for e in (older, latest[k])}
    knowable = Knowable(facts, asked)
    later = came_later(facts, [(older, latest[k]) for k, (older, _) in pairs.items()])
    return {
        latest[k].id: Untold(older, w)
        for k, (older, w) in pairs.items()
        if older.id in later and not knowable(older, latest[k], w.at)
    }


def came_later(facts: Facts, pairs: Collection[tuple[Event, Event]]) -> set[str]:
    """The older events of ``pairs`` (older, newer) first delivered after their newer one:
    keeping whichever came last, an automation keeps them. One whose newer came after it and
    was passed over kept the first to come — a check like ``created > last`` that drops the
    later of two changes of one second in any order (tests/gallery/second_ties.py): lost."""
    sent = facts.deliveries_of({e.id for pair in pairs for e in pair})

    def first(eid: str) -> float:
        return min((d.sent_at for d in sent[eid]), default=float("inf"))

    return {older.id for older, newer in pairs if first(older.id) > first(newer.id)}


def newest_own(write: Effect, key: str, events: Mapping[str, Event]) -> Event | None:
    """The newest event of record ``key`` that ``write`` carries, or None."""
    top = None
    for eid in write.event_ids:
        event = events.get(eid)
        if event is not None and event.key == key and (top is None or event.seq > top.seq):
            top = event
    return top


def untold_text(facts: Facts, found: Mapping[str, Untold], subject: str) -> str:
    """Why the events of ``found`` (``subject``: ``they``, ``2 of them``) are not called
    lost."""
    first_id, first = next(iter(found.items()))
    one = subject == "it"
    return (
        f"{subject} reached the target together with an older event of "
        f"{'its' if one else 'their'} record with {alike(facts)}, whose state was written "
        f"instead ({first_id}: {first.text()}): nothing told their order — an automation that "
        "keeps the newest state, or writes a flurry's last, keeps whichever came last; the "
        "baseline, sent one event at a time, wrote the newest (not judged; give each change a "
        "time of its own, or a sequence, to judge it)"
    )
