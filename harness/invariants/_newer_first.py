"""Updates skipped as older than their record's state, judged by a model nobody declared.

A contact sync that keeps each record's newest state answers an update older than the one it
holds 200 and writes nothing: under a register (successive states of a record) that is right,
the newer state supersedes it; under a ledger (each event its own fact: a payment) it is loss.
A built-in hazard over a project's events whose model nobody gave (no ``model:``, no library
payload knew them) judges them by the hazard's own (``MODEL_ASSUMED``), and the run cannot
tell which the events are:

- a ledger assumed: an accepted event short of a write that a **newer** event of its record
  made (committed) before the event's first accepted delivery was answered, and that called
  for nothing it lacks after that write nor while that delivery was in flight, was skipped as
  stale — or lost (one that tried the write in that delivery, or after the newer's, and was
  refused dropped it: it was not stale when it tried, a loss whatever the model). Where the
  event's own calls name the item it wanted (``/contacts/con_1``), only a newer write of that
  item counts: another item of the route (a customer's other invoice) superseded nothing.
  ``no_lost_events`` and ``recovers_after_outage`` set it aside, inconclusive, saying how to
  declare the model; under a declared ledger it is lost, and said why.
- a register assumed: an older event of a record that made no write of its own was superseded
  — or lost; ``no_lost_events`` does not pass it unsaid (``skipped_unsaid``).
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from ..core._model import MODEL_ASSUMED, Delivery, Effect, Event, Model, Outcome
from ..history import event_rows
from ._expected import Expectation
from ._facts import SAFE_METHODS, Facts, is_write, plural, timestamp
from ._requests import Request, same_resource
from ._shortfalls import Short


@dataclass(frozen=True, slots=True)
class NewerFirst:
    """An event short of a write that ``write``, of its record's newer event ``newer``, made
    before the event's first accepted delivery was answered (``accepted_at``)."""

    event_id: str
    newer: Event
    write: Effect
    accepted_at: float

    def text(self) -> str:
        """``its record's newer event evt_9 wrote PUT /contacts/con_1 (eff_7) at 1.25 s, before
        it was accepted at 1.81 s``."""
        w = self.write
        return (
            f"its record's newer event {self.newer.id} wrote {w.method.upper()} "
            f"{w.path.partition('?')[0]} ({w.id}) at {timestamp(w.at)}, before it was "
            f"accepted at {timestamp(self.accepted_at)}"
        )


def assumed(facts: Facts) -> str | None:
    """Which events' model the run's hazard assumed (``events[0] (contact.json)``), or None:
    the model was the events' own, or the scenario's."""
    found = facts.history.info.settings.get(MODEL_ASSUMED)
    return found if isinstance(found, str) and found else None


def newer_first(
    facts: Facts, exp: Expectation, shorts: Mapping[str, Sequence[Short]]
) -> dict[str, NewerFirst]:
    """Ledger: those of ``shorts`` (event id -> the requests it lacks) whose record's newer
    event made a committed write of a resource the event lacks before the event's first
    accepted delivery was answered, and that called for nothing it lacks after that write:
    event id -> that write (the earliest)."""
    if exp.model is not Model.LEDGER or not shorts:
        return {}
    events = facts.events_by_id
    short = {eid: events[eid] for eid in shorts if eid in events}
    # Each record's newer events, from the columns (no Event made for the others).
    oldest: dict[str, int] = {}
    for e in short.values():
        oldest[e.key] = min(e.seq, oldest.get(e.key, e.seq))
    newer: dict[str, list[tuple[int, str]]] = {}
    for eid, key, seq in event_rows(facts.history.events, "id", "key", "seq"):
        if key in oldest and seq > oldest[key] and eid not in short:
            newer.setdefault(key, []).append((seq, eid))
    if not newer:
        return {}
    for siblings in newer.values():
        siblings.sort()
    writes = facts.effects_of([*(eid for n in newer.values() for _, eid in n), *short])
    accepted = facts.deliveries_of(list(short))
    # Per record and what is looked for, the earliest write of the newer events after each
    # seq (a suffix minimum), made once: a record's thousands of lost events each scanning
    # its thousands of newer ones was quadratic (1.7 CPU-s at 8,000 events of one record).
    earliest: dict[tuple[str, frozenset[Request], frozenset[tuple[str, str]]], _Earliest] = {}
    out: dict[str, NewerFirst] = {}
    for eid, event in short.items():
        first = _first_accepted(accepted[eid])
        if first is None or first.answered_at is None:
            continue
        at = first.answered_at
        lacks = {same_resource(s.request) for s in shorts[eid] if s.request is not None}
        own = [e for e in writes[eid] if _of(e, lacks, exp)]
        # The items the event itself called for (a refused PUT /contacts/con_1): a newer
        # write of another item of the route superseded nothing it wanted.
        items = {_item(e) for e in own}
        group = (event.key, frozenset(lacks), frozenset(items))
        if group not in earliest:
            earliest[group] = _Earliest(newer.get(event.key, []), lacks, items, writes, exp)
        found = earliest[group].after(event.seq, at)
        # Skipped, not failed: once the newer state was written, and in the flight that was
        # accepted, it called for nothing of what it lacks (a call refused then is a write
        # that failed: the event was not stale when it tried).
        since = min(found[1].at, first.sent_at) if found is not None else 0.0
        if found is not None and not any(e.at >= since for e in own):
            out[eid] = NewerFirst(eid, events[found[0]], found[1], at)
    return out


def _of(effect: Effect, lacks: Collection[Request], exp: Expectation) -> bool:
    """Whether ``effect`` is a call of a resource in ``lacks`` (any write, where what is
    lacked is any effect)."""
    if not lacks:  # a write, made or refused (not a read)
        return effect.method.upper() not in SAFE_METHODS and (
            is_write(effect) or not effect.committed
        )
    return same_resource(exp.routes.of(effect)) in lacks


def _item(effect: Effect) -> tuple[str, str]:
    """The item ``effect`` wrote: its downstream and path without the query."""
    return effect.downstream, effect.path.partition("?")[0]


def _first_accepted(deliveries: Sequence[Delivery]) -> Delivery | None:
    """The first answered of the accepted (2xx) ``deliveries``, or None."""
    answered = [d for d in deliveries if d.outcome is Outcome.OK and d.answered_at is not None]
    return min(answered, key=_answered) if answered else None


def _answered(d: Delivery) -> float:
    return d.answered_at if d.answered_at is not None else float("inf")


class _Earliest:
    """The earliest committed write of a record's ``newer`` events (``(seq, event id)``, by
    seq) of a resource in ``lacks`` (any write, where what is lacked is any effect) — of one of
    ``items`` where any are known — among those after any seq."""

    def __init__(
        self,
        newer: Sequence[tuple[int, str]],
        lacks: Collection[Request],
        items: Collection[tuple[str, str]],
        writes: Mapping[str, list[Effect]],
        exp: Expectation,
    ) -> None:
        self._seqs = [seq for seq, _ in newer]
        # _best[i]: the earliest (its event id, the write) of the events newer[i:].
        self._best: list[tuple[str, Effect] | None] = [None] * (len(newer) + 1)
        for i in range(len(newer) - 1, -1, -1):
            mine = _first_of(newer[i][1], lacks, items, writes, exp)
            best = self._best[i + 1]
            self._best[i] = mine if mine and (best is None or mine[1].at <= best[1].at) else best

    def after(self, seq: int, before: float) -> tuple[str, Effect] | None:
        """The earliest write, made by ``before``, of the events after ``seq``, or None."""
        best = self._best[bisect.bisect_right(self._seqs, seq)]
        return best if best is not None and best[1].at <= before else None


def _first_of(
    other: str,
    lacks: Collection[Request],
    items: Collection[tuple[str, str]],
    writes: Mapping[str, list[Effect]],
    exp: Expectation,
) -> tuple[str, Effect] | None:
    """The first committed write (in time order) of event ``other`` of a resource in
    ``lacks`` — of one of ``items`` where any are known: (``other``, the write)."""
    for w in writes.get(other, ()):
        if not is_write(w) or (lacks and same_resource(exp.routes.of(w)) not in lacks):
            continue
        if items and _item(w) not in items:
            continue
        return other, w
    return None


def newer_first_text(found: Mapping[str, NewerFirst], subject: str, origin: str | None) -> str:
    """Why the events of ``found`` (``subject``: ``they``, ``2 of them``) are not called lost
    (``origin``: the events whose model the hazard assumed), or why they are (None: declared)."""
    first = next(iter(found.values()))
    one = subject == "it"
    skipped = (
        f"{subject} {'was' if one else 'were'} answered after a newer event of "
        f"{'its' if one else 'their'} record had been written ({first.event_id}: "
        f"{first.text()}): the "
        "automation skips an update older than its record's state"
    )
    if origin is None:
        return (
            f"{skipped} — a loss where each event is its own fact, as these are declared "
            "(a ledger); if they are successive states of a record, say `model: register` on "
            "the events"
        )
    return (
        f"{skipped}, which is right if they are successive states of a record (a register) "
        f"and a loss if each is its own fact (a ledger); nobody said which: the hazard assumed "
        f"a ledger for {origin} — say `model: register` or `model: ledger` on those events "
        "(docs/project.md) and run again"
    )


def skipped_unsaid(bare: int, superseded: int, origin: str) -> str:
    """Register assumed: the note on ``bare`` of the ``superseded`` older events (accepted, a
    newer one of their record accepted too) that made no write of their own."""
    return (
        f"{bare:,} of {plural(superseded, 'superseded event')} (a newer one of their record "
        f"accepted) made no write of {'its' if bare == 1 else 'their'} own: right if the "
        "events are "
        f"successive states of a record (a register), a loss if each is its own fact (a "
        f"ledger); nobody said which: the hazard assumed a register for {origin} — say "
        "`model: register` or `model: ledger` on those events (docs/project.md) and run again"
    )
