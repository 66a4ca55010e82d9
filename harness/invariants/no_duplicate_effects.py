"""no_duplicate_effects: no event changes a downstream twice with the same request.

A repeat is a second write of one event to the same downstream, method and path. It is
harmless where a real API makes it so (``_idempotent``): the same PUT/DELETE, or merge PATCH
(``application/merge-patch+json``), with the same body, or the same ``Idempotency-Key`` as an
earlier effect of that event. Any other repeat is a duplicate.

Writes naming no event cannot show one; where those a repeat would harm outnumber what the
clean run made of their request (scaled by the two runs' events), a pass would claim what the
run could not see: the verdict is inconclusive (``_unattributed``). Without a clean run they
are only noted, as before.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..core._model import Effect, Event, FailureClass, Status, Verdict
from ._facts import (
    MAX_IDS,
    MAX_WITNESSES,
    Facts,
    Witness,
    attribution_gap,
    correlation_advice,
    deliveries_text,
    effects_text,
    event_ref,
    id_list,
    plural,
    unattributed_note,
    verdict,
)
from ._idempotent import IDEMPOTENCY_KEY, harmless_repeat
from ._unattributed import Counted, unattributed_writes

NAME = "no_duplicate_effects"
CLASS = FailureClass.SILENT


class Repeat(enum.Enum):
    """What a repeated write is: harmless (and why) or a duplicate effect."""

    IDEMPOTENT = "idempotent"
    SAME_KEY = "same Idempotency-Key"
    DUPLICATE = "duplicate"


def classify(writes: Sequence[Effect]) -> list[tuple[Effect, Repeat]]:
    """The repeats among one event's writes (in time order), each with its kind.

    Linear in the number of writes, however many: a runaway target may write one event
    thousands of times, and that history must still be judged in seconds.
    """
    out = []
    bodies_by_request: dict[tuple[str, str, str], set[str]] = {}
    first_with_key: dict[str | None, int] | None = None  # read only when a repeat has a key
    for i, w in enumerate(writes):
        method = w.method.upper()
        request = (w.downstream, method, w.path)
        bodies = bodies_by_request.get(request)
        if bodies is None:
            bodies_by_request[request] = {w.body}
            continue
        if w.body in bodies and harmless_repeat(w, method):
            kind = Repeat.IDEMPOTENT
        else:
            key = w.header(IDEMPOTENCY_KEY)
            if key is not None and first_with_key is None:
                first_with_key = _first_with_key(writes)
            keyed = key is not None and first_with_key is not None and first_with_key[key] < i
            kind = Repeat.SAME_KEY if keyed else Repeat.DUPLICATE
        out.append((w, kind))
        bodies.add(w.body)
    return out


def _first_with_key(writes: Sequence[Effect]) -> dict[str | None, int]:
    """Idempotency-Key value -> position of the first write carrying it."""
    first: dict[str | None, int] = {}
    for i, w in enumerate(writes):
        first.setdefault(w.header(IDEMPOTENCY_KEY), i)
    return first


@dataclass(frozen=True, slots=True)
class _Tally:
    """Repeats over a set of events, by kind."""

    duplicates: Counter[str]  # by method
    idempotent: Counter[str]  # by method
    same_key: int
    harmful: list[str]  # event ids with a duplicate, by time of their second write
    harmless: list[str]  # event ids with only harmless repeats, by time of their second write


def _tally(facts: Facts, seconds: Iterable[tuple[str, Effect]]) -> _Tally:
    """Classify the repeats of the events given with their second writes, in one pass;
    locals only: it runs per event.

    An event written twice (each of its two deliveries applied) is classified here as
    ``classify`` would, without its call and containers: 0.4 of the time per event.
    """
    first, later = facts.first_write, facts.later_writes
    duplicates: Counter[str] = Counter()  # by method
    idempotent: Counter[str] = Counter()
    same_key = 0
    harmful: list[str] = []
    harmless: list[str] = []
    duplicate, is_idempotent = Repeat.DUPLICATE, Repeat.IDEMPOTENT
    for eid, w in seconds:
        more = later.get(eid) if later else None
        if more is None:
            earlier = first[eid]
            method = w.method.upper()
            if (
                w.path != earlier.path
                or w.downstream != earlier.downstream
                or method != earlier.method.upper()
            ):
                continue  # two requests, neither a repeat
            if w.body == earlier.body and harmless_repeat(w, method):
                idempotent[method] += 1
                harmless.append(eid)
            elif (key := w.header(IDEMPOTENCY_KEY)) is not None and key == earlier.header(
                IDEMPOTENCY_KEY
            ):
                same_key += 1
                harmless.append(eid)
            else:
                duplicates[method] += 1
                harmful.append(eid)
            continue
        repeats = classify([first[eid], w, *more])
        if not repeats:
            continue
        bad = False
        for w, kind in repeats:
            if kind is duplicate:
                duplicates[w.method.upper()] += 1
                bad = True
            elif kind is is_idempotent:
                idempotent[w.method.upper()] += 1
            else:
                same_key += 1
        (harmful if bad else harmless).append(eid)
    return _Tally(duplicates, idempotent, same_key, harmful, harmless)


def no_duplicate_effects(facts: Facts) -> Verdict:
    """Fail on any repeated write that no real API would make harmless."""
    gap = attribution_gap(facts, NAME, CLASS)
    if gap is not None:
        return gap
    tally = _tally(facts, facts.second_write.items())
    harmless = _harmless_text(tally.idempotent, tally.same_key)
    note = unattributed_note(facts)
    events = len(facts.history.events)
    if tally.harmful:
        by_method = ", ".join(f"{n:,} {m}" for m, n in tally.duplicates.most_common())
        summary = (
            f"{len(tally.harmful):,} of {plural(events, 'event')} produced duplicate effects: "
            f"{plural(tally.duplicates.total(), 'repeated request')} ({by_method})"
        )
        return verdict(
            NAME,
            Status.FAIL,
            CLASS,
            summary + (f"; {harmless}" if harmless else "") + note,
            _witnesses(facts, tally.harmful),
        )
    seen = (
        f"no harmful duplicate effects: {harmless}"
        if tally.harmless
        else f"no event produced a repeated effect ({plural(facts.attributed_writes, 'effect')} "
        f"over {plural(len(facts.first_write), 'event')})"
    )
    unseen = _unseen(facts, seen)
    if unseen is not None:
        return unseen
    return verdict(NAME, Status.PASS, CLASS, seen + note, _witnesses(facts, tally.harmless))


def _unseen(facts: Facts, seen: str) -> Verdict | None:
    """Inconclusive where writes naming no event may hide a repeat: more of a request than the
    clean run made, per event. ``seen``: what the attributed effects show."""
    found = unattributed_writes(facts)  # None without a clean run: then only noted
    if found is None:
        return None
    over = found.over
    if not over:
        return None
    several = len({c.request.downstream for c in found.requests}) > 1
    made = "; ".join(
        f"{c.here:,} {c.request.text(several)}, {len(c.unattributed):,} of them naming no "
        f"event, where its clean run made {c.clean:,}"
        for c in over
    )
    events = (
        f"the same {plural(found.events, 'event')}"
        if found.events == found.clean_events
        else f"its {plural(found.clean_events, 'event')}, this run {found.events:,}"
    )
    why = (
        f"this run made {made} ({found.clean_run}, {events}): some event may have repeated "
        "one (a redelivery not deduplicated, a retry without an Idempotency-Key), but "
        "nothing shows which"
    )
    summary = (
        f"not judged: {why}, so a pass would claim what the run could not see; "
        f"{correlation_advice(facts, over[0].request.text())} (an Idempotency-Key carrying the "
        f"event id makes them attributable, and harmless to repeat); of the attributed effects, "
        f"{seen}"
    )
    return verdict(NAME, Status.INCONCLUSIVE, CLASS, summary, _unseen_witnesses(over, several))


def _unseen_witnesses(counted: Sequence[Counted], several: bool) -> list[Witness]:
    """Per request, the paths it was written to most often, their effects naming no event."""
    out = []
    for c in counted:
        by_path: dict[str, list[Effect]] = {}
        for e in c.unattributed:
            by_path.setdefault(e.path, []).append(e)
        ranked = sorted(by_path.items(), key=lambda item: -len(item[1]))
        for path, effects in ranked[: max(1, MAX_WITNESSES // len(counted))]:
            ids = [e.id for e in effects]
            where = f" ({c.request.downstream})" if several else ""
            out.append(
                Witness(
                    f"{c.request.method} {path}{where} {id_list(ids)}: "
                    f"{plural(len(ids), 'write')}, naming no event",
                    effect_ids=tuple(ids[:MAX_IDS]),
                )
            )
    return out


def _harmless_text(idempotent: Counter[str], same_key: int) -> str:
    """``3 repeated PUTs and 1 repeated DELETE, idempotent: harmless; 2 repeats with ...``."""
    parts = []
    if idempotent:
        methods = " and ".join(
            plural(n, f"repeated {m}", f"repeated {m}{'es' if m.endswith('H') else 's'}")
            for m, n in sorted(idempotent.items())
        )
        parts.append(f"{methods}, idempotent: harmless")
    if same_key:
        parts.append(f"{plural(same_key, 'repeat')} with the same Idempotency-Key: harmless")
    return "; ".join(parts)


def _witnesses(facts: Facts, event_ids: Sequence[str]) -> list[Witness]:
    """The first events seen repeating, with all their deliveries and writes, in stream order."""
    events = facts.events_by_id
    shown = sorted((events[eid] for eid in event_ids[:MAX_WITNESSES]), key=_seq)
    deliveries = facts.deliveries_of([e.id for e in shown])
    out = []
    for event in shown:
        writes = facts.writes_of(event.id)
        dlv = deliveries[event.id]
        line = (
            f"{event_ref(event)} was {deliveries_text(dlv)} and produced "
            f"{plural(len(writes), 'effect')}: {effects_text(writes)}"
        )
        tally = _tally(facts, [(event.id, facts.second_write[event.id])])
        if not tally.harmful:
            line += f" ({_harmless_text(tally.idempotent, tally.same_key)})"
        out.append(
            Witness(line, (event.id,), tuple(d.id for d in dlv), tuple(w.id for w in writes))
        )
    return out


def _seq(event: Event) -> int:
    return event.seq
