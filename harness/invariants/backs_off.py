"""backs_off: a call a downstream refused is not made again faster than the downstream allows.

Two rules, each about one write made again by the automation itself (``_open_calls.identical``:
the same request and body, attributed to the same events), never about other writes:

* **Retry-After**: a call a fault answered 429 with ``Retry-After`` (``throttle``,
  ``rate-limit``) made again before that many seconds had passed since it was made. The
  header's seconds are real ones — a fault's Retry-After is not time-scaled
  (``double._faults.to_fault``) — and so is the run's clock, so the gap is compared as measured
  at any time scale, less ``SLACK`` for a timer that wakes a little early.
* **No backoff**: a call a window without Retry-After refused (a 5xx, a reset, a timeout, a
  commit then an error) made more than ``MAX_PER_SECOND`` times within one real second while
  that window refused it. Exponential backoff from any start above a few microseconds makes far
  fewer (the sound demo, doubling from 50 ms, makes 5); a loop that retries at once makes
  hundreds.

A repeat with a delivery of its event sent in between is not counted: it may be that
delivery's own work (the sender redelivering), not the automation's retry. Nor is one while
several deliveries of its events had been sent (a duplicate, a copy of a retry storm): each
delivery's handler may make the call once and wait on its own, so n deliveries fail a rule
only where more than n of its calls break it together — n + 1 calls within a Retry-After,
more than n * MAX_PER_SECOND in a second — for then one handler at least made two of them. A
call of several events within a Retry-After that only their deliveries counted together excuse
(no event of it delivered as often) is inconclusive: a batch its automation re-sent itself. A
write attributed to no event is not counted either: two events' calls could not be told from
one call made again; a run that would pass beside more than MAX_PER_SECOND of one such
request in a second is inconclusive instead (a storm the rule cannot attribute). A run whose
windows refused no call is inconclusive; one whose refused calls were never made again
passes, saying so (``no_lost_events`` judges what was dropped).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from ..core._model import Effect, FailureClass, Fault, Status, Verdict
from ..double._faults import least_retry_after
from ..history import History
from ._derived import derived_fields, derived_text, per_record_advice
from ._facts import (
    Facts,
    Witness,
    event_ref,
    id_list,
    plural,
    route_of,
    times,
    timestamp,
    verdict,
)
from ._fault_calls import FaultCalls
from ._lag import Lag
from ._open_calls import identical
from ._rounded_ids import rounded_id, rounded_text
from ._starved_pace import Starved, starved

NAME = "backs_off"
CLASS = FailureClass.LOUD
# Seconds a repeat may come before its Retry-After: a timer may wake a little early.
SLACK = 0.05
# Calls of one refused write in one real second beyond which it was not backed off.
MAX_PER_SECOND = 20
_REFUSING = frozenset(
    ("status", "throttle", "timeout", "reset", "commit-then-fail", "fail-first-n", "rate-limit")
)

# Stands for "no fault" beside a call let through after refused ones.
_NONE = Fault("", "", 0.0, 0.0, {})

_Key = tuple[tuple[str, str, str, str], tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Early:
    """``again`` made ``gap`` s after ``refused``, which ``fault`` answered 429 with
    ``Retry-After: wait``; with ``handlers`` deliveries of its events sent, ``again`` is the
    last of ``handlers`` + 1 calls within that gap (one handler made two of them)."""

    refused: Effect
    again: Effect
    wait: int
    fault: Fault
    handlers: int = 1

    @property
    def within(self) -> str:
        """How the calls came too soon: ``0.002 s later`` or, where several deliveries had
        been sent, ``0.004 s later, the last of 3 calls in that time while 2 deliveries of its
        events had been sent``."""
        later = f"{self.gap:.3f} s later"
        if self.handlers == 1:
            return later
        return (
            f"{later}, the last of {self.handlers + 1} calls in that time while "
            f"{self.handlers} deliveries of its events had been sent"
        )

    @property
    def gap(self) -> float:
        return self.again.at - self.refused.at

    @property
    def told(self) -> str:
        """``Retry-After 1 s``; a rate limit's header is its bucket's refill, 1 s at least."""
        least = " of at least" if self.fault.mode == "rate-limit" else ""
        return f"Retry-After{least} {self.wait} s"


@dataclass(frozen=True, slots=True)
class Storm:
    """``calls`` of one write (in time order) within one second, each refused by ``fault``."""

    calls: tuple[Effect, ...]
    fault: Fault

    @property
    def longest_gap(self) -> float:
        return max(b.at - a.at for a, b in pairwise(self.calls))


def backs_off(facts: Facts) -> Verdict:
    """Fail when a refused call was made again before its Retry-After, or more than
    MAX_PER_SECOND times in a second while a window without one refused it."""
    history = facts.history
    windows = [f for f in history.faults if f.mode in _REFUSING]
    if not windows:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            "the run had no fault window that refuses calls; nothing to back off from",
        )
    answering = FaultCalls(history)
    calls: dict[_Key, list[tuple[Effect, Fault]]] = {}
    unnamed: dict[tuple[str, str, str, str], list[tuple[Effect, Fault]]] = {}
    refused = unattributed = 0
    downstreams = {f.downstream for f in windows}
    for e in facts.effects_in_order:
        if e.downstream not in downstreams:
            continue
        faults = [f for f in answering.answering(e) if f.mode in _REFUSING]
        if not faults:
            # A call let through ends the run of refused ones it repeats.
            for key in _keys(e):
                if key in calls:
                    calls[key].append((e, _NONE))
            continue
        refused += 1
        if not e.event_ids:
            unattributed += 1
            unnamed.setdefault(identical(e), []).append((e, faults[0]))
            continue
        for key in _keys(e):
            calls.setdefault(key, []).append((e, faults[0]))
    if not refused:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"the fault acted on no call ({_windows_text(windows)}), so the run shows nothing of "
            "how the automation retries a refused call; make the window longer (the fault's "
            "`for:`) or the time scale larger, so that the automation calls it while it is open",
        )
    if refused == unattributed:
        fix = _unnamed_fix(history, [e for made in unnamed.values() for e, _ in made])
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"none of the {plural(refused, 'call')} the fault windows refused named an event, so "
            f"a call made again cannot be told from another event's; {fix}",
        )
    sent = _sent_times(facts, {eid for _, eids in calls for eid in eids})
    early: list[Early] = []
    storms: list[Storm] = []
    slow: list[Starved] = []  # paces the harness's own lateness may have set
    lag = Lag(history)
    unsure: list[tuple[Early, int]] = []  # within a Retry-After, but other handlers may have
    # Within it where only deliveries of its other events make up the handlers: not known.
    batched: list[tuple[Early, int]] = []
    again: set[str] = set()  # calls made again, once each (a batch's are in each event's)
    for made in calls.values():
        # The deliveries of every event the calls carried (a batch's others too): each may
        # have made one of them.
        eids = sorted({eid for e, _ in made for eid in e.event_ids})
        times = sorted(t for eid in eids for t in sent.get(eid, ()))
        for run in _own_runs(made, times):
            # Handlers that may each be making this call: a delivery sent in the run would
            # have cut it, so those sent by its first call.
            handlers = max(1, bisect.bisect_right(times, run[0][0].at))
            again.update(e.id for e, _ in run[1:])
            early.extend(_early(run, handlers))
            if handlers > 1:
                doubted = _batch_doubts(run, eids, sent, handlers)
                batched.extend((x, handlers) for x in doubted)
                if not doubted:
                    unsure.extend((x, handlers) for x in _early(run, 1))
            densest = _densest(run)
            if densest is None:
                continue
            if len(densest.calls) > MAX_PER_SECOND * handlers:
                storms.append(densest)
            elif (
                paced := starved(
                    densest.calls, densest.fault, lag, [e for e, _ in run], MAX_PER_SECOND
                )
            ) is not None:
                slow.append(paced)
    repeated = len(again)
    early = list({(x.refused.id, x.again.id): x for x in early}.values())
    storms = list({tuple(c.id for c in x.calls): x for x in storms}.values())
    unsure = list({(x.refused.id, x.again.id): (x, n) for x, n in unsure}.values())
    batched = list({(x.refused.id, x.again.id): (x, n) for x, n in batched}.values())
    if early or storms:
        return _failed(facts, early, storms)
    doubts = [max(slow, key=lambda p: len(p.calls)).text()] if slow else []
    # Calls naming no event are not judged, but a pass must not hide a storm of them.
    most, request = max(((_most_in_a_second(m), r) for r, m in unnamed.items()), default=(0, None))
    if request is not None and most > MAX_PER_SECOND:
        _, method, path, _ = request
        doubts.append(
            f"{plural(unattributed, 'refused call')} named no event, among them "
            f"{method.upper()} {path} made {most:,} times in one second, the same request each "
            "time, refused: one call made again without waiting cannot be told from several "
            f"events' calls; {_unnamed_fix(history, [e for e, _ in unnamed[request]])}"
        )
    if batched:  # every reason the run cannot pass is said, the batches' first
        also = "".join(f"; and {doubt}" for doubt in doubts)
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, _batched_text(batched) + also)
    passed = _passed(refused, repeated, calls, bool(unsure))
    if unsure:
        passed += _unsure_text(unsure)
    if doubts:
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, f"{passed}; but " + "; and ".join(doubts))
    unjudged = (
        f"; {plural(unattributed, 'refused call')} naming no event not judged"
        if unattributed
        else ""
    )
    return verdict(NAME, Status.PASS, CLASS, passed + unjudged)


def _keys(e: Effect) -> list[_Key]:
    """What call ``e`` makes again: its request, body and all, for its events; a call carrying
    several events' items (a batch), each event's request to its path — a refused batch sent
    again with other events beside them is each event's call made again (a Node.js flush every
    250 ms re-posted every refused order with the new ones: "none made again by the
    automation", tests/gallery/node/shopify_orders_interval_batch.js)."""
    if len(e.event_ids) > 1:
        request = (e.downstream, e.method.upper(), e.path, "")
        return [(request, (eid,)) for eid in e.event_ids]
    return [(identical(e), e.event_ids)] if e.event_ids else []


def _unnamed_fix(history: History, calls: Sequence[Effect]) -> str:
    """What lets refused ``calls`` naming no event be judged: the rule to write — unless their
    ids were rounded (``_rounded_ids``), or, naming only their record, their bodies hold nothing
    that tells its events apart (``_derived``: a running balance, float_balance under
    downstream-outage, was told to add a rule no value could match)."""
    route = route_of(calls[0])
    rounded = rounded_id(history.events, calls)
    if rounded:
        return rounded_text(route, rounded)
    mine = [e for e in calls if route_of(e) == route and e.key is not None]
    derived = (
        None if history.info.settings.get("correlate") else derived_fields(history.events, mine)
    )
    if derived:
        clean = history.baseline is not None
        return derived_text(route, derived, per_record_advice(NAME, clean_run=clean))
    return "add a `correlate:` rule (docs/correlation.md)"


def _windows_text(windows: Sequence[Fault]) -> str:
    return ", ".join(_fault_text(f) for f in windows)


def _sent_times(facts: Facts, event_ids: set[str]) -> dict[str, list[float]]:
    return {
        eid: sorted(d.sent_at for d in found)
        for eid, found in facts.deliveries_of(event_ids).items()
    }


def _own_runs(
    made: Sequence[tuple[Effect, Fault]], sent: Sequence[float]
) -> Iterable[list[tuple[Effect, Fault]]]:
    """``made`` (one write's calls, in time order) cut where a delivery of its events was sent
    between two calls: each run is the automation's own repeats of one call."""
    sent = sorted(sent)
    run: list[tuple[Effect, Fault]] = []
    for call in made:
        if run and bisect.bisect_right(sent, call[0].at) > bisect.bisect_right(sent, run[-1][0].at):
            yield run
            run = []
        run.append(call)
    if run:
        yield run


def _early(run: Sequence[tuple[Effect, Fault]], handlers: int) -> Iterable[Early]:
    """Calls ``handlers`` + 1 of which came within the Retry-After of the first, each but the
    last answered 429 with one: by pigeonhole, one handler made two of them."""
    for end in range(handlers, len(run)):
        calls = run[end - handlers : end]
        waits = [least_retry_after(f) for _, f in calls]
        if None in waits:
            continue
        wait = min(w for w in waits if w is not None)
        first, fault = calls[0]
        again = run[end][0]
        if again.at - first.at < wait - SLACK:
            yield Early(first, again, wait, fault, handlers)


def _densest(run: Sequence[tuple[Effect, Fault]]) -> Storm | None:
    """The most calls of ``run`` within one second refused by one window without Retry-After;
    None where none was."""
    # The best window's bounds, its calls taken once at the end: a tuple made at each better
    # window made 20,000 calls in one second 5 CPU-s.
    best: tuple[int, int] | None = None
    start = 0
    for end in range(len(run)):
        fault = run[end][1]
        if fault is _NONE or least_retry_after(fault) is not None:
            start = end + 1
            continue
        while run[start][1] is not fault or run[end][0].at - run[start][0].at > 1.0:
            start += 1
        if best is None or end - start > best[1] - best[0]:
            best = (start, end)
    if best is None:
        return None
    first, last = best
    return Storm(tuple(e for e, _ in run[first : last + 1]), run[last][1])


def _fault_text(fault: Fault) -> str:
    return (
        f"the {fault.downstream} {fault.mode} fault ({timestamp(fault.start)}-"
        f"{timestamp(fault.end)})"
    )


def _failed(facts: Facts, early: Sequence[Early], storms: Sequence[Storm]) -> Verdict:
    events = facts.events_by_id
    parts = []
    witnesses: list[Witness] = []
    if early:
        shown = early[0]
        ids = {i for x in early for i in x.again.event_ids}
        parts.append(
            f"{plural(len(early), 'call')} of {plural(len(ids), 'event')} made again before the "
            f"Retry-After its 429 asked had elapsed (e.g. {shown.refused.method.upper()} "
            f"{shown.refused.path} {shown.refused.id}, answered 429 with {shown.told}, made "
            f"again as {shown.again.id} {shown.within})"
        )
        by_call: dict[_Key, list[Early]] = {}
        for x in early:
            by_call.setdefault((identical(x.again), x.again.event_ids), []).append(x)
        for (_, eids), found in by_call.items():
            x = found[0]
            about = ", ".join(event_ref(events[i]) if i in events else i for i in eids)
            witnesses.append(
                Witness(
                    f"{about}: {x.refused.method.upper()} {x.refused.path} {x.refused.id} was "
                    f"answered 429 with {x.told} by {_fault_text(x.fault)} and "
                    f"made again {_again(found)} before its Retry-After had elapsed",
                    eids,
                    (),
                    (x.refused.id, *(y.again.id for y in found)),
                )
            )
    if storms:
        top = max(storms, key=lambda s: len(s.calls))
        parts.append(
            f"{plural(len(storms), 'call')} made again more than {MAX_PER_SECOND} times in one "
            f"second while a window without Retry-After refused it (the most: "
            f"{top.calls[0].method.upper()} {top.calls[0].path}, {len(top.calls):,} times, no gap "
            f"longer than {top.longest_gap:.3f} s, all refused by {_fault_text(top.fault)})"
        )
        for s in storms:
            first = s.calls[0]
            about = ", ".join(event_ref(events[i]) if i in events else i for i in first.event_ids)
            witnesses.append(
                Witness(
                    f"{about}: {first.method.upper()} {first.path} made {len(s.calls):,} times "
                    f"within one second from {timestamp(first.at)}, each refused "
                    f"({_answer(first)}) by {_fault_text(s.fault)}, no gap longer than "
                    f"{s.longest_gap:.3f} s: " + id_list([e.id for e in s.calls]),
                    first.event_ids,
                    (),
                    tuple(e.id for e in s.calls),
                )
            )
    summary = (
        "; ".join(parts)
        + ": the automation retries a refused call without waiting — wait at least the "
        "Retry-After a 429 or 503 gives before the same call, back off exponentially with "
        "jitter and a cap otherwise, and give up to a queue that retries later; a client "
        "that hammers a throttled or failing API gets its key throttled harder or banned, "
        "starves the integrations sharing its quota and prolongs the outage"
    )
    return verdict(NAME, Status.FAIL, CLASS, summary, witnesses)


def _again(found: Sequence[Early]) -> str:
    """``as eff_5 0.001 s later``, or ``3 times, the first as eff_5 …, the shortest gap …``."""
    first = found[0]
    if len(found) == 1:
        return f"as {first.again.id} {first.within}"
    return (
        f"{times(len(found))}, the first as {first.again.id} {first.within}, the shortest gap "
        f"{min(y.gap for y in found):.3f} s (" + id_list([y.again.id for y in found]) + ")"
    )


def _answer(e: Effect) -> str:
    return "connection reset" if e.status == 0 else f"answered {e.status}"


def _passed(
    refused: int, repeated: int, calls: dict[_Key, list[tuple[Effect, Fault]]], unsure: bool
) -> str:
    told = sum(1 for made in calls.values() for _, f in made if least_retry_after(f) is not None)
    most = max((_most_in_a_second(made) for made in calls.values()), default=0)
    waited = (
        f"{told:,} answered 429"
        if told and unsure
        else f"each call answered 429 made again only after its Retry-After ({told:,} answered 429)"
        if told
        else "no Retry-After asked for"
    )
    if not repeated:
        return (
            f"{plural(refused, 'call')} refused by fault windows, none made again by the "
            "automation (no retry to judge; no_lost_events judges what was dropped)"
        )
    return (
        f"{plural(refused, 'call')} refused by fault windows, {repeated:,} made again by the "
        f"automation: {waited}; at most {plural(most, 'call')} of one write in one second "
        f"(more than {MAX_PER_SECOND} while refused without Retry-After fails)"
    )


def _unsure_text(unsure: Sequence[tuple[Early, int]]) -> str:
    """Calls made again within the Retry-After their 429 asked, no more often than deliveries
    of their events had been sent: each delivery's work may have made one, so none fails —
    said, not hidden behind "only after its Retry-After"."""
    x, handlers = unsure[0]
    return (
        f"; {plural(len(unsure), 'call')} made again within the Retry-After its 429 asked, "
        f"not failed: no more often than deliveries of its events had been sent, each of which "
        f"may have made it once (e.g. {x.refused.method.upper()} {x.refused.path} "
        f"{x.refused.id}, answered 429 with {x.told}, made again as {x.again.id} "
        f"{x.gap:.3f} s later, carrying the same {plural(len(x.again.event_ids), 'event')}, "
        f"{handlers:,} deliveries of them sent) — if the automation re-sends a batch on a "
        "timer, that was its own retry, before the Retry-After"
    )


def _batch_doubts(
    run: Sequence[tuple[Effect, Fault]],
    eids: Sequence[str],
    sent: dict[str, list[float]],
    handlers: int,
) -> list[Early]:
    """The calls of ``run`` (carrying ``eids``) made again within a Retry-After that the most
    deliveries any one of its events had would not excuse, where ``handlers`` (all its events'
    deliveries) do: a call of several events, each delivered once, is excused only if each
    delivery's handler sent the whole batch once — or the automation re-sent it itself (a
    batch on a timer), which the run cannot tell apart."""
    first = run[0][0].at
    own = max(1, *(bisect.bisect_right(sent.get(eid, []), first) for eid in eids))
    return list(_early(run, own)) if own < handlers else []


def _batched_text(batched: Sequence[tuple[Early, int]]) -> str:
    """Not judged: calls of several events made again within their 429's Retry-After, where
    only counting every event's delivery as a handler that may have sent the call excuses it."""
    x, handlers = batched[0]
    return (
        f"not judged: {plural(len(batched), 'call')} of several events made again within the "
        f"Retry-After its 429 asked (e.g. {x.refused.method.upper()} {x.refused.path} "
        f"{x.refused.id}, answered 429 with {x.told}, made again as {x.again.id} "
        f"{x.gap:.3f} s later, carrying the same {plural(len(x.again.event_ids), 'event')}, "
        f"{handlers:,} deliveries of them sent, no event's more than {plural(x.handlers, 'time')}"
        "): the automation re-sent the batch itself before the "
        "Retry-After (a batch flushed on a timer), or the handler of each of its events' "
        "deliveries sent the whole batch once — this run cannot tell which; if it re-sends a "
        "refused batch on a timer, hold the batch until the Retry-After has elapsed"
    )


def _most_in_a_second(made: Sequence[tuple[Effect, Fault]]) -> int:
    times = [e.at for e, _ in made]
    return max((bisect.bisect_right(times, t + 1.0) - i for i, t in enumerate(times)), default=0)
