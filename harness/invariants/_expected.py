"""Expected effects: the requests each event must cause, and how far a run fell short of them.

An event's expected effects are (downstream, method, route) requests with a count. They are
**declared** in the scenario (``expect:`` per event type), or **learned** from the clean run
(the baseline: each event once, in order, no faults) as the writes it made for the event's twin
(the clean run's event of the same ``seq``). Without either for a type, the old rule holds for
its events: **any** effect.

How a run is compared with its expectation, and what it lacks of it, is ``_shortfalls``; the
requests themselves (downstream, method, route template) are ``_requests``.

A write that names no event or record of its run and carries another run's tracer token is that
run's late write (the target finished an earlier run's work while this one went: an explore
example's queue, a journal judged without its invocation's late-effect hand-back): it is never
learned as, nor counted among, a run's own writes; the notes say how many were left out.

Everything here reads what ``RunInfo.settings`` holds (the declared expectation, the
downstreams' routes), the run's events and the baseline History, so ``harness check`` judges a
stored run as the run itself did; ``Expectation.outstanding`` lets a settling run wait until
every accepted event has its expected effects.
"""

from __future__ import annotations

import enum
import weakref
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..core._model import ISSUED_MARK, Delivery, Effect, Event, Model, Outcome
from ..core._providers import PROVIDERS
from ..core._scenario import ExpectedRequest, ExpectSpec, Scenario
from ..drive._drift import drifted_events
from ..history import History, RunInfo, delivery_rows, event_column, event_rows
from ._baseline_names import NEED_BASELINE as NEED_BASELINE
from ._batch_kept import Kept, kept
from ._facts import Facts, distinct, first_sent, is_write
from ._first_only import first_only, first_record_only
from ._held import batched_with, followed
from ._refused_twins import refused_twins
from ._refused_whole import RefusedWhole, refused_whole
from ._requests import (
    ANY_DOWNSTREAM,
    Request,
    Routes,
    of_another_run,
    requests_in,
)
from ._shortfalls import Level, Shortfalls, acted_once, shortfalls
from ._ties import Ties
from ._unfinished import unfinished


class Rule(enum.StrEnum):
    """Where an event type's expected effects come from."""

    DECLARED = "declared"  # expect: in the scenario
    LEARNED = "learned"  # the clean run
    ANY = "any"  # neither: any effect counts


@dataclass(frozen=True, slots=True)
class TypeRule:
    """How the events of one type are judged; ``ignored``: they are expected to cause nothing."""

    rule: Rule
    ignored: bool = False


# --- what the run's settings keep -------------------------------------------------------------


# The settings' stateful downstreams, each with its page_size (None: lists answered whole).
STATEFUL = "stateful"


def scenario_settings(scenario: Scenario) -> dict[str, Any]:
    """What judging expected effects needs of a scenario, for ``RunInfo.settings``: the stub
    routes of each downstream, the declared expectation when there is one, and the stateful
    downstreams with their ``page_size`` (None: a list answered whole, as a JSON array — what
    a refusal after a collection read names, ``_refusal_context.plain_list``)."""
    out: dict[str, Any] = {
        "routes": {
            d.name: [f"{r.method} {r.path}" for r in d.routes] for d in scenario.downstreams
        },
    }
    stateful = {d.name: d.page_size for d in scenario.downstreams if d.stateful}
    if stateful:
        out[STATEFUL] = stateful
    if scenario.expect:
        out["expect"] = {
            spec.type: [
                {
                    "downstream": r.downstream,
                    "method": r.method,
                    "path": r.path,
                    "count": r.count,
                }
                for r in spec.requests
            ]
            for spec in scenario.expect
        }
    return out


def _declared(settings: Mapping[str, Any]) -> dict[str, list[tuple[str, str, str, int]]]:
    """type -> [(downstream or "*", method, path, count)] from the settings."""
    found = settings.get("expect")
    if not isinstance(found, Mapping):
        return {}
    return {
        str(t): [
            (
                str(r.get("downstream") or ANY_DOWNSTREAM),
                str(r["method"]),
                str(r["path"]),
                int(r.get("count", 1)),
            )
            for r in requests
        ]
        for t, requests in found.items()
    }


def expect_specs(settings: Mapping[str, Any]) -> tuple[ExpectSpec, ...]:
    """The declared expectation back as the Scenario's dataclasses (for messages and tests)."""
    return tuple(
        ExpectSpec(
            t,
            tuple(
                ExpectedRequest(m, p, None if d == ANY_DOWNSTREAM else d, c) for d, m, p, c in rs
            ),
        )
        for t, rs in _declared(settings).items()
    )


# --- the expectation ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expectation:
    """The expected effects of one run's events, and the rules they came from.

    Each event is in one of: ``per_event`` (the requests it must cause), ``nothing`` (it is
    expected to cause nothing: a type ignored by design, or an event whose clean twin made
    nothing, not among the last of its type there: ``held``), ``any_rule`` (no clean run and
    no declaration for it: any effect counts), or none of them: what the clean run made for
    it could be tied only to its record or to no event, and ``per_record`` (this run's record
    keys) and ``per_run`` hold those.
    """

    model: Model
    routes: Routes
    per_event: Mapping[str, Counter[Request]]
    nothing: frozenset[str]
    any_rule: frozenset[str]
    types: Mapping[str, TypeRule]  # event type -> the rule its events are judged by
    per_record: Mapping[str, Counter[Request]] = field(default_factory=dict)
    per_run: Counter[Request] = field(default_factory=Counter)
    # This run's records the clean run had no twin of (a year's month holds records its clean
    # run never saw), whose writes name only their record: each owes one of every request
    # every record of the clean run got (``_Learned.untwinned``).
    untwinned: Mapping[str, Counter[Request]] = field(default_factory=dict)
    # Records whose clean twins got nothing though such records acted here (the clean run lost
    # them): each owes the same (``_Learned.hushed``).
    hushed: Mapping[str, Counter[Request]] = field(default_factory=dict)
    # Records whose clean twins got nothing, where the clean run wrote, per record, only the
    # record of its type's first event (``_first_only.first_record_only``): each owes what it got.
    first_records: Mapping[str, Counter[Request]] = field(default_factory=dict)
    # Events of a type that acts whose clean twin was accepted and made nothing.
    not_expected: frozenset[str] = frozenset()
    # Events whose clean twins were accepted and made nothing, the last of their type there,
    # which acted on every other (``_held``): expected what their type's events made.
    held: frozenset[str] = frozenset()
    # Those of ``held`` whose clean twins came in one request with an event of their type that
    # acted (a batching sender: ``_held.batched_with``).
    held_batched: frozenset[str] = frozenset()
    # Of ``held_batched``, where the clean run's requests show which of their events acted
    # (``_batch_kept``): event id -> what.
    held_kept: Mapping[str, Kept] = field(default_factory=dict)
    # Events whose clean twins were answered without a call, as was every event of their type
    # there but its first, which acted (``_first_only``): expected what it made.
    first_only: frozenset[str] = frozenset()
    # Events whose clean twins made their type's request and were refused it (answered an
    # error, nothing committed: ``_refused_twins``): expected what their type's events made.
    refused_clean: frozenset[str] = frozenset()
    # Events whose clean twin was refused (or is missing), or whose clean twin's work was not
    # seen to its end (``unseen``): expected what their type's make.
    by_type: frozenset[str] = frozenset()
    # Events whose clean twin made nothing while the clean run watched, though it may have
    # acted after (``_unfinished``): not taken as ignored, nor called lost when short.
    unseen: frozenset[str] = frozenset()
    why_unseen: str = ""  # how the clean run stopped watching too soon
    # Events of a type the clean run never sent, none of whose events made a write here (the
    # year's new event type): ignored by the automation, or its work lost whole — not known.
    untaught: Mapping[str, str] = field(default_factory=dict)  # event id -> its type
    # Events of a type whose clean twins made requests, every one refused, and none of which
    # wrote here (``_refused_whole``): not ignored by design, their work never tested.
    refused_whole: Mapping[str, str] = field(default_factory=dict)  # event id -> its type
    refusals: Mapping[str, RefusedWhole] = field(default_factory=dict)  # type -> what was
    clean_run: str | None = None  # the run id learned from
    why_any: str = "no clean run, no expect:"  # why the any-effect rule applies where it does
    # Events whose clean twins made nothing, though such events acted in this run: expected
    # what their type's events made (not ``nothing``).
    unlike_clean: frozenset[str] = frozenset()
    # Of ``not_expected``, in a register: event id -> the seq of an older event of its record
    # whose clean twin, with the same time, was written where its own was skipped (``_ties``).
    tied: Mapping[str, int] = field(default_factory=dict)
    several: bool = False  # several downstreams: requests are named with theirs
    # The records whose creations left standing no_duplicate_effects counts: both runs'
    # doubles marked the ids they made up (ISSUED marks), and the record is one it compares
    # with its clean twin (``Facts.comparable_records``: several events, all accepted in both
    # runs, none drifted). A DELETE short of one of them where they stand is its to judge
    # (``_deleted_instead``); of any other, a loss.
    standing_counted: frozenset[str] = frozenset()
    tag: str = ""  # the judged run's tracer tag: a write carrying another's is not its own
    scenario: str = ""  # the judged run's scenario (a hazard's name): advice names others
    others: int = 0  # the clean run's writes of another run, not learned

    @property
    def only_any(self) -> bool:
        """Nothing declared or learned: every event is judged by the any-effect rule."""
        return not (self.per_event or self.nothing or self.per_record or self.per_run)

    def outstanding(
        self,
        events: Sequence[Event],
        deliveries: Iterable[Delivery],
        effects: Iterable[Effect],
        tampered: Collection[str] = (),
    ) -> int:
        """How many expected effects of the accepted events are still missing (0: all made).

        For a run that is still going (the settle loop): ``events`` are the run's, the
        deliveries and effects those recorded so far, ``tampered`` the ids of tampered
        deliveries (they do not make an event accepted). Counts one per (event, request),
        (record, request) or (run, request) short, exactly as ``no_lost_events`` judges.
        """
        known = {e.id for e in events}
        deliveries = list(deliveries)
        accepted = {
            d.event_id
            for d in deliveries
            if d.outcome is Outcome.OK and d.id not in tampered and d.event_id in known
        }
        writes = [e for e in effects if is_write(e)]
        return shortfalls(self, events, accepted, writes, first_sent(deliveries, tampered)).count

    def waiting(
        self,
        accepted: Sequence[Event],
        effects: Sequence[Effect],
        first_sent: Mapping[str, float] | None = None,
    ) -> set[str]:
        """What settling still waits for (the engine's PendingRule): the accepted events short
        of an expected effect, and the (record or run, request) shortfalls where the effects
        name no event — judged as ``no_lost_events`` will judge them (``first_sent``: event id
        -> its first delivery's send, as ``shortfalls`` takes it)."""
        ids = {e.id for e in accepted}
        writes = [e for e in effects if is_write(e)]
        short = shortfalls(self, accepted, ids, writes, first_sent)
        coarse = (
            f"{s.level} {s.subject} {s.request}"
            for s in (*short.records, *short.partly, *short.run)
        )
        return {*short.events, *coarse}


def missing_expected(
    expectation: Expectation,
    events: Sequence[Event],
    deliveries: Iterable[Delivery],
    effects: Iterable[Effect],
    tampered: Collection[str] = (),
) -> int:
    """``expectation.outstanding(...)``: the engine's question while it settles."""
    return expectation.outstanding(events, deliveries, effects, tampered)


_CACHE: weakref.WeakKeyDictionary[Facts, Expectation] = weakref.WeakKeyDictionary()


def expectation_of(facts: Facts) -> Expectation:
    """The run's Expectation, learned once per ``judge()`` and shared by the invariants."""
    found = _CACHE.get(facts)
    if found is None:
        history = facts.history
        found = learn(history.info, history.events, history.baseline, facts.writes_in_order)
        baseline = history.baseline
        if baseline is not None and _issues(history) and _issues(baseline):
            found = replace(found, standing_counted=facts.comparable_records)
        _CACHE[facts] = found
    return found


_SHORT: weakref.WeakKeyDictionary[Facts, Shortfalls] = weakref.WeakKeyDictionary()


def shortfalls_of(facts: Facts) -> Shortfalls:
    """The run's ``shortfalls`` of ``expectation_of(facts)``, no send timed (the judge's
    costliest pass): made once per ``judge()`` and shared — ``no_lost_events`` where no write
    names only its record (``_newest.timed_shortfalls``), and the stand-ins ``Stood`` and
    ``Swapped`` that ``recovers_after_outage``, ``final_state_matches_baseline`` and
    ``no_duplicate_effects`` read. Shared: never changed by its readers."""
    found = _SHORT.get(facts)
    if found is None:
        history = facts.history
        found = _SHORT[facts] = shortfalls(
            expectation_of(facts), history.events, facts.accepted, facts.writes_in_order
        )
    return found


def _issues(history: History) -> bool:
    """Did ``history``'s double mark an id it made up for a creation?"""
    return any(m.name == ISSUED_MARK for m in history.marks)


# How many writes of an effect's request (downstream, method, route) its event's clean twin
# made, or the scenario's expect: declares for it; 0 where nothing says.
Own = Callable[[Effect], int]


def none_owed(_: Effect) -> int:
    return 0


def owed_writes(facts: Facts, event_id: str) -> Own:
    """How many writes of each request the event's clean twin made (or ``expect:`` declares)."""
    exp = expectation_of(facts)
    wanted = exp.per_event.get(event_id)
    if not wanted:
        return none_owed
    routes = exp.routes
    return lambda effect: wanted[routes.of(effect)]


class _RunWrites:
    """The requests each event of the judged run made, found once, when first asked: only
    events whose clean twins made nothing are asked about. A drifted event (a field renamed,
    dropped, retyped) is not its twin's payload: what it made tells nothing of its twin's
    silence, and counts as nothing here. A write naming only its record was made for one of
    the record's events: where those are all of one type, an event of that type made it (a
    worker that pays orders by their order id: its payouts name no event)."""

    def __init__(
        self,
        writes: Sequence[Effect],
        routes: Routes,
        events: Sequence[Event],
        drifted: Collection[str] = (),
    ) -> None:
        self._writes = writes
        self._routes = routes
        self._events = events
        self._drifted = drifted
        self._by_event: dict[str, set[Request]] | None = None

    def made(self, event_id: str) -> set[Request]:
        if event_id in self._drifted:
            return set()
        if self._by_event is None:
            self._by_event = self._index()
        return self._by_event.get(event_id, set())

    def _index(self) -> dict[str, set[Request]]:
        by_event: dict[str, set[Request]] = {}
        by_record: dict[str, set[Request]] = {}
        for w in self._writes:
            request = self._routes.of(w)
            for eid in w.event_ids:
                by_event.setdefault(eid, set()).add(request)
            if not w.event_ids and w.key is not None:
                by_record.setdefault(w.key, set()).add(request)
        if by_record:
            of_record: dict[str, list[Event]] = {}
            for e in self._events:
                if e.key in by_record:
                    of_record.setdefault(e.key, []).append(e)
            for key, mine in of_record.items():
                if len({e.type for e in mine}) == 1:
                    for e in mine:
                        by_event.setdefault(e.id, set()).update(by_record[key])
        return by_event


def learn(
    info: RunInfo,
    events: Sequence[Event],
    baseline: History | None,
    writes: Sequence[Effect] = (),
) -> Expectation:
    """The expected effects of ``events``: declared in ``info.settings``, else learned from
    ``baseline`` (when it is the complete clean run), else any effect. ``writes``: the run's
    committed writes — where the clean run made nothing for a type, or for some events of it,
    yet such events made here a request the clean run made (for that type; for any, where it
    made none for the type; any request, where the clean run made none at all), the clean
    run's silence was not design."""
    settings = info.settings
    declared = _declared(settings)
    stubs = settings.get("routes")
    stubs = stubs if isinstance(stubs, Mapping) else {}
    routes = Routes(stubs, ((d, m, p) for rs in declared.values() for d, m, p, _ in rs))
    # One Counter per declared type, shared by its events.
    by_type: dict[str, Counter[Request]] = {}
    for t, requests in declared.items():
        wanted = by_type[t] = Counter()
        for d, m, p, c in requests:
            wanted[Request(d, m, p)] += c
    per_event: dict[str, Counter[Request]] = {}
    nothing: set[str] = set()
    types = {t: TypeRule(Rule.DECLARED, ignored=not rs) for t, rs in declared.items()}
    # Read off the columns: a loaded run's events are made only where one is taken as itself.
    undeclared: Sequence[Event] = events
    if by_type:
        kept: list[Event] = []
        for i, (eid, t) in enumerate(event_rows(events, "id", "type")):
            found = by_type.get(t)
            if found is None:
                kept.append(events[i])
            elif found:
                per_event[eid] = found
            else:
                nothing.add(eid)
        undeclared = kept
    clean, why = _usable(settings, baseline)
    learned = (
        _Learned(
            clean, routes, undeclared, _RunWrites(writes, routes, events, drifted_events(settings))
        )
        if clean is not None and undeclared
        else None
    )
    if learned is None:
        any_rule = frozenset(event_column(undeclared, "id"))
        # one rule per type, in event order
        for t in dict.fromkeys(event_column(undeclared, "type")):
            types.setdefault(t, TypeRule(Rule.ANY))
    else:
        per_event.update(learned.per_event)
        nothing |= learned.nothing
        any_rule = frozenset(learned.any_rule)
        types.update(learned.types)
        # Learned, yet some type by any effect: the clean run refused all its events, or made
        # nothing for a type this run's events acted on.
        why = "; ".join(
            text
            for text, found in (
                ("the clean run accepted none of their events", learned.refused),
                ("the clean run sent none of their type", learned.unsent),
                ("the clean run's every request for them was refused", learned.refusals),
                (
                    "the clean run made no effect for them while it watched, and stopped "
                    "watching before the target was done",
                    learned.cut,
                ),
                (
                    "the clean run made no effect for them, though this run's did: its "
                    "silence is not taken as design",
                    learned.silent,
                ),
            )
            if found
        )
    return Expectation(
        model=info.model,
        routes=routes,
        per_event=per_event,
        nothing=frozenset(nothing),
        any_rule=any_rule,
        types=types,
        per_record=learned.per_record if learned else {},
        per_run=learned.per_run if learned else Counter(),
        untwinned=learned.untwinned if learned else {},
        hushed=learned.hushed if learned else {},
        first_records=learned.first_records if learned else {},
        not_expected=frozenset(learned.not_expected) if learned else frozenset(),
        held=frozenset(learned.held) if learned else frozenset(),
        held_batched=frozenset(learned.held_batched) if learned else frozenset(),
        held_kept=learned.held_kept if learned else {},
        first_only=frozenset(learned.first_only) if learned else frozenset(),
        refused_clean=frozenset(learned.refused_clean) if learned else frozenset(),
        by_type=frozenset(learned.by_type) if learned else frozenset(),
        unseen=frozenset(learned.unseen) if learned else frozenset(),
        why_unseen=learned.why_unseen if learned else "",
        untaught=learned.untaught if learned else {},
        refused_whole=learned.refused_whole if learned else {},
        refusals=learned.refusals if learned else {},
        clean_run=clean.info.run_id if clean is not None else None,
        why_any=why or "no clean run, no expect:",
        several=len(stubs) > 1,
        tag=info.tracer_tag,
        scenario=info.scenario,
        others=learned.others if learned else 0,
        unlike_clean=frozenset(learned.unlike_clean) if learned else frozenset(),
        tied=learned.tied if learned else {},
    )


def _usable(settings: Mapping[str, Any], baseline: History | None) -> tuple[History | None, str]:
    """The clean run to learn from, or None and why not."""
    wanted = settings.get("baseline")
    if baseline is None:
        if wanted:
            return None, f"the clean run {wanted} is not in this journal"
        return None, "no clean run, no expect:"
    if baseline.status != "complete":
        return None, f"the clean run {baseline.info.run_id} did not complete"
    return baseline, ""


class _Learned:
    """What the clean run teaches about the undeclared events of a run (see ``learn``)."""

    def __init__(
        self,
        clean: History,
        routes: Routes,
        events: Sequence[Event],
        here: _RunWrites,
    ) -> None:
        twins = {e.seq: e for e in clean.events}
        twin_of = {
            e.id: twin
            for e in events
            if (twin := twins.get(e.seq)) is not None and twin.type == e.type
        }
        # The clean run's record keys -> this run's, through the twins.
        run_key = {twin.key: e.key for e in events if (twin := twin_of.get(e.id)) is not None}
        by_twin = self._learn_writes(clean, routes, run_key)
        self._clean, self._by_twin, self._routes = clean, by_twin, routes
        self._ties = Ties(clean, by_twin.keys())
        rows = delivery_rows(clean.deliveries, "event_id", "outcome")
        accepted = {e for e, o in rows if o is Outcome.OK}
        of_type: dict[str, list[Event]] = {}
        for e in events:
            of_type.setdefault(e.type, []).append(e)
        records_written = set(self.per_record)
        self.per_event: dict[str, Counter[Request]] = {}
        self.nothing: set[str] = set()
        self.any_rule: set[str] = set()
        self.not_expected: set[str] = set()
        self.held: set[str] = set()
        self.held_batched: set[str] = set()
        self.held_kept: dict[str, Kept] = {}
        self.first_only: set[str] = set()
        self.first_records: dict[str, Counter[Request]] = {}
        self.refused_clean: set[str] = set()
        self.by_type: set[str] = set()
        self.types: dict[str, TypeRule] = {}
        self.refused: set[str] = set()  # types whose every clean twin was refused
        self.unsent: set[str] = set()  # types the clean run never sent (no twin at all)
        self.untaught: dict[str, str] = {}  # their events (-> type), none of which wrote here
        self.refusals: dict[str, RefusedWhole] = {}  # types whose every request was refused
        self.refused_whole: dict[str, str] = {}  # their events (-> type)
        # Events whose clean twins made nothing, though such events acted in this run.
        self.unlike_clean: set[str] = set()
        self.tied: dict[str, int] = {}  # of not_expected: skipped beside a same-time write
        self.silent: set[str] = set()  # types the clean run made nothing for, this run did
        # The clean run stopped watching before its target was done (at its deadline, or
        # effects came after): an event of it left alone may have acted after.
        undone = unfinished(clean)
        # An accepted twin that made nothing may have acted after: a late effect names some,
        # the queue behind them holds others — none of them teaches silence.
        self._unsure = undone.any
        self.unseen: set[str] = set()  # events whose accepted clean twin may have acted after
        self.cut: set[str] = set()  # types the clean run made nothing for, while it watched
        self.why_unseen = undone.cut or "effects of it came after its final state was taken"
        # A type with no twin here may still be one the clean run sent (at other seqs): taught.
        sent_types = set(event_column(clean.events, "type"))
        for t, mine in of_type.items():
            made = {e.id: m for e in mine if (m := _made(by_twin, twin_of.get(e.id)))}
            # A write the clean run could not tie to an event may be one of these events'.
            coarse = bool(self.per_run) or any(e.key in records_written for e in mine)
            if made:
                self.types[t] = TypeRule(Rule.LEARNED)
                self._acting(mine, made, twin_of, accepted, records_written, here)
            elif coarse:
                self.types[t] = TypeRule(Rule.LEARNED)  # judged per record or per run only
                self._first_record(mine, twin_of, accepted, here)
            elif t not in sent_types:  # a type the clean run never sent
                self.types[t] = TypeRule(Rule.ANY)
                self.any_rule.update(e.id for e in mine)
                self.unsent.add(t)
                if not any(here.made(e.id) for e in mine):  # nor acted on here: not known
                    self.untaught.update((e.id, t) for e in mine)
            elif not any(
                (tw := twin_of.get(e.id)) is not None and tw.id in accepted for e in mine
            ):  # the clean run refused them all: it teaches nothing about them
                self.types[t] = TypeRule(Rule.ANY)
                self.any_rule.update(e.id for e in mine)
                self.refused.add(t)
            elif self._unsure:  # its silence was not seen to its end
                self.types[t] = TypeRule(Rule.ANY)
                self.any_rule.update(e.id for e in mine)
                self.unseen.update(
                    e.id for e in mine if (tw := twin_of.get(e.id)) and tw.id in accepted
                )
                self.cut.add(t)
            elif self._acted_here(mine, here, by_twin):  # the clean run lost them: not design
                self.types[t] = TypeRule(Rule.ANY)
                self.any_rule.update(e.id for e in mine)
                self.silent.add(t)
            elif refused := refused_whole(
                clean, routes, [tw for e in mine if (tw := twin_of.get(e.id)) and tw.id in accepted]
            ):  # it tried, and nothing took effect: not design, and not tested
                self.types[t] = TypeRule(Rule.ANY)
                self.any_rule.update(e.id for e in mine)
                self.refusals[t] = refused
                self.refused_whole.update((e.id, t) for e in mine)
            else:
                self.types[t] = TypeRule(Rule.LEARNED, ignored=True)
                self.nothing.update(e.id for e in mine)
        # One of each request every record of the clean run got, where its writes were
        # compared per record: what a record it has no reference for owes.
        typical = Counter(dict.fromkeys(_common(self.per_record.values()), 1))
        self.untwinned = self._untwinned(events, twin_of, typical)
        self.hushed = self._hushed(events, twin_of, here, typical)

    def _first_record(
        self,
        mine: Sequence[Event],
        twin_of: Mapping[str, Event],
        accepted: Collection[str],
        here: _RunWrites,
    ) -> None:
        """Where the clean run's writes for a type named only their record, and it wrote the
        record of the type's first event alone (``first_record_only``), while this run wrote no
        other record of it either: each other record owes one of each request that one got."""
        if self.per_run or self._unsure:
            return
        written = {e.key for e in mine} & self.per_record.keys()
        if len(written) != 1:
            return
        [key] = written
        if any(here.made(e.id) for e in mine if e.key != key):
            return
        twins = [(e.key, tw) for e in mine if (tw := twin_of.get(e.id)) and tw.id in accepted]
        if first_record_only(
            self._clean, [tw for k, tw in twins if k == key], [tw for k, tw in twins if k != key]
        ):
            owed = Counter(dict.fromkeys(self.per_record[key], 1))
            self.first_records.update((k, owed) for k, _ in twins if k != key)

    def _untwinned(
        self, events: Sequence[Event], twin_of: Mapping[str, Event], typical: Counter[Request]
    ) -> dict[str, Counter[Request]]:
        """This run's records none of whose events has a clean twin or is expected anything of
        its own, where the clean run's writes were compared per record: each owes one of every
        request every record of the clean run got — else a record the clean run never saw owed
        nothing, and lost every write unseen."""
        if not typical:
            return {}
        keys: dict[str, bool] = {}
        for e in events:
            alone = e.id not in twin_of and e.id not in self.per_event and e.id not in self.nothing
            keys[e.key] = keys.get(e.key, True) and alone
        return {k: typical for k, alone in keys.items() if alone and k not in self.per_record}

    def _hushed(
        self,
        events: Sequence[Event],
        twin_of: Mapping[str, Event],
        here: _RunWrites,
        typical: Counter[Request],
    ) -> dict[str, Counter[Request]]:
        """This run's records each of whose events has a clean twin, where the twins' record got
        no write and no event of it is expected anything of its own, while the clean run's
        writes were compared per record: where such a record of the same event types got here
        a request every written record of the clean run got, the clean run lost them (a worker
        that died with them queued) — its silence is not design, and each owes one of those
        requests. Not where the clean run stopped watching before its target was done."""
        if not typical or self._unsure:
            return {}
        of_record: dict[str, list[Event]] = {}
        for e in events:
            of_record.setdefault(e.key, []).append(e)
        groups: dict[frozenset[str], list[str]] = {}
        for key, mine in of_record.items():
            if (
                key not in self.per_record
                and key not in self.untwinned
                and all(
                    e.id in twin_of and e.id not in self.per_event and e.id not in self.nothing
                    for e in mine
                )
            ):
                groups.setdefault(frozenset(e.type for e in mine), []).append(key)
        out: dict[str, Counter[Request]] = {}
        for keys in groups.values():
            if any(here.made(e.id) & typical.keys() for k in keys for e in of_record[k]):
                out.update(dict.fromkeys(keys, typical))
        return out

    def _acted_here(
        self, mine: Sequence[Event], here: _RunWrites, by_twin: Mapping[str, Counter[Request]]
    ) -> bool:
        """Whether events of a type the clean run made nothing for made here a request the
        clean run made for others (any request, where it made none at all): an alert or an
        audit write is not the automation's work."""
        clean = requests_in(by_twin.values(), self.per_record.values(), [self.per_run])
        return any((found := here.made(e.id)) and (not clean or found & clean) for e in mine)

    def _learn_writes(
        self, clean: History, routes: Routes, run_key: Mapping[str, str]
    ) -> dict[str, Counter[Request]]:
        """Clean-run event id -> its requests; ``per_record`` and ``per_run`` for the requests
        the clean run could not tie to an event every time."""
        known = {e.id for e in clean.events}
        key_of = {e.id: e.key for e in clean.events}
        writes: list[tuple[Request, list[str], str | None, Effect]] = []
        rank: dict[Request, int] = {}  # the coarsest level a write of it needs: index in _LEVELS
        self.others = 0
        for w in clean.effects:
            if not is_write(w):
                continue
            if of_another_run(w, clean.info.tracer_tag):
                self.others += 1  # an earlier run's late write: no expected effect of any run
                continue
            request = routes.of(w)
            named = [eid for eid in distinct(w.event_ids) if eid in known]
            key = w.key if w.key in run_key else (key_of[named[0]] if named else None)
            writes.append((request, named, key, w))
            here = 0 if named else 1 if key is not None else 2
            if here > rank.get(request, -1):
                rank[request] = here
        level = {request: _LEVELS[n] for request, n in rank.items()}
        pairs: Counter[tuple[str, Request]] = Counter()
        self.per_record: dict[str, Counter[Request]] = {}
        self.per_run: Counter[Request] = Counter()
        # An event's write repeated as it was (a job run again: its worker died before marking
        # it done) is a duplicate, by no_duplicate_effects' rule, not a second write it owes.
        made: set[tuple[str, str, str, str, str]] = set()
        for request, named, key, w in writes:
            at = level[request]
            if at is Level.EVENT:
                for eid in named:
                    same = (eid, w.downstream, w.method.upper(), w.path, w.body)
                    if same not in made:
                        made.add(same)
                        pairs[(eid, request)] += 1
            elif at is Level.RECORD and key is not None and key in run_key:
                found = self.per_record.get(run_key[key])
                if found is None:
                    found = self.per_record[run_key[key]] = Counter()
                found[request] += 1
            else:
                self.per_run[request] += 1
        grouped: dict[str, list[tuple[Request, int]]] = {}
        for (eid, request), n in pairs.items():
            grouped.setdefault(eid, []).append((request, n))
        # Most events expect the same requests: one shared Counter for each distinct set.
        shared: dict[tuple[tuple[Request, int], ...], Counter[Request]] = {}
        by_twin: dict[str, Counter[Request]] = {}
        for eid, items in grouped.items():
            items.sort()
            found = shared.get(tuple(items))
            if found is None:
                found = shared[tuple(items)] = Counter(dict(items))
            by_twin[eid] = found
        return by_twin

    def _acting(
        self,
        mine: Sequence[Event],
        made: Mapping[str, Counter[Request]],
        twin_of: Mapping[str, Event],
        accepted: Collection[str],
        records_written: Collection[str],
        here: _RunWrites,
    ) -> None:
        """The events of a type some of whose twins made requests."""
        typical: Counter[Request] | None = None
        left: list[Event] = []  # accepted and left alone in the clean run
        for e in mine:
            if e.id in made:
                self.per_event[e.id] = made[e.id]
                continue
            twin = twin_of.get(e.id)
            seen = twin is not None and twin.id in accepted
            if seen and not self._unsure:
                # Accepted and left alone in the clean run: this event is not expected to act
                # either (an automation that skips some payloads on purpose) — unless a write
                # tied only to its record, or to nothing, may be its.
                if e.key not in records_written and not self.per_run:
                    left.append(e)
                continue
            if seen:  # left alone by a clean run that stopped watching too soon
                self.unseen.add(e.id)
            if typical or (typical is None and (typical := _common(made.values()))):
                # Expected what every acting event of its type made (its twin refused or
                # missing, or its twin's silence not seen to its end).
                self.per_event[e.id] = typical
                if not seen:
                    self.by_type.add(e.id)
            elif e.key not in records_written and not self.per_run:
                self.any_rule.add(e.id)
        # A twin that made its type's request and was refused it did not skip its event: the
        # clean run lost it too (``_refused_twins``), whatever came before or after it — and
        # the clean run, which did not act on it, did not act on all but its last events.
        wrote = {twin_of[i].id: m for i, m in made.items()}
        refused = refused_twins(self._clean, self._routes, [twin_of[e.id] for e in left], wrote)
        if refused:
            self._owe([e for e in left if twin_of[e.id].id in refused], made, self.refused_clean)
            left = [e for e in left if twin_of[e.id].id not in refused]
        if not left:
            return
        requests = requests_in(made.values())
        # Payloads the clean run left alone made here what their type makes: the automation
        # does not skip them on purpose, it lost them there (``unlike_clean``). Or they were
        # its last of their type, which it acted on all the others: held at its end, not
        # skipped (``held``). Each is expected what every acting event of its type made, else
        # any effect.
        # An event standing in for another of its record — the one whose twin acted made
        # none of it here — shows a record's work done once, by whichever came first
        # (``_shortfalls.Swapped``), not payloads it skips on purpose lost in the clean run.
        # Only where the clean run acted on each record once (``_shortfalls.acted_once``):
        # its events of the type that acted, against those left alone.
        acting = Counter(e.key for e in mine if e.id in made)
        idle = Counter(e.key for e in left)
        done_elsewhere = (
            {e.key for e in mine if e.id in made and not here.made(e.id) & requests}
            if acted_once((n, idle[key]) for key, n in acting.items())
            else set()
        )
        if any(here.made(e.id) & requests for e in left if e.key not in done_elsewhere):
            owed = self.unlike_clean
        elif (
            not refused
            and not any(here.made(e.id) for e in mine)
            and first_only(self._clean, [twin_of[i] for i in made], [twin_of[e.id] for e in left])
        ):
            owed = self.first_only
        elif not refused and self._held_at_end([twin_of[e.id] for e in left]):
            owed = self.held
        else:
            owed = None
        if owed is not None:
            self._owe(left, made, owed)
            if owed is self.held:
                self.held_batched.update(self._batched([e.id for e in left], twin_of))
            return
        for e in left:
            self.nothing.add(e.id)
            self.not_expected.add(e.id)
        tied = self._ties.of([twin_of[e.id] for e in left])
        self.tied.update({e.id: tied[twin_of[e.id].id] for e in left if twin_of[e.id].id in tied})

    def _owe(
        self, events: Sequence[Event], made: Mapping[str, Counter[Request]], owed: set[str]
    ) -> None:
        """Expect each of ``events`` what every acting event of its type made (``made``), else
        any effect, and note them in ``owed``."""
        common = _common(made.values())
        for e in events:
            if common:
                self.per_event[e.id] = common
            else:
                self.any_rule.add(e.id)
        owed.update(e.id for e in events)

    def _held_at_end(self, twins: Sequence[Event]) -> bool:
        """Whether ``twins`` (accepted clean events of one type that made nothing) were all
        after every event of their type that acted in the clean run (``_held``)."""
        type_of = {e.id: e.type for e in self._clean.events}
        ids = [e.id for e in twins]
        return not followed(ids, self._by_twin.keys(), type_of, self._clean.deliveries)

    def _batched(self, ids: Sequence[str], twin_of: Mapping[str, Event]) -> set[str]:
        """Those of ``ids`` (this run's events, held) whose clean twins came in one request
        with an event of their type that acted in the clean run (``_held.batched_with``): only
        where the sender batches (HubSpot), as two deliveries recorded at the same instants
        are one request only there."""
        provider = PROVIDERS.get(str(self._clean.info.settings.get("provider")))
        if provider is None or provider.max_batch <= 1:
            return set()
        type_of = {e.id: e.type for e in self._clean.events}
        twins = {twin_of[i].id: i for i in ids}
        found = batched_with(twins, self._by_twin.keys(), type_of, self._clean.deliveries)
        types = {type_of[t] for t in found}
        key_of = {e.id: e.key for e in self._clean.events if e.type in types}
        how = kept(found, self._by_twin.keys(), key_of, self._clean.deliveries)
        if how is not None:
            self.held_kept.update((twins[t], how) for t in found)
        return {twins[t] for t in found}


def _common(made: Iterable[Counter[Request]]) -> Counter[Request]:
    """The requests every one of ``made`` holds, each as often as the fewest hold it."""
    common: Counter[Request] | None = None
    for m in made:
        common = m.copy() if common is None else common & m
    return common or Counter()


def _made(by_twin: Mapping[str, Counter[Request]], twin: Event | None) -> Counter[Request] | None:
    return by_twin.get(twin.id) if twin is not None else None


_LEVELS = (Level.EVENT, Level.RECORD, Level.RUN)
