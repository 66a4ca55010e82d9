"""What around a run's refusals changes their likely cause (``_refused.likely_cause``).

- **Which timeout ended them**: a delivery that got no answer waited as long as its error says
  (``no answer within 0.5 s``) — the provider's ack timeout where the run delivered as one
  (``ack_timeout`` in the settings), else the scenario's ``delivery.timeout``. Raising
  ``delivery.timeout`` does not lengthen a provider's ack timeout; and a target that went on
  answering other deliveries (``target_available``'s "slow, not gone") is too slow, not stuck —
  unless most of them waited on a downstream's held call (a ``timeout`` or ``slow`` fault), their
  own or one ahead of them in the target's queue (``ack_within``'s causes, ``_slow_acks`` and
  ``_behind_held``): then the hang held the answers, and that is what to act on. A target
  that did not go on, whose last deliveries none got an answer nor made a call after earlier
  ones did, is stuck, on what ``ack_within`` names (``_slow_acks.stuck_cause``).
- **A downstream's fault window**: most deliveries answered 5xx while in flight during one. The
  automation passed the downstream's failure back to its sender, which redelivers or not as
  the provider does (``core._providers``): not a crash — whether a 5xx during an outage is a
  failure is a design question, which ``no_server_errors`` judges.
- **A read the double could not answer**: most deliveries answered 5xx, and the automation's
  reads of one route were answered 404 at least half as often — it fetches the record an event
  names (Attio's webhooks carry ids only) from a double that holds nothing of it: the read
  wants a stub, not the automation a fix.
- **A write to what the double does not hold**: the same, of its updates (``PATCH``, ``PUT``,
  ``DELETE``) — it updates items it remembers creating in an earlier run, found by a value the
  run sent again as it was (an email of a recording's replay), in a double each run starts
  empty; or, where most of those paths name their event's own record (its key's tracer token,
  new in every run: nothing of any run made it), it updates a record its real API holds before
  the event comes (an order the shop made): the route wants a stub. Neither counts a 404 the
  automation went on from: its path written after it (the ``PUT`` that creates what the
  ``PATCH`` missed), or a route its clean run met 404 on while answering no delivery 5xx — for
  the same record (its clean twin's), where the journal tells whose each miss was.
- **A list the automation could not read**: most deliveries answered 5xx, and the automation's
  reads of one collection (``GET /contacts``) of a stateful double without ``page_size`` were
  answered 200 — or refused by a fault window — at least half as often, those answered 200
  with few writes after them — the double answered a plain JSON array where an automation
  written for a paged API reads ``{"data": [...], "next": ...}`` (tests/gallery/first_page.py):
  ``page_size:`` on that downstream makes the double page. Where a fault window was open too,
  the 5xx whose flight it did not overlap are counted, by the clock, and the list comes before
  the window's cause: which delivery a read naming nothing was for depends on how the flights
  overlapped, and one automation's run was said "the automation crashed" and "500 while api
  was failing" by turns.
- **Events dated long before the run**: most deliveries answered 400, 415 or 422, and their
  events' payloads are dated (the source's time path) over an hour before the run began: a
  check of the event's age by its payload's time refuses them as surely as a body of the
  wrong shape — both are said.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core import _paths
from ..core._model import Delivery, Effect, Fault
from ..core._providers import PROVIDERS
from ..core._scenario import FAULT_MODES
from ..history import History, effect_column
from ._behind_held import behind
from ._expected import STATEFUL
from ._facts import Facts, plural, route_of, route_text, times, timestamp
from ._fault_calls import DeliveryWindows, FaultCalls
from ._lag import waited
from ._sender import sender_of
from ._slow_acks import holds, stuck_cause, stuck_tail, waits, what
from ._timing import seconds
from .target_available import availability


@dataclass(frozen=True, slots=True)
class TimedOut:
    """How deliveries that got no answer ended: ``wait`` (None: their errors do not say), the
    provider whose ack timeout it was (None: the delivery timeout), and whether the target
    went on answering others (slow, not stuck)."""

    wait: float | None
    provider: str | None
    went_on: bool
    hung: Fault | None = None  # the held calls most of them waited on, theirs or ahead of them
    # Where most of them are the run's last deliveries, none answered, none making a call,
    # after earlier ones did (``_slow_acks.stuck_tail``): from which on, and on what.
    stuck: str = ""


def timed_out(history: History, deliveries: Sequence[Delivery]) -> TimedOut:
    """What ended ``deliveries`` (timed out, all of them) and what the target did after."""
    settings = history.info.settings
    waits = Counter(w for d in deliveries if (w := waited(d)) is not None)
    wait = waits.most_common(1)[0][0] if waits else None
    ack, name = settings.get("ack_timeout"), settings.get("provider")
    by_provider = bool(name) and isinstance(ack, int | float) and wait == ack
    slow = {d.id for d in availability(history).slow}
    went_on = sum(1 for d in deliveries if d.id in slow) * 2 > len(deliveries)
    return TimedOut(
        wait,
        str(name) if by_provider else None,
        went_on,
        _hung(history, deliveries),
        "" if went_on else _stuck(history, deliveries),
    )


def _stuck(history: History, deliveries: Sequence[Delivery]) -> str:
    """``no delivery answered from dlv_3 on, none of them making a call: not slow but stuck —
    …`` where most of ``deliveries`` are the run's stuck tail (``stuck_tail``); "" otherwise."""
    clean = history.baseline.effects if history.baseline is not None else ()
    tail = stuck_tail(history.deliveries, history.effects, clean)
    if len({d.id for d in tail} & {d.id for d in deliveries}) * 2 <= len(deliveries):
        return ""
    return (
        f"no delivery answered from {tail[0].id} on, none of them making a call"
        f"{stuck_cause(history.deliveries, tail[0], history)}"
    )


def _hung(history: History, deliveries: Sequence[Delivery]) -> Fault | None:
    """The holding fault most of ``deliveries`` waited on — a call of theirs it held, or one
    ahead of them they queued behind —, when more than half did."""
    if not any(holds(f) for f in history.faults):
        return None
    facts = Facts(history)
    own = waits(facts, deliveries, 0.0)
    queued = behind(facts, deliveries, own, 0.0)
    faults = [
        w.fault
        for d in deliveries
        if (w := own.get(d.id) or (b.waited if (b := queued.get(d.id)) else None)) is not None
        and holds(w.fault)
    ]
    if len(faults) * 2 <= len(deliveries):
        return None
    top = Counter(_window(f) for f in faults).most_common(1)[0][0]
    return next(f for f in faults if _window(f) == top)


def _window(f: Fault) -> tuple[str, str, float, float]:
    return f.downstream, f.mode, f.start, f.end


def timeout_cause(settings: Mapping[str, Any], found: TimedOut) -> tuple[str, str]:
    """The likely cause of deliveries that timed out, naming the timeout that ended them."""
    if found.hung is not None:
        return _hung_cause(settings, found, found.hung)
    timeout = found.wait if found.wait is not None else settings.get("timeout")
    within = f" within the delivery timeout ({timeout:g} s)" if timeout else ""
    if found.stuck:
        if found.provider is not None:
            wait = seconds(found.wait or 0.0)
            within = f" within the ack timeout of {_title(found.provider)} ({wait})"
        return f"the target did not answer{within}: {found.stuck}", "the target is stuck"
    if found.provider is not None:
        return _ack_timeout(found.provider, found)
    if found.went_on:
        return (
            f"the target did not answer{within}, and went on answering other deliveries: it is "
            "too slow to acknowledge, not stuck — acknowledge first and do the work after (a "
            "queue); real senders wait no longer than seconds (GitHub 10 s, Shopify 5 s, "
            "Slack 3 s: docs/providers.md)",
            "too slow to acknowledge",
        )
    return (
        f"the target did not answer{within}: it is stuck or far too slow — check that it "
        "answers at all, then raise delivery.timeout if it is only slow",
        "the target is stuck",
    )


def _hung_cause(settings: Mapping[str, Any], found: TimedOut, f: Fault) -> tuple[str, str]:
    """Deliveries that timed out waiting on a downstream's held calls (``TimedOut.hung``)."""
    if found.provider is not None:
        within = f" within the ack timeout of {_title(found.provider)} ({seconds(found.wait or 0)})"
    else:
        timeout = found.wait if found.wait is not None else settings.get("timeout")
        within = f" within the delivery timeout ({timeout:g} s)" if timeout else ""
    return (
        f"the target did not answer{within}: the deliveries waited on {f.downstream}'s "
        f"{what(f)} — their own calls, or those ahead of them in the target's queue —, as the "
        f"automation called {f.downstream} before answering: stuck on the call, not gone — "
        "give the call a timeout and acknowledge before it (a queue), so that a hung API holds "
        "neither the answer nor the deliveries after it",
        f"waited on {f.downstream}'s held calls",
    )


def _ack_timeout(name: str, found: TimedOut) -> tuple[str, str]:
    profile = PROVIDERS.get(name)
    title = _title(name)
    wait = seconds(found.wait or 0.0)
    published = profile is None or bool(profile.timeout)
    documented = (
        f"; {title}'s own is {seconds(profile.timeout)}"
        if profile is not None and profile.timeout and profile.timeout != found.wait
        else ""
    )
    whose = f"of {title} ({wait})" if published else f"given {title} ({wait}: it publishes none)"
    state = (
        ", and went on answering other deliveries: it is too slow to acknowledge, not stuck"
        if found.went_on
        else ": it is stuck or too slow to acknowledge — check that it answers at all"
    )
    return (
        f"the target did not answer within the ack timeout {whose}, after which "
        f"the sender gives a delivery up{state} — acknowledge within {wait}: answer first and "
        "do the work after (a queue). Raising delivery.timeout would not help: the ack timeout "
        f"is the sender's (provider.timeout in the scenario{documented})",
        f"too slow for {title}'s {wait} ack timeout"
        if published
        else f"too slow for a {wait} ack timeout",
    )


def failing_fault(history: History, deliveries: Sequence[Delivery]) -> Fault | None:
    """The downstream fault window that answered a call of most of ``deliveries`` while they
    were in flight (``_own_calls``: their event's calls, their record's, or one naming nothing
    made while one was alone in flight), when more than half met one. A window that was only
    open meanwhile, its calls other events', is not theirs."""
    if not deliveries:
        return None
    windows = DeliveryWindows(history, deliveries)
    if not windows.windows:
        return None
    hits = Counter(n for d in deliveries if (n := windows.met(d)) is not None)
    if sum(hits.values()) * 2 <= len(deliveries):
        return None
    return windows.windows[hits.most_common(1)[0][0]]


def failing_cause(settings: Mapping[str, Any], status: int, fault: Fault) -> tuple[str, str]:
    """The likely cause of 5xx answers given while a downstream's fault window was open."""
    doing = {"slow": "slow", "throttle": "throttling", "rate-limit": "rate-limiting"}
    state = f"was {doing.get(fault.mode, 'failing')}"
    where = f"the {fault.mode} fault, {timestamp(fault.start)}-{timestamp(fault.end)}"
    return (
        f"the automation answered {status} while {fault.downstream} {state} ({where}): it passed "
        f"the downstream's failure back to the sender{_redelivery(settings)} — its answer's "
        "body says whether on purpose ('retry later') or by an exception. To keep the sender "
        f"out of it, acknowledge and retry the call to {fault.downstream} from a queue; "
        "no_server_errors judges the 5xx (docs/invariants.md)",
        f"{status} while {fault.downstream} {state}",
    )


_UPDATES = frozenset({"PATCH", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class MissingRead:
    """The read (``GET``), else the update, of a downstream double answered 404 most: what
    route (its method in it), how often."""

    downstream: str
    route: str
    count: int
    update: bool = False
    named: bool = False  # most of the updates' paths name their event's own record


def missing_read(history: History, deliveries: Sequence[Delivery]) -> MissingRead | None:
    """The route whose reads, else whose updates, the double answered 404 most, when at least
    half as often as ``deliveries`` (answered 5xx) number: the automation failed on what it
    fetched, or on writing to what it took to be there. Not a 404 it went on from: its path
    written after it (a PATCH answered 404, then the PUT that creates the member), or its route
    answered 404 for its record's twin in a clean run that answered no delivery 5xx
    (``_Routine``) — the automation's own way to find an item new
    (tests/gallery/member_sync.py under missing-field: its 500s came from the field dropped,
    and were said to want a stub)."""
    written = _written_paths(history)
    routine = _Routine.of(history)
    for methods in (frozenset({"GET"}), _UPDATES):
        calls = Counter(
            (e.downstream, route_of(e))
            for e in history.effects
            if e.status == 404
            and e.method.upper() in methods
            and e.at >= written.get((e.downstream, e.path), e.at)  # not written after
            and not routine.excuses(e)
        )
        if calls:
            (downstream, route), count = calls.most_common(1)[0]
            if count * 2 >= len(deliveries):
                update = "GET" not in methods
                return MissingRead(
                    downstream, route, count, update, update and _named(history, route)
                )
    return None


def _written_paths(history: History) -> dict[tuple[str, str], float]:
    """The last moment each (downstream, path) got a write that took effect."""
    last: dict[tuple[str, str], float] = {}
    # Off a loaded run's columns, as ``plain_list`` reads them: no Effect made for each call.
    fields = ("committed", "method", "downstream", "path", "at")
    for committed, method, downstream, path, at in zip(
        *(effect_column(history.effects, name) for name in fields), strict=True
    ):
        if committed and method.upper() != "GET":
            last[(downstream, path)] = max(last.get((downstream, path), at), at)
    return last


@dataclass(frozen=True, slots=True)
class _Routine:
    """The misses a clean run's double answered 404 while the clean run answered none of its
    deliveries 5xx: the automation goes on from them. Per route and record where the journal
    tells whose each was (the call's record, or its events', and that record's clean twin): a
    404 of another record of the route, whose twin met none, may be what broke it — one miss
    of the clean run excused a whole route (review19). Per route where it cannot tell."""

    routes: frozenset[tuple[str, str]]  # (downstream, route)
    records: frozenset[tuple[str, str, str]]  # (downstream, route, the clean run's record)
    unowned: frozenset[tuple[str, str]]  # a clean miss of the route named no record
    twins: Mapping[str, str]  # this run's record -> its clean twin
    keys: Mapping[str, str]  # this run's event id -> its record

    @classmethod
    def of(cls, history: History) -> _Routine:
        clean = history.baseline
        if clean is None or any(d.status is not None and d.status >= 500 for d in clean.deliveries):
            return cls(frozenset(), frozenset(), frozenset(), {}, {})
        missed = [e for e in clean.effects if e.status == 404]
        clean_keys = {e.id: e.key for e in clean.events}
        records: set[tuple[str, str, str]] = set()
        unowned: set[tuple[str, str]] = set()
        for e in missed:
            owners = _records_of(e, clean_keys)
            for key in owners:
                records.add((e.downstream, route_of(e), key))
            if not owners:
                unowned.add((e.downstream, route_of(e)))
        routes = frozenset((e.downstream, route_of(e)) for e in missed)
        keys = {e.id: e.key for e in history.events} if routes else {}
        twins = Facts(history).record_twins if routes else {}
        return cls(routes, frozenset(records), frozenset(unowned), twins, keys)

    def excuses(self, e: Effect) -> bool:
        """Whether the 404 ``e`` is one the clean run met too: on its route, for its record's
        twin (or anywhere on the route, where whose it is cannot be told)."""
        where = (e.downstream, route_of(e))
        if where not in self.routes:
            return False
        twins = {self.twins.get(k) for k in _records_of(e, self.keys)}
        if where in self.unowned or not twins or None in twins:
            return True
        return any((*where, twin) in self.records for twin in twins)


def _records_of(e: Effect, keys: Mapping[str, str]) -> set[str]:
    """The records a call is about: its own, else its events'."""
    if e.key is not None:
        return {e.key}
    return {k for i in e.event_ids if (k := keys.get(i)) is not None}


def _named(history: History, route: str) -> bool:
    """Whether most updates of ``route`` answered 404 wrote to the record their event names:
    its key (a tracer token of this run) in their path."""
    missing = [e for e in history.effects if e.status == 404 and route_of(e) == route]
    named = sum(1 for e in missing if e.key is not None and e.key in e.path)
    return named * 2 > len(missing)


def missing_read_cause(status: int, found: MissingRead) -> tuple[str, str]:
    """The likely cause of 5xx answers given by an automation whose reads the double answered
    404: a stub to add (docs/scenarios.md, "downstreams"); or whose updates it answered 404:
    items remembered from an earlier run, or the records the events name, which the real API
    holds before they come."""
    if found.update and found.named:
        return (
            f"the automation answered {status} after updating what the downstream double does "
            f"not hold: {found.route} on {found.downstream} was answered 404 "
            f"{times(found.count)}, {'' if found.count == 1 else 'each '}to the record its "
            "event names. Its real API holds that record before the event comes (made "
            "elsewhere: the shop, the billing system); the double holds "
            "only what the run wrote to it. Stub the route with a `routes:` entry on "
            f"downstream {found.downstream}, e.g. {_stub(found.route)} "
            '(docs/scenarios.md, "downstreams"), then run again',
            f"{status} after {found.route} answered 404",
        )
    if found.update:
        return (
            f"the automation answered {status} after updating what the downstream double does "
            f"not hold: {found.route} on {found.downstream} was answered 404 "
            f"{times(found.count)}. Each run's double starts empty: an automation that keeps the "
            "ids of what it created, found again by a value each run sends as it was (an email or "
            "a name: a "
            "recording replays as recorded but for its ids), updates in this run what an "
            "earlier run created — its clean run, or the hazard before. Trace the recording "
            "(`tracer: {rewrite: true}` in a scenario file makes each run's emails and names "
            "its own: docs/correlation.md), or stub the route with a `routes:` entry on "
            f'downstream {found.downstream} (docs/scenarios.md, "downstreams")',
            f"{status} after {found.route} answered 404",
        )
    return (
        f"the automation answered {status} after reading what the downstream double does not "
        f"hold: {found.route} on {found.downstream} was answered 404 {times(found.count)} (a "
        "double answers a read with what the run wrote to it, or with a stub). An automation "
        "that fetches the record an event names (Attio sends ids only) needs that read "
        f"stubbed: a `routes:` entry for {found.route} on downstream {found.downstream} "
        '(docs/scenarios.md, "downstreams"), then run again',
        f"{status} after {found.route} answered 404",
    )


def _stub(route: str) -> str:
    """``{method: PATCH, path: "/orders/{id}", status: 200}`` for ``PATCH /orders/{id}``."""
    method, _, path = route.partition(" ")
    return f'{{method: {method}, path: "{path}", status: 200}}'


@dataclass(frozen=True, slots=True)
class PlainList:
    """The collection read (``GET /contacts``) a stateful double without ``page_size``
    answered 200 most, with a plain JSON array: on which downstream, how often, and the first
    such call."""

    downstream: str
    route: str
    count: int
    first: str  # the first call's effect id
    refused: int = 0  # its reads a fault window answered instead


def plain_list(
    history: History, deliveries: Sequence[Delivery], *, windowed: bool = False
) -> PlainList | None:
    """The collection read a stateful double without ``page_size`` answered 200 most — as a
    JSON array, the whole list — when at least half as often as ``deliveries`` (answered 5xx)
    number and the run committed fewer writes than half as many: the automation stopped after
    reading the list (it reads a page's ``data`` from an array). ``windowed`` (``deliveries``
    are all the run's 5xx, some a fault window's): only those whose flight no window's time
    overlapped are counted — by the clock, not by which delivery a read naming nothing is
    taken for, which overlapping flights decide — and none is no list's; the reads a window
    answered instead are said. None for a run whose settings name no such downstream (a
    journal from before they did)."""
    found = history.info.settings.get(STATEFUL)
    if not isinstance(found, Mapping):
        return None
    whole = {name for name, size in found.items() if size is None}
    if not whole:
        return None
    if windowed:
        deliveries = _unwindowed(history, deliveries)
        if not deliveries:  # every 5xx was sent or answered while a window was open
            return None
    reads: Counter[tuple[str, str]] = Counter()
    first: dict[tuple[str, str], str] = {}
    missed: list[tuple[int, tuple[str, str]]] = []  # reads answered otherwise: a window's?
    writes = 0
    # A loaded run's columns, in time order: an Effect made for each of a million calls cost
    # 2.1 CPU-s and most of the 1 GiB ``harness check`` may use (bench_judge's failing 1M).
    effects = history.effects
    fields = ("id", "method", "committed", "status", "downstream", "path")
    for n, (eff_id, method, committed, status, downstream, path) in enumerate(
        zip(*(effect_column(effects, name) for name in fields), strict=True)
    ):
        if method.upper() != "GET":
            writes += bool(committed)
            continue
        if downstream not in whole:
            continue
        route = route_text(method, path)
        if route.endswith("/{id}"):
            continue
        if status != 200:
            if windowed:
                missed.append((n, (downstream, route)))
            continue
        reads[(downstream, route)] += 1
        first.setdefault((downstream, route), eff_id)
    if not reads:
        return None
    top, count = reads.most_common(1)[0]
    if count * 2 < len(deliveries) or writes * 2 >= count:
        return None
    refused = _refused_reads(history, [n for n, read in missed if read == top])
    return PlainList(*top, count, first[top], refused)


def _unwindowed(history: History, deliveries: Sequence[Delivery]) -> list[Delivery]:
    """Those of ``deliveries`` in whose flight (sent to answered) no fault window was open."""
    windows = [(f.start, f.end) for f in history.faults if f.mode in FAULT_MODES]
    return [
        d
        for d in deliveries
        if not any(
            d.sent_at < end and (d.answered_at if d.answered_at is not None else math.inf) > start
            for start, end in windows
        )
    ]


def _refused_reads(history: History, places: Sequence[int]) -> int:
    """How many of the calls at ``places`` (in time order) a fault window answered."""
    if not places or not history.faults:
        return 0
    answered = FaultCalls(history)
    return sum(1 for n in places if answered.answering(history.effects[n]))


def plain_list_cause(status: int, found: PlainList) -> tuple[str, str]:
    """The likely cause of 5xx answers given after collection reads the double answered with a
    plain list: a real API's pages, which ``page_size`` makes the double answer."""
    return (
        f"the automation answered {status} after reading a list: {found.route} on "
        f"{found.downstream} was answered 200 {times(found.count)} ({_first(found)}), by the "
        "downstream double with the whole collection as a plain JSON array, and the "
        f"automation wrote nothing after {'it' if found.count == 1 else 'most of them'}. An "
        "automation written for a paged API "
        'reads `{"data": [...], "next": ...}` and fails on an array: if the real API answers '
        f"its lists in pages, set `page_size:` on downstream {found.downstream} in harness.yaml "
        '(e.g. `page_size: 100`, beside `stateful: true`; docs/state.md, "Lists in pages") so '
        f"that the double pages, then run again{_refused_text(found)}",
        f"{status} after {found.route} was answered a plain list",
    )


def _first(found: PlainList) -> str:
    return found.first if found.count == 1 else f"the first {found.first}"


def _refused_text(found: PlainList) -> str:
    """``. 58 more of those reads were refused by a fault window …``, where some were."""
    if not found.refused:
        return ""
    return (
        f". {plural(found.refused, 'more of those reads was', 'more of those reads were')} "
        f"answered by a fault window on {found.downstream} instead: the answers given then "
        "are the outage's too, but the list is what fails once the API is back"
    )


@dataclass(frozen=True, slots=True)
class TokenMade:
    """A token request (``POST …/token``) the double answered with no token (anything but
    200: a creation, a 400 for a form body): what route, on which downstream, how often, the
    answer it got most."""

    downstream: str
    path: str
    count: int
    answer: int


def token_made(history: History, deliveries: Sequence[Delivery]) -> TokenMade | None:
    """The token request answered with no token most, when at least half as often as
    ``deliveries`` (answered 5xx) number: a double told no ``auth:`` answers ``POST
    /oauth/token`` as any other call — 201 for a JSON body it stores, 400 for a form — and no
    ``access_token`` (tests/gallery/token_once.py answered 500 to every delivery, said only to
    have crashed). A double told ``auth: {kind: oauth}`` answers 200 with a token."""
    calls = Counter(
        (e.downstream, e.path.partition("?")[0], e.status)
        for e in history.effects
        if e.status != 200
        and e.method.upper() == "POST"
        and e.path.partition("?")[0].rstrip("/").endswith("/token")
    )
    if not calls:
        return None
    (downstream, path, answer), count = calls.most_common(1)[0]
    if count * 2 < len(deliveries):
        return None
    return TokenMade(downstream, path, count, answer)


def token_made_cause(status: int, found: TokenMade) -> tuple[str, str]:
    """The likely cause of 5xx answers given after token requests the double made resources."""
    return (
        f"the automation answered {status} after asking {found.downstream} for a token: POST "
        f"{found.path} was answered {found.answer} {times(found.count)} by the downstream "
        "double, which knows no OAuth unless told and answers a token request as any other "
        "call — no access_token came back. Declare the API's credentials on downstream "
        f"{found.downstream} (`auth: {{kind: "
        f"oauth, token_path: {found.path}}}`, docs/scenarios.md), then run again",
        f"{status} after POST {found.path} made no token",
    )


def batch_cause(settings: Mapping[str, Any], status: int) -> tuple[str, str] | None:
    """Where the provider sends events in batches (HubSpot: a JSON array of up to 100), the
    likely cause of 5xx answers to every delivery of a run that made no downstream call: an
    automation written for one event a request fails on the list. None for a provider that
    sends one event a request."""
    name = str(settings.get("provider") or "")
    profile = PROVIDERS.get(name)
    if profile is None or profile.max_batch <= 1:
        return None
    title = profile.short_title
    return (
        f"the automation answered {status} without calling any downstream: {title} sends its "
        f"events in batches — each delivery's body a JSON array of up to {profile.max_batch} "
        "events (docs/providers.md) — and an automation written for one event a request fails "
        "on the list: read the body as a list and work each of its events",
        f"{status} on {title}'s batches",
    )


def _redelivery(settings: Mapping[str, Any]) -> str:
    """``, which Stripe redelivers (up to 8 retries)``, or that the provider does not, or
    nothing known."""
    sender = sender_of(settings)
    if sender.title is None or not sender.known:
        return ", which redelivers it if it retries (docs/providers.md)"
    if not sender.schedule:
        return (
            f"; {sender.name} does not redeliver on its own: the event is lost to it unless "
            "redelivered by hand"
        )
    return f", which {sender.name} redelivers (up to {sender.schedule} retries)"


def _title(name: str) -> str:
    """``HubSpot`` for ``hubspot``: the provider's title without its qualifier."""
    profile = PROVIDERS.get(name)
    return profile.short_title if profile is not None else name


# A payload dated this long before its run reads as an old event to an automation that checks.
_OLD_EVENT = 3600.0


def dated_before(history: History, deliveries: Sequence[Delivery]) -> float | None:
    """How long before the run began the first of ``deliveries``' events is dated by its
    payload's time (the source's time path), where that is over an hour: an automation that
    refuses old events by their payload's time (a replay check on ``created``) refuses it.
    None where the payload has no readable time, or a recent one."""
    path = (history.info.settings.get("paths") or {}).get("time")
    if not isinstance(path, str) or not deliveries:
        return None
    wanted = deliveries[0].event_id
    event = next((e for e in history.events if e.id == wanted), None)
    if event is None:
        return None
    at = _instant(_paths.get(event.payload, _paths.parse(path), None))
    try:
        began = datetime.fromisoformat(history.info.started_at).timestamp()
    except ValueError:
        return None
    age = began - at if at is not None else 0.0
    return age if age > _OLD_EVENT else None


def _instant(value: Any) -> float | None:
    """A payload's time as Unix seconds: seconds or milliseconds, or ISO 8601."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value / 1000 if value > 1e11 else float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def dated_before_cause(path: str, age: float) -> tuple[str, str]:
    """Another likely cause of 4xx answers, beside the body's shape: events dated ``age``
    seconds before their run."""
    return (
        f"the events' time: each payload is dated at {path} about {_days(age)} before the run "
        "(a synthetic source's events are dated from 2026-01-01), and an automation that "
        "refuses events older than a few minutes by their payload's time refuses them all. "
        "That check is a flaw of its own: a provider's retry, minutes to days after an outage, "
        "carries the event's first time and is refused for ever; check the age of the "
        "signature's timestamp instead (Stripe's `t=` in Stripe-Signature, Svix's "
        "webhook-timestamp), which the provider signs at each attempt (docs/providers.md)",
        "the events' time in the payload",
    )


def _days(age: float) -> str:
    return f"{age / 86400:.0f} days" if age >= 2 * 86400 else f"{age / 3600:.0f} hours"
