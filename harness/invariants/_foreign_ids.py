"""Writes to an item whose id this run's downstream double never issued: an earlier run's.

A double makes up the id of what it creates (``ds_1``, ``ds_2``, … in the order of its 201
answers), starting again at ``ds_1`` in every run. An automation that keeps the ids it was given
(an email -> contact id table living as long as its process) and finds them again by a value
the replay sends as it was (a recording's emails) updates in one run what an earlier run
created: the clean run, or the hazard before. Such an event did its work on a resource the
harness cannot tie to this run; where its clean twin created the item instead, that creation
cannot be owed (``no_lost_events`` says so, inconclusive, never a loss nor a pass).

Only a double that keeps no store is read: a stateful one answers 404 to an id it does not hold
(``_refusal_context.missing_read`` says that), and the store it carries from run to run numbers
on past what it holds (``_carry``), so its ids tell nothing of which run made them.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core._model import Effect
from ..double._resources import GENERATED_PREFIX
from ..history import History
from ._expected import Expectation
from ._facts import Facts, is_write
from ._requests import Request, created_in, same_resource
from ._shortfalls import Short

_GENERATED = re.compile(re.escape(GENERATED_PREFIX) + r"(\d+)")


@dataclass(frozen=True, slots=True)
class ForeignWrite:
    """An event's write to item ``item`` (``ds_3``), which this run's double had not issued
    when it was made; ``clean``: its clean run's double did issue it."""

    effect: Effect
    item: str
    clean: bool

    def text(self) -> str:
        """``PATCH /contacts/ds_1 eff_1 wrote ds_1, an id this run's double never issued (its
        clean run's did)``."""
        whose = "its clean run's did" if self.clean else "nor had its clean run's"
        return (
            f"{self.effect.method.upper()} {self.effect.path.partition('?')[0]} {self.effect.id} "
            f"wrote {self.item}, an id this run's double had not issued ({whose})"
        )


def foreign_writes(
    facts: Facts, exp: Expectation, shorts: Mapping[str, Sequence[Short]]
) -> dict[str, ForeignWrite]:
    """Those events of ``shorts`` (event id -> what it lacks) every shortfall of which is a
    creation (``POST /contacts``) in the collection of an item the event wrote with an id its
    run's double had not issued then: event id -> that write."""
    wanted = _creations(shorts)
    if not wanted:
        return {}
    return _covered(facts, exp, wanted, facts.effects_of(list(wanted)))


def foreign_record_writes(
    facts: Facts, exp: Expectation, shorts: Sequence[Short]
) -> dict[str, ForeignWrite]:
    """``foreign_writes`` of records: those of ``shorts`` (per record) whose writes — naming
    the record, or made by its events — cover every creation it lacks with an item its run's
    double had not issued: record key -> that write. A replay keyed by a record the events
    share compares a record's creations with its clean twin's, and its writes to the clean
    run's items were called lost."""
    by_record: dict[str, list[Short]] = {}
    for s in shorts:
        by_record.setdefault(s.subject, []).append(s)
    wanted = _creations(by_record)
    if not wanted:
        return {}
    events: dict[str, list[str]] = {}
    for ev in facts.history.events:
        if ev.key in wanted:
            events.setdefault(ev.key, []).append(ev.id)
    theirs = facts.effects_of([i for ids in events.values() for i in ids])
    made: dict[str, list[Effect]] = {key: [] for key in wanted}
    for e in facts.record_only:
        if e.key in made:
            made[e.key].append(e)
    for key, ids in events.items():
        made[key] += [w for i in ids for w in theirs[i]]
    return _covered(facts, exp, wanted, made)


def _creations(shorts: Mapping[str, Sequence[Short]]) -> dict[str, set[Request | None]]:
    """Subject -> the creations it lacks, where all it lacks are creations (``POST``)."""
    return {
        subject: {s.request for s in short}
        for subject, short in shorts.items()
        if short and all(s.request is not None and s.request.method == "POST" for s in short)
    }


def _covered(
    facts: Facts,
    exp: Expectation,
    wanted: Mapping[str, set[Request | None]],
    made: Mapping[str, Sequence[Effect]],
) -> dict[str, ForeignWrite]:
    """The subjects of ``wanted`` whose writes (``made``) cover each creation they lack with
    a write to an item of its collection whose id their run's double had not issued then."""
    history = facts.history
    stateful = {s.source for s in history.states}
    issued = _issued(history)
    clean: Counter[str] = Counter() if history.baseline is None else _totals(history.baseline)
    out: dict[str, ForeignWrite] = {}
    for subject, creations in wanted.items():
        covered: set[Request | None] = set()
        first: ForeignWrite | None = None
        for w in made[subject]:
            if not is_write(w) or w.downstream in stateful:
                continue
            creation = created_in(same_resource(exp.routes.of(w)))
            if creation not in creations:
                continue
            item = w.path.partition("?")[0].rpartition("/")[2]
            number = _GENERATED.fullmatch(item)
            if number is None or int(number[1]) <= issued.get(w.id, 0):
                continue
            covered.add(creation)
            if first is None:
                first = ForeignWrite(w, item, int(number[1]) <= clean[w.downstream])
        if first is not None and covered == creations:
            out[subject] = first
    return out


def _issued(history: History) -> dict[str, int]:
    """Effect id -> how many ids its double could have made up before it: the 201 answers it
    gave on that downstream until then (each 201 at most one id)."""
    seen: Counter[str] = Counter()
    out: dict[str, int] = {}
    for e in sorted(history.effects, key=_at):
        out[e.id] = seen[e.downstream]
        if e.status == 201:
            seen[e.downstream] += 1
    return out


def _totals(history: History) -> Counter[str]:
    """Downstream -> the 201 answers its double gave in ``history``."""
    return Counter(e.downstream for e in history.effects if e.status == 201)


def _at(effect: Effect) -> float:
    return effect.at


def foreign_text(found: Mapping[str, ForeignWrite], subject: str) -> str:
    """Why the events of ``found`` (``subject``: ``they``, ``2 of them``) are not called lost,
    and what to do."""
    first = next(iter(found.values()))
    whose = "its clean run's double issued it" if first.clean else "nor had its clean run's"
    example = f"{first.effect.method.upper()} {first.effect.path.partition('?')[0]}"
    return (
        f"{subject} wrote to an item whose id this run's downstream double had not issued "
        f"({example} {first.effect.id}: {whose}): the automation kept that id from an "
        "earlier run (the clean run, or the hazard before) and found it again by a value "
        "sent as it was (an email, a name: a recording replays as recorded but for its "
        "ids), so it updated an earlier run's item where the clean run created one — work "
        "the harness cannot tie to this run, nor hold against the clean run's creation. Give "
        "each run values of its own (`tracer: {rewrite: true}` in a scenario file traces a "
        "recording's emails and names: docs/correlation.md; synthetic events: vary the field "
        "the automation keys by), or restart the automation between runs, and run again"
    )
