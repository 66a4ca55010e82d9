"""Effects naming only their record, taken as its event's where the record had a single one.

An effect naming a record of the run (its key in the path or body) and none of its events
belongs to the record, not to which of its events (``Facts.record_only``). Where the record had
a single event in the run — one event, however often it was delivered (a duplicate, a
provider's retry and a replay are deliveries of it, not events) — there is one event it can be
for, as a tracer token of that event would say: the effect is taken as naming that event (and
no other id it carried, which named no event of the run), and every invariant reads it so.

Only an effect made once the event's first genuine delivery had been sent: one made before was
caused by nothing of this run's that event (an earlier run's late work naming the same record,
``engine._late``), and a tampered delivery (forged, unsigned, stale, replayed) is an attacker's
request, not the sender's event — an effect after it alone stays the record's, as before
(``rejects_forged`` judges those deliveries).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter

from ..core._model import Effect, Event
from ..core._text_effect import naming
from ..history import History, delivery_rows


@dataclass(frozen=True, slots=True)
class Taken:
    """What was taken, and what of a single-event record's was not, and why."""

    history: History  # the run with the effects taken naming their event (as recorded: none)
    # Recorded effect (its id()) -> the same naming its record's single event; the run's
    # effects only (late effects, never judged, are taken in ``history`` alone).
    effects: dict[int, Effect] = field(default_factory=dict)
    before: int = 0  # effects made before their record's single event was first sent
    # Effects whose record's single event was never sent genuinely (only tampered, or not at
    # all): there was no event of the sender's for them to be.
    tampered_only: int = 0


def single_event_records(
    history: History,
    record_only: Sequence[Effect],
    late_only: Sequence[Effect],
    single: Collection[str],
    tampered: Mapping[str, str],
    clean: Callable[[], History | None],
) -> Taken:
    """Take ``record_only`` (the run's effects naming a record and no event, by time) and
    ``late_only`` (its late effects so) as their record's single event's where it had one
    (``single``: the keys of the records with one event) and it was genuinely sent before them.
    ``clean``: the clean run, taken by the same rule, put in the History returned where any of
    ``record_only`` is a single-event record's."""
    alone = [e for e in record_only if e.key in single]
    late = [e for e in late_only if e.key in single]
    if not alone and not late:
        return Taken(history)
    keys = {e.key for e in alone} | {e.key for e in late}
    # Keyed as effects hold keys (str | None: theirs are all a record's); no cast per effect.
    event_of: dict[str | None, Event] = {e.key: e for e in history.events if e.key in keys}
    first = _first_genuine(history, {e.id for e in event_of.values()}, tampered)
    taken: dict[int, Effect] = {}
    before = tampered_only = 0
    for eff in alone:
        event = event_of[eff.key]
        sent = first.get(event.id)
        if sent is None:
            tampered_only += 1
        elif eff.at < sent:
            before += 1
        else:
            taken[id(eff)] = naming(eff, (event.id,))
    late_taken = {
        id(eff): naming(eff, (event.id,))
        for eff in late
        if (sent := first.get((event := event_of[eff.key]).id)) is not None and eff.at >= sent
    }
    judged = replace(
        history,
        effects=[taken.get(id(e), e) for e in history.effects] if taken else history.effects,
        late_effects=[late_taken.get(id(e), e) for e in history.late_effects],
        baseline=clean() if alone else history.baseline,
    )
    return Taken(judged, taken, before, tampered_only)


def clean_run(clean: History, tampered: Mapping[str, str]) -> History:
    """The clean run as judged: its effects taken by the same rule (``single_event_records``),
    found in one light pass — its Facts are never built."""
    counts = Counter([e.key for e in clean.events])
    single = {key for key, n in counts.items() if n == 1}
    if not single:
        return clean
    known = {e.id for e in clean.events}

    def record_only(effects: Iterable[Effect]) -> list[Effect]:
        return [e for e in effects if e.key in single and not any(i in known for i in e.event_ids)]

    found = single_event_records(
        clean,
        sorted(record_only(clean.effects), key=attrgetter("at")),
        record_only(clean.late_effects),
        single,
        tampered,
        lambda: clean.baseline,
    )
    return found.history


def _first_genuine(
    history: History, wanted: set[str], tampered: Mapping[str, str]
) -> dict[str, float]:
    """Event id (of ``wanted``) -> when its first genuine delivery was sent; none: never sent
    but tampered (or never sent at all)."""
    first: dict[str, float] = {}
    for eid, sent, did in delivery_rows(history.deliveries, "event_id", "sent_at", "id"):
        if eid in wanted and did not in tampered:
            held = first.get(eid)
            if held is None or sent < held:
                first[eid] = sent
    return first
