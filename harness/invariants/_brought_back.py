"""Records brought back after their deletion: a write of an event after a ``DELETE`` that names
only the record.

A register's walk (``per_key_order``) orders each resource's writes by their events; a
``DELETE`` whose call carries only the record's id (``DELETE /subscriptions/sub_1``: the event
that made it is not in it) is in no event's place, so an older event's write after it — a
Stripe ``customer.subscription.updated`` delivered after the subscription's ``deleted`` and
upserted — brought the record back unseen. Where the clean run ended the record with a
``DELETE`` (its last write of it: ``_deleted.deleted_there``), that deletion came after every
other write the record's events made, the clean run being in order; so a write of one of them
after this run's deletion is an older event's, undoing a newer one's: a stale overwrite, with
the event that made it named.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core._model import Effect, Event
from ._deleted import deleted_there
from ._facts import Facts, Witness, timestamp
from ._objects import resource


@dataclass(frozen=True, slots=True)
class Back:
    """Record ``key``'s resource, deleted by ``delete`` (naming no event), written again by
    ``write`` of ``event``; ``there``: the clean run's DELETE, its last write of the record."""

    key: str
    write: Effect
    event: Event
    delete: Effect
    there: Effect

    def witness(self) -> Witness:
        line = (
            f"record {self.key} was brought back after its deletion: seq {self.event.seq} "
            f"({self.event.id}, {self.write.id}) {self.write.method.upper()} {self.write.path} "
            f"at {timestamp(self.write.at)} after {self.delete.method.upper()} "
            f"{self.delete.path} ({self.delete.id}) at {timestamp(self.delete.at)}, which names "
            f"no event; the clean run's last write of the record was its DELETE ({self.there.id})"
        )
        return Witness(line, (self.event.id,), (), (self.write.id, self.delete.id))


def brought_back(facts: Facts) -> list[Back]:
    """The records whose resource a ``DELETE`` naming none of their events removed and a write
    of one of their events wrote again after it (the first such write after the last such
    DELETE), where the clean run's last write of the record was a ``DELETE``; by time."""
    baseline = facts.recorded.baseline
    if baseline is None:
        return []
    # Only the records a committed DELETE naming no event removed, whose clean twin ended
    # deleted, are looked at: the common run has none, and its writes are not scanned again.
    twins = facts.record_twins
    removed = {
        e.key
        for e in facts.record_only
        if e.key in twins and e.committed and e.method.upper() == "DELETE"
    }
    if not removed:
        return []
    there = deleted_there(baseline, removed, twins.__getitem__, str)
    if not there:
        return []
    events = facts.events_by_id
    deleted: dict[tuple[str, str, str], Effect] = {}  # (record, downstream, resource) -> DELETE
    after: dict[tuple[str, str, str], tuple[Effect, Event]] = {}
    for w in facts.writes_in_order:
        key = w.key
        if key is None or key not in there:
            continue
        slot = (key, w.downstream, resource(w))
        named = [events[i] for i in w.event_ids if i in events and events[i].key == key]
        if w.method.upper() == "DELETE":
            if not named:
                deleted[slot] = w
                after.pop(slot, None)
        elif named and slot in deleted and slot not in after:
            after[slot] = (w, min(named, key=_seq))
    found = [
        Back(slot[0], write, event, deleted[slot], there[slot[0]])
        for slot, (write, event) in after.items()
    ]
    return sorted(found, key=_when)


def _seq(event: Event) -> int:
    return event.seq


def _when(back: Back) -> float:
    return back.write.at
