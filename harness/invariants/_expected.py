"""Expected effects: the requests each event must cause, and how far a run fell short of them.

An event's expected effects are (downstream, method, route) requests with a count. They are
**declared** in the scenario (``expect:`` per event type), or **learned** from the clean run
(the baseline: each event once, in order, no faults) as the writes it made for the event's twin
(the clean run's event of the same ``seq``). Without either for a type, the old rule holds for
its events: **any** effect.

A request is compared at the finest level its writes allow: per event when every write of it
names an event (tracer values), per record when every one names at least a record, else per
run (how many the run made in all). A clean run that cannot tie a request to events teaches it
per record or per run; a run whose writes of a request do not all name an event is compared
per record or per run too, against the sum of what its events expect — so that "30 deals
expected, 4 made" is a loss whatever the attribution. A GraphQL mutation is named by its root
fields after its route (``POST /graphql customerSet``), but where ``expect:`` declared the
route: two mutations through one route are two requests.

An item's write made by another method than its clean twin's counts for it (``same_resource``);
so does the item's creation, where the event that created it in the clean run made none here
and its record got no more creations than its clean twin (``Stood``).

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
import re
import weakref
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from ..core._graphql import MARK as GRAPHQL_MARK
from ..core._graphql import operation_of
from ..core._model import ISSUED_MARK, Delivery, Effect, Event, Model, Outcome
from ..core._providers import PROVIDERS
from ..core._scenario import ExpectedRequest, ExpectSpec, Scenario
from ..double._routes import RouteMatcher, compile_route, route_matches
from ..drive._drift import drifted_events
from ..drive._tracer import carries_other_tag
from ..history import History, RunInfo, delivery_rows, event_column, event_rows
from . import final_state_matches_baseline
from ._facts import Facts, distinct, first_sent, is_write
from ._held import batched_with, followed
from ._ties import Ties
from ._unfinished import unfinished

# Invariants that cannot judge at all without the clean run.
NEED_BASELINE = frozenset({final_state_matches_baseline.NAME})

ANY_DOWNSTREAM = "*"
_ID = "{id}"
_VERSION = re.compile(r"v\d+")


class Request(NamedTuple):
    """A kind of write: downstream, method and route template (``/contacts/{id}``)."""

    downstream: str
    method: str
    route: str

    def text(self, several: bool = False) -> str:
        """``POST /deals``, with the downstream when the run has several: ``POST /deals (crm)``."""
        shown = several and self.downstream != ANY_DOWNSTREAM
        return f"{self.method} {self.route}" + (f" ({self.downstream})" if shown else "")


# Methods that set an item's state (``/members/{id}``): one of them where the clean run made
# another writes the same resource another way — an upsert that PATCHes a record it finds and
# PUTs one it does not, or whichever won a race — not a loss.
_ITEM_WRITES = ("PUT", "PATCH", "POST")
_ANY_ITEM_WRITE = "|".join(_ITEM_WRITES)


def is_item(route: str) -> bool:
    """Does ``route`` name an item (``/members/{id}``: its last segment a parameter), not a
    collection (``/members``)?"""
    return route.rpartition("/")[2][:1] == "{"


def same_resource(request: Request) -> Request:
    """The resource ``request`` writes, whatever its write method: a PUT, PATCH or POST to an
    item (a route whose last segment is a parameter) stands for all three; any other request
    (a POST to a collection creates, a DELETE removes) for itself only."""
    methods = request.method.split("/")  # several: a need summed over them (``_shown``)
    if all(m in _ITEM_WRITES for m in methods) and is_item(request.route):
        return Request(request.downstream, _ANY_ITEM_WRITE, request.route)
    return request


def created_in(resource: Request) -> Request | None:
    """The creation (``POST /customers``) in the collection of ``resource``, an item's writes
    (``same_resource``: ``PUT|PATCH|POST /customers/{id}``); None for any other request."""
    collection = resource.route.rpartition("/")[0]
    if resource.method != _ANY_ITEM_WRITE or not collection or not is_item(resource.route):
        return None
    return Request(resource.downstream, "POST", collection)


def _by_resource(wanted: Counter[Request]) -> list[tuple[Request, list[tuple[Request, int]]]]:
    """``wanted``'s requests grouped by the resource they write (``same_resource``)."""
    groups: dict[Request, list[tuple[Request, int]]] = {}
    for request, need in wanted.items():
        groups.setdefault(same_resource(request), []).append((request, need))
    return list(groups.items())


def _shown(requests: Sequence[tuple[Request, int]]) -> Request:
    """How a need summed over one resource's requests is named: ``PUT/PATCH /contacts/{id}``
    where the clean run wrote it by both, else its one request."""
    first = requests[0][0]
    if len(requests) == 1:
        return first
    return first._replace(method="/".join(r.method for r, _ in requests))


class Rule(enum.StrEnum):
    """Where an event type's expected effects come from."""

    DECLARED = "declared"  # expect: in the scenario
    LEARNED = "learned"  # the clean run
    ANY = "any"  # neither: any effect counts


class Level(enum.StrEnum):
    EVENT = "event"
    RECORD = "record"
    RUN = "run"


@dataclass(frozen=True, slots=True)
class TypeRule:
    """How the events of one type are judged; ``ignored``: they are expected to cause nothing."""

    rule: Rule
    ignored: bool = False


# --- route templates --------------------------------------------------------------------------


def normalise(path: str) -> str:
    """``/contacts/zqabce3?x=1`` -> ``/contacts/{id}``: segments holding a digit (but a version
    like ``v2``) or an ``@`` are ids, so two writes to two records compare equal."""
    out = []
    for segment in path.split("?", 1)[0].split("/"):
        is_id = (
            any(map(str.isdigit, segment)) and not _VERSION.fullmatch(segment)
        ) or "@" in segment
        out.append(_ID if is_id else segment)
    return "/".join(out)


class Routes:
    """What request an effect is: a declared route, else one of its downstream's stub routes,
    else its method and normalised path."""

    def __init__(
        self,
        stubs: Mapping[str, Sequence[str]],
        declared: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        # (downstream or "*", the route's method and template, its matcher)
        self._routes: list[tuple[str, str, str, RouteMatcher]] = []
        for downstream, method, path in declared:
            self._add(downstream, method, path)
        self._declared = len(self._routes)  # the first routes: declared, named as declared
        for downstream, routes in stubs.items():
            for route in routes:
                method, _, path = route.partition(" ")
                # A trailing '*' covers many resources: each keeps its own normalised path.
                if not path.endswith("*"):
                    self._add(downstream, method, path)
        # (downstream, method, path) -> its request, and whether a GraphQL mutation POSTed
        # there is named by its fields (not where the route was declared: ``expect:`` names it)
        self._seen: dict[tuple[str, str, str], tuple[Request, bool]] = {}
        self._resources: dict[Request, Request] = {}

    def _add(self, downstream: str, method: str, path: str) -> None:
        matcher = compile_route(f"{method} {path}", where="expected effects")
        self._routes.append((downstream, method, path, matcher))

    def of(self, effect: Effect) -> Request:
        """The request ``effect`` is; a GraphQL mutation's named by its root fields too
        (``POST /graphql customerSet``, as ``merges:`` spells it): two mutations through one
        route are two requests."""
        found = (effect.downstream, effect.method, effect.path)
        known = self._seen.get(found)
        if known is None:
            known = self._seen[found] = self._request(*found)
        request, by_fields = known
        if by_fields and GRAPHQL_MARK in effect.body:
            operation = operation_of(effect.body)
            if operation is not None and operation.kind == "mutation" and operation.fields:
                fields = "+".join(operation.fields)
                return request._replace(route=f"{request.route} {fields}")
        return request

    def resource_of(self, effect: Effect) -> tuple[Request, Request]:
        """``of(effect)`` and the resource it writes (``same_resource``), worked out once per
        distinct request: a run may write a million times."""
        request = self.of(effect)
        resource = self._resources.get(request)
        if resource is None:
            resource = self._resources[request] = same_resource(request)
        return request, resource

    def _request(self, downstream: str, method: str, path: str) -> tuple[Request, bool]:
        for n, (name, want, template, matcher) in enumerate(self._routes):
            if name in (ANY_DOWNSTREAM, downstream) and route_matches(matcher, method, path):
                # A '*' method stands for any: the effect keeps its own.
                found = Request(name, method.upper() if want == "*" else want, template)
                return found, n >= self._declared and found.method == "POST"
        return Request(downstream, method.upper(), normalise(path)), method.upper() == "POST"


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
    # Events of a type that acts whose clean twin was accepted and made nothing.
    not_expected: frozenset[str] = frozenset()
    # Events whose clean twins were accepted and made nothing, the last of their type there,
    # which acted on every other (``_held``): expected what their type's events made.
    held: frozenset[str] = frozenset()
    # Those of ``held`` whose clean twins came in one request with an event of their type that
    # acted (a batching sender: ``_held.batched_with``).
    held_batched: frozenset[str] = frozenset()
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
        not_expected=frozenset(learned.not_expected) if learned else frozenset(),
        held=frozenset(learned.held) if learned else frozenset(),
        held_batched=frozenset(learned.held_batched) if learned else frozenset(),
        by_type=frozenset(learned.by_type) if learned else frozenset(),
        unseen=frozenset(learned.unseen) if learned else frozenset(),
        why_unseen=learned.why_unseen if learned else "",
        untaught=learned.untaught if learned else {},
        clean_run=clean.info.run_id if clean is not None else None,
        why_any=why or "no clean run, no expect:",
        several=len(stubs) > 1,
        tag=info.tracer_tag,
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
        self._clean, self._by_twin = clean, by_twin
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
        self.by_type: set[str] = set()
        self.types: dict[str, TypeRule] = {}
        self.refused: set[str] = set()  # types whose every clean twin was refused
        self.unsent: set[str] = set()  # types the clean run never sent (no twin at all)
        self.untaught: dict[str, str] = {}  # their events (-> type), none of which wrote here
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
            else:
                self.types[t] = TypeRule(Rule.LEARNED, ignored=True)
                self.nothing.update(e.id for e in mine)
        # One of each request every record of the clean run got, where its writes were
        # compared per record: what a record it has no reference for owes.
        typical = Counter(dict.fromkeys(_common(self.per_record.values()), 1))
        self.untwinned = self._untwinned(events, twin_of, typical)
        self.hushed = self._hushed(events, twin_of, here, typical)

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
        if not left:
            return
        requests = requests_in(made.values())
        # Payloads the clean run left alone made here what their type makes: the automation
        # does not skip them on purpose, it lost them there (``unlike_clean``). Or they were
        # its last of their type, which it acted on all the others: held at its end, not
        # skipped (``held``). Each is expected what every acting event of its type made, else
        # any effect.
        if any(here.made(e.id) & requests for e in left):
            owed = self.unlike_clean
        elif self._held_at_end([twin_of[e.id] for e in left]):
            owed = self.held
        else:
            owed = None
        if owed is not None:
            common = _common(made.values())
            for e in left:
                if common:
                    self.per_event[e.id] = common
                else:
                    self.any_rule.add(e.id)
            owed.update(e.id for e in left)
            if owed is self.held:
                self.held_batched.update(self._batched([e.id for e in left], twin_of))
            return
        for e in left:
            self.nothing.add(e.id)
            self.not_expected.add(e.id)
        tied = self._ties.of([twin_of[e.id] for e in left])
        self.tied.update({e.id: tied[twin_of[e.id].id] for e in left if twin_of[e.id].id in tied})

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
        return {twins[t] for t in found}


def requests_in(*groups: Iterable[Counter[Request]]) -> frozenset[Request]:
    """Every request the Counters of ``groups`` hold; a Counter many events share (most do)
    read once."""
    distinct = {id(c): c for group in groups for c in group}
    return frozenset(r for c in distinct.values() for r in c)


def of_another_run(effect: Effect, tag: str) -> bool:
    """Is ``effect`` another run's, made while the run tagged ``tag`` went? It names none of
    this run's events or records and carries another run's tracer token."""
    if effect.event_ids or effect.key is not None:
        return False
    return carries_other_tag(f"{effect.path}\n{effect.body}", tag)


def _common(made: Iterable[Counter[Request]]) -> Counter[Request]:
    """The requests every one of ``made`` holds, each as often as the fewest hold it."""
    common: Counter[Request] | None = None
    for m in made:
        common = m.copy() if common is None else common & m
    return common or Counter()


def _made(by_twin: Mapping[str, Counter[Request]], twin: Event | None) -> Counter[Request] | None:
    return by_twin.get(twin.id) if twin is not None else None


_LEVELS = (Level.EVENT, Level.RECORD, Level.RUN)


# --- judging a run against it --------------------------------------------------------------------


NEWEST = "newest"  # a Short's source: a register record written only before its newest event


@dataclass(frozen=True, slots=True)
class Short:
    """One request a subject (an event, a record, the run) was expected to cause ``need``
    times and caused ``made`` times. ``request`` None: any effect (the old rule)."""

    level: Level
    subject: str  # event id, record key, or "" for the run
    request: Request | None
    need: int
    made: int
    # Where the need came from at a coarser level: "clean" (the clean run made them there),
    # or "events" (the sum of what the subject's events expect, their writes naming no event);
    # "newest": a register record whose writes all came before its newest event was sent
    # (``made`` 0: none after it), however many it got.
    source: str = "events"
    events: int = 0  # how many judged events the need sums over (record, run)


@dataclass(frozen=True, slots=True)
class Unwritten:
    """A register record ``short`` of a write after its newest event, as its clean twin was,
    whose last write ``write`` (an effect id) holds values that event changes: ``changes``,
    (path, the value written, the newest event's)."""

    short: Short
    write: str
    changes: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True, slots=True)
class Created:
    """A record short of ``short``'s request where this run made ``made`` writes of the item,
    creations in its collection (``creation``) counted, and its clean twin ``clean``."""

    short: Short
    creation: Request
    made: int
    clean: int
    created: int  # this run's creations among ``made``
    clean_created: int  # the clean twin's
    # The short request removes the item (a DELETE) that the record created as often as its
    # clean twin: a deletion that found nothing to remove, or one lost (``_deleted_instead``).
    removal: bool = False


class Creator(enum.StrEnum):
    """What became, in this run, of the event whose clean twin created a record's item."""

    REFUSED = "refused"  # never accepted here
    RACED = "raced"  # accepted, and wrote the item another event had created
    FAILED = "failed"  # accepted, and made no creation of it


@dataclass(frozen=True, slots=True)
class Stood:
    """An event that wrote no ``request`` (an item's write its clean twin made) but created
    the item (``creation``), standing for the write.

    The first event of a record an automation sees creates its item, whichever it is: where
    the event whose clean twin created it made no creation here (``creator``: refused — its
    sender never redelivered —, accepted with its creation failed, or it came after this one
    and wrote the item it found), a later event creates it where its twin updated it. Only
    where this event made, answered 2xx, as many creations in the item's collection beyond
    its own twin's as it lacks writes, and the record got no more creations than its clean
    twin: a second creation is a resource made twice (``no_duplicate_effects``), and no
    creation at all stays a loss."""

    request: Request
    creation: Request
    creator: Creator
    later: bool  # the event's seq is after the creating event's


@dataclass(slots=True)
class Shortfalls:
    """What a run lacks of its expected effects, at each level."""

    judged: list[Event] = field(default_factory=list)  # the events owed their effects
    superseded: int = 0  # register: accepted events a newer one of their record supersedes
    events: dict[str, list[Short]] = field(default_factory=dict)  # event id -> its shorts
    records: list[Short] = field(default_factory=list)
    run: list[Short] = field(default_factory=list)
    # Record- or run-level expectations of the clean run left unjudged: not every event of
    # the record (or of the run) was accepted, so what the clean run made is not owed.
    unjudged: int = 0
    coarse: set[Request] = field(default_factory=set)  # requests compared per record or run
    owed: int = 0  # judged events that expect something
    others: int = 0  # writes of another run among the run's, not counted
    # (the request expected, the one made instead) -> how many events wrote the resource by
    # another method than their clean twins (``same_resource``): not loss, said.
    another_way: Counter[tuple[Request, Request]] = field(default_factory=Counter)
    # Records short of an item's writes that got as many writes of it, creations in its
    # collection counted, as their clean twin did (``created_in``): a find-or-create that
    # created where the clean run updated (a race) and a lost update cannot be told apart.
    created: list[Created] = field(default_factory=list)
    # Register records short of a request, some of whose events were never accepted, that got
    # other writes the clean twin made (``_written_in_part``): the twin's writes of that
    # request may have been for the events refused here — not lost, not known.
    partly: list[Short] = field(default_factory=list)
    # Ledger records short of a PUT whose last committed PUT came after their newest accepted
    # event was first sent: a PUT replaces the item whole, and that one may carry the state the
    # missing ones were for (a running balance) — not lost, not known.
    replaced: list[Short] = field(default_factory=list)
    # Register records written only before their newest event ("newest") whose clean twin got
    # no write after its own either, while the clean run stopped watching too soon: whether
    # the automation writes for such an update is not known (``_newest.owed_newest``).
    newest_unseen: list[Short] = field(default_factory=list)
    # Register records written only before their newest event, whose clean twin got no write
    # after its own either, where that newest event changes values the record's last write
    # holds: an update ignored by design and one dropped in every run alike cannot be told
    # apart — not known (``_newest.owed_newest``).
    newest_unwritten: list[Unwritten] = field(default_factory=list)
    # Register records whose last write came within the run's clock uncertainty of their
    # newest event's first send (a send a Locust worker stamped): whether it was that event's
    # write, or an older one's with the newest dropped, is not known (``_newest.timed_shortfalls``).
    newest_clocked: list[Short] = field(default_factory=list)

    # Event id -> how its item's write was made by creating the item, the record's creating
    # event having made no creation here (``Stood``): not loss, said.
    stood: dict[str, Stood] = field(default_factory=dict)

    # Requests compared in the whole run whose count held only as a repeat elsewhere made up
    # records short of theirs (``Cancelled``): not passed.
    cancelled: list[Cancelled] = field(default_factory=list)

    @property
    def count(self) -> int:
        shorts = sum(len(s) for s in self.events.values())
        unknown = len(self.partly) + len(self.replaced) + len(self.newest_unseen)
        unknown += len(self.newest_unwritten)
        unknown += len(self.newest_clocked)
        return shorts + len(self.records) + len(self.run) + unknown


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A request compared in the whole run (some of its writes name no record) whose count
    there held, though the records it is owed per record got fewer writes naming them than
    they need, by more than the writes naming no record could make up: other records' writes
    beyond theirs (a repeat) made up the count, which cannot pass as no loss."""

    request: Request
    unnamed: int  # the run's writes of it naming no record
    short: list[Short]  # per record, the writes naming it against its need


def judged_events(
    model: Model, events: Sequence[Event], accepted: Collection[str]
) -> tuple[list[Event], int]:
    """The events owed their effects: ledger, every accepted one; register, each record's
    latest accepted one (older states may be coalesced). And how many were superseded."""
    if model is not Model.REGISTER:
        return [e for e in events if e.id in accepted], 0
    latest: dict[str, Event] = {}
    n = 0
    for e in events:
        if e.id in accepted:
            n += 1
            held = latest.get(e.key)
            if held is None or e.seq > held.seq:
                latest[e.key] = e
    return sorted(latest.values(), key=_seq), n - len(latest)


def _seq(e: Event) -> int:
    return e.seq


def shortfalls(
    exp: Expectation,
    events: Sequence[Event],
    accepted: Collection[str],
    writes: Sequence[Effect],
    first_sent: Mapping[str, float] | None = None,
) -> Shortfalls:
    """Compare the run's committed ``writes`` with what ``exp`` expects of its ``accepted``
    events, each request at the finest level its writes allow. Writes of one resource by
    different methods count for each other (``same_resource``); the events whose twin's
    method was not theirs are counted in ``another_way``. With ``first_sent`` (event id ->
    when its first delivery was sent), a register's record compared per record is short too
    where every write it got came before its newest accepted event was first sent: none of
    them can be that event's, and the record holds an older state (``Short.source``
    "newest")."""
    out = Shortfalls()
    out.judged, out.superseded = judged_events(exp.model, events, accepted)
    known = {e.id: e for e in events}
    keys = {e.key for e in events}
    # Flat counts: (event id or record key, resource) -> writes; one dict, not one per event.
    by_event: Counter[tuple[str, Request]] = Counter()
    by_record: Counter[tuple[str, Request]] = Counter()
    exact: Counter[tuple[str, Request]] = Counter()  # (event id, request): an item's writes
    any_write: set[str] = set()
    total: Counter[Request] = Counter()
    no_event: set[Request] = set()
    no_record: Counter[Request] = Counter()  # writes naming no record, per resource
    last_at: dict[tuple[str, Request], float] = {}  # (record key, resource) -> its last write
    resource_of = exp.routes.resource_of
    for w in writes:
        if exp.tag and of_another_run(w, exp.tag):
            out.others += 1
            continue
        made, request = resource_of(w)
        total[request] += 1
        named = [eid for eid in distinct(w.event_ids) if eid in known]
        for eid in named:
            by_event[(eid, request)] += 1
            any_write.add(eid)
            if request != made:
                exact[(eid, made)] += 1
        key = w.key if w.key in keys else (known[named[0]].key if named else None)
        if key is None:
            no_record[request] += 1
        else:
            by_record[(key, request)] += 1
            if last_at.get((key, request), w.at) <= w.at:
                last_at[(key, request)] = w.at
        if not named:
            no_event.add(request)
    # (record key or "" for the run, resource) -> (need, events, the request first expected)
    record_need: dict[tuple[str, Request], tuple[int, int, Request]] = {}
    run_need: dict[Request, tuple[int, int, Request]] = {}
    # (record key, resource) -> (need, events, the request first expected, source): what each
    # record is owed of the needs compared in the whole run, to tell a count that held only by
    # cancelling (``Cancelled``).
    held_by_record: dict[tuple[str, Request], tuple[int, int, Request, str]] = {}

    def hold(
        key: str, resource: Request, need: int, events: int, first: Request, source: str
    ) -> None:
        held, count, shown, was = held_by_record.get((key, resource), (0, 0, first, source))
        held_by_record[(key, resource)] = (held + need, count + events, shown, was)

    def cancelled(resource: Request) -> None:
        """Whether the whole-run count of ``resource``, which held, did only by cancelling."""
        short = [
            Short(Level.RECORD, key, first, need, by_record[(key, r)], source, n)
            for (key, r), (need, n, first, source) in held_by_record.items()
            if r == resource and by_record[(key, r)] < need
        ]
        if sum(s.need - s.made for s in short) > no_record[resource]:
            out.cancelled.append(
                Cancelled(short[0].request or resource, no_record[resource], short)
            )

    register = exp.model is Model.REGISTER
    newest: dict[str, str] = {}  # record key -> its newest accepted event
    for e in out.judged if first_sent else ():
        if e.key not in newest or e.seq > known[newest[e.key]].seq:
            newest[e.key] = e.id

    def after_newest(key: str, resource: Request) -> bool | None:
        """Whether the last write of ``resource`` the record ``key`` got came at or after its
        newest accepted event was first sent (a write before it cannot be that event's); None
        where not known (no send, or no write)."""
        sent = first_sent.get(newest[key]) if first_sent and key in newest else None
        last = last_at.get((key, resource))
        return None if sent is None or last is None else last >= sent

    def before_newest(key: str, resource: Request) -> bool:
        """A register record whose every write came before its newest event was sent."""
        return register and after_newest(key, resource) is False

    def replaced(key: str, resource: Request, first: Request) -> bool:
        """A ledger record short of PUTs whose last PUT came after its newest event was first
        sent (``Shortfalls.replaced``)."""
        return not register and first.method == "PUT" and after_newest(key, resource) is True

    grouped: dict[int, list[tuple[Request, list[tuple[Request, int]]]]] = {}

    def groups(wanted: Counter[Request]) -> list[tuple[Request, list[tuple[Request, int]]]]:
        found = grouped.get(id(wanted))  # most events share one Counter
        if found is None:
            found = grouped[id(wanted)] = _by_resource(wanted)
        return found

    made_ok: Counter[tuple[str, Request]] | None = None  # (event id, creation) -> 2xx ones
    of_record: dict[str, list[Event]] = {}
    # (record key, creation) -> what its clean twin created, and its earliest event that made
    # fewer than its twin: once per record, however many of its events ask.
    creators: dict[tuple[str, Request], tuple[int, Event | None]] = {}

    def stands(e: Event, request: Request, lack: int) -> Stood | None:
        """Whether ``e``, short of ``lack`` writes of ``request`` (an item's), created the item
        instead (``Stood``); what it reads found once, when first asked."""
        nonlocal made_ok
        resource = same_resource(request)
        creation = created_in(resource)
        if creation is None:
            return None
        if made_ok is None:
            made_ok = _created_ok(writes, exp.routes, known)
            for other in events:
                of_record.setdefault(other.key, []).append(other)
        own = exp.per_event.get(e.id)
        if made_ok[(e.id, creation)] - (own.get(creation, 0) if own else 0) < lack:
            return None
        found = creators.get((e.key, creation))
        if found is None:
            found = creators[(e.key, creation)] = _creator(
                of_record[e.key], creation, exp.per_event, by_event
            )
        clean, creator = found
        if creator is None or by_record[(e.key, creation)] > clean:
            return None
        if creator.id not in accepted:
            how = Creator.REFUSED
        elif by_event[(creator.id, resource)]:
            how = Creator.RACED
        else:
            how = Creator.FAILED
        return Stood(request, creation, how, e.seq > creator.seq)

    def owe_coarse(key: str, resource: Request, requests: list[tuple[Request, int]]) -> None:
        """One event's need of ``resource``, owed per record or per run."""
        out.coarse.update(r for r, _ in requests)
        need, shown = sum(n for _, n in requests), _shown(requests)
        if resource in no_record:
            held, count, first = run_need.get(resource, (0, 0, shown))
            run_need[resource] = (held + need, count + 1, first)
            hold(key, resource, need, 1, shown, "events")
        else:
            held, count, first = record_need.get((key, resource), (0, 0, shown))
            record_need[(key, resource)] = (held + need, count + 1, first)

    for e in out.judged:
        if e.id in exp.nothing:
            continue
        out.owed += 1
        wanted = exp.per_event.get(e.id)
        if wanted is None:
            if e.id in exp.any_rule and e.id not in any_write:
                out.events[e.id] = [Short(Level.EVENT, e.id, None, 1, 0)]
            continue  # else judged per record or per run only
        for resource, requests in groups(wanted):
            if resource in no_event:
                owe_coarse(e.key, resource, requests)
                continue
            need = sum(n for _, n in requests)
            have = by_event[(e.id, resource)]
            if resource == requests[0][0]:  # not an item's: its own method only
                if have < need:
                    out.events.setdefault(e.id, []).append(
                        Short(Level.EVENT, e.id, resource, need, have)
                    )
                continue
            short = [
                Short(Level.EVENT, e.id, r, n, exact[(e.id, r)])
                for r, n in requests
                if exact[(e.id, r)] < n
            ]
            # The resource written by another method than its clean twin's stands for it
            # where the twin wrote it by one; where by several (a PATCH and a PUT), the event
            # did each, and one made twice is not the other made: each is owed.
            if have < need or (short and len(requests) > 1):
                stood = None if len(requests) > 1 else stands(e, requests[0][0], need - have)
                if stood is None:
                    out.events.setdefault(e.id, []).extend(short)
                else:
                    out.stood[e.id] = stood
            elif short:  # the resource written, by another method than the clean run's
                instead = _instead(e.id, resource, wanted, exact)
                out.another_way[(short[0].request or resource, instead)] += 1
    # What the clean run made per record or per run, owed when all its events were accepted.
    by_key: dict[str, list[Event]] = {}
    for e in events:
        by_key.setdefault(e.key, []).append(e)
    for key, wanted in exp.per_record.items():
        mine = by_key.get(key, [])
        if not _record_owed(mine, accepted, register):
            out.unjudged += 1
            continue
        for resource, requests in groups(wanted):
            first = _shown(requests)
            need = sum(n for _, n in requests)
            need = min(need, 1) if register else need
            out.coarse.update(r for r, _ in requests)
            if resource in no_record:
                held, n, _ = run_need.get(resource, (0, 0, first))
                run_need[resource] = (held + need, n + len(mine), first)
                hold(key, resource, need, len(mine), first, "clean")
                continue
            have = by_record[(key, resource)]
            if have < need:
                lack = Short(Level.RECORD, key, first, need, have, "clean", len(mine))
                twin = _twin_writes(wanted, exp, mine)
                created = _created_instead(lack, resource, twin, by_record)
                if created is None and key in exp.standing_counted:
                    created = _deleted_instead(lack, resource, twin, by_record)
                if created is not None:
                    out.created.append(created)
                elif register and _written_in_part(key, mine, accepted, wanted, by_record):
                    out.partly.append(lack)
                elif replaced(key, resource, first):
                    out.replaced.append(lack)
                else:
                    out.records.append(lack)
            elif before_newest(key, resource):
                out.records.append(Short(Level.RECORD, key, first, need, 0, NEWEST, len(mine)))
    # The records the clean run never saw, or lost: one of each request its every record got.
    for source, owing in (("type", exp.untwinned), ("hushed", exp.hushed)):
        for key, wanted in owing.items():
            mine = by_key.get(key, [])
            if not _record_owed(mine, accepted, register):
                continue
            for resource, requests in groups(wanted):
                if resource in no_record:
                    continue  # compared in the whole run
                out.coarse.update(r for r, _ in requests)
                if by_record[(key, resource)] < 1:
                    first = _shown(requests)
                    out.records.append(Short(Level.RECORD, key, first, 1, 0, source, len(mine)))
    if exp.per_run:
        owed = any(e.id in accepted for e in events) if register else len(accepted) == len(events)
        if owed:
            for resource, requests in groups(exp.per_run):
                first = _shown(requests)
                out.coarse.update(r for r, _ in requests)
                have = total[resource]
                need = sum(n for _, n in requests)
                need = min(need, 1) if register else need
                held, _, _ = run_need.get(resource, (0, 0, first))
                if have < need + held:
                    out.run.append(
                        Short(Level.RUN, "", first, need + held, have, "clean", len(events))
                    )
                elif held:
                    cancelled(resource)
                run_need.pop(resource, None)
        else:
            out.unjudged += len(exp.per_run)
    for (key, resource), (need, n, first) in record_need.items():
        have = by_record[(key, resource)]
        if have < need:
            lack = Short(Level.RECORD, key, first, need, have, "events", n)
            if replaced(key, resource, first):
                out.replaced.append(lack)
            else:
                out.records.append(lack)
        elif before_newest(key, resource):
            out.records.append(Short(Level.RECORD, key, first, need, 0, NEWEST, n))
    for resource, (need, n, first) in run_need.items():
        have = total[resource]
        if have < need:
            out.run.append(Short(Level.RUN, "", first, need, have, "events", n))
        else:
            cancelled(resource)
    return out


def _record_owed(events: Sequence[Event], accepted: Collection[str], register: bool) -> bool:
    """Whether a record of ``events`` is owed what its clean twin made: a register's once some
    event of it was accepted (its latest accepted one is owed), a ledger's once every one was."""
    if register:
        return any(e.id in accepted for e in events)
    return bool(events) and all(e.id in accepted for e in events)


def _written_in_part(
    key: str,
    events: Sequence[Event],
    accepted: Collection[str],
    wanted: Counter[Request],
    by_record: Counter[tuple[str, Request]],
) -> bool:
    """Whether record ``key`` (register) had some of its ``events`` never accepted and got
    some write of the resources its clean twin wrote (``wanted``): which of the twin's writes
    its latest accepted event made is not known, when they name the record only."""
    if all(e.id in accepted for e in events):
        return False
    return any(by_record[(key, resource)] for resource, _ in _by_resource(wanted))


def _twin_writes(
    wanted: Counter[Request], exp: Expectation, events: Sequence[Event]
) -> Counter[Request]:
    """What the clean twin of a record made: ``wanted`` (its writes naming the record only)
    and what its ``events``' twins made naming them (a creation whose body carries the
    event's values, where the updates name the record only)."""
    found = Counter(wanted)
    for e in events:
        found.update(exp.per_event.get(e.id, ()))
    return found


def _created_instead(
    short: Short,
    resource: Request,
    wanted: Counter[Request],
    by_record: Counter[tuple[str, Request]],
) -> Created | None:
    """``short`` (a record's) where the record got as many writes of the item as its clean
    twin made (``wanted``: ``_twin_writes``), creations in its collection counted, and more
    creations than its twin: written another way, or lost, which writes naming their record
    cannot tell. None where not (a loss, as before)."""
    creation = created_in(resource)
    if creation is None:
        return None
    key = short.subject
    clean_created = wanted.get(creation, 0)
    created = by_record[(key, creation)]
    made = by_record[(key, resource)] + created
    clean = clean_created + sum(n for r, n in wanted.items() if same_resource(r) == resource)
    if created <= clean_created or made < clean:
        return None
    return Created(short, creation, made, clean, created, clean_created)


def _deleted_instead(
    short: Short,
    resource: Request,
    wanted: Counter[Request],
    by_record: Counter[tuple[str, Request]],
) -> Created | None:
    """``short`` of a DELETE of an item (``DELETE /contacts/{id}``) where the record created
    it (``POST /contacts``) as often as its clean twin, which removed all but some of what it
    created — a replace by delete and create — and more of them stand here: simultaneous events
    each looked the item up before another had created it, found nothing to remove, and
    created it (the items left standing are ``no_duplicate_effects``' to judge), or a deletion
    was lost, which writes naming their record cannot tell. None where the clean twin removed
    all it created (a deletion owed: lost, as before) or the record created fewer."""
    if resource.method != "DELETE" or not is_item(resource.route):
        return None
    creation = Request(resource.downstream, "POST", resource.route.rpartition("/")[0])
    key = short.subject
    clean_created, clean_deleted = wanted.get(creation, 0), wanted.get(resource, 0)
    created, deleted = by_record[(key, creation)], by_record[(key, resource)]
    clean_standing = clean_created - clean_deleted
    if clean_standing < 1 or created < clean_created or created - deleted <= clean_standing:
        return None
    return Created(
        short, creation, created + deleted, clean_created + clean_deleted, created,
        clean_created, removal=True,
    )  # fmt: skip


def _created_ok(
    writes: Sequence[Effect], routes: Routes, known: Collection[str]
) -> Counter[tuple[str, Request]]:
    """(event id, creation) -> the creations (a POST to a collection) naming the event that
    were answered 2xx: a creation committed and then failed is not one the target knew made."""
    found: Counter[tuple[str, Request]] = Counter()
    for w in writes:
        request = routes.of(w)
        if request.method == "POST" and not is_item(request.route) and 200 <= w.status < 300:
            for eid in distinct(w.event_ids):
                if eid in known:
                    found[(eid, request)] += 1
    return found


def _creator(
    record: Sequence[Event],
    creation: Request,
    per_event: Mapping[str, Counter[Request]],
    by_event: Counter[tuple[str, Request]],
) -> tuple[int, Event | None]:
    """How many ``creation`` the clean twin of ``record`` (its events) made, and the earliest
    of its events that made fewer here than its twin did (None: each made its own)."""
    clean = 0
    creator: Event | None = None
    for e in record:
        wanted = per_event.get(e.id)
        twin_made = wanted.get(creation, 0) if wanted else 0
        clean += twin_made
        if by_event[(e.id, creation)] < twin_made and (creator is None or e.seq < creator.seq):
            creator = e
    return clean, creator


def _instead(
    event_id: str, resource: Request, wanted: Counter[Request], exact: Counter[tuple[str, Request]]
) -> Request:
    """The request an event made of ``resource`` beyond what its clean twin made: the method
    it wrote the resource by instead."""
    for method in _ITEM_WRITES:
        request = Request(resource.downstream, method, resource.route)
        if exact[(event_id, request)] > wanted.get(request, 0):
            return request
    return resource
