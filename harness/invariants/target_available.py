"""target_available: the target answers the deliveries sent to it (loud otherwise).

A delivery the target did not answer is one that

- **could not connect** — nothing listening: the process died, or was never there;
- was **reset** — the connection broke or closed before an answer: it crashed holding it;
- **timed out** while the target showed no sign of life afterwards — it answered no delivery
  sent after it and made no downstream call after it was sent: it hung.

A timeout after which the target went on answering (a provider's retry of the same event, or
any later delivery) or calling its downstreams is the target being slow, not gone:
``ack_within`` judges that, and this verdict only counts it. Answers to deliveries sent before
it, and calls made in their flights, are not going on: a target deadlocked by its own work
finishes what it had begun (tests/gallery/shared_executor.py). Nor is an answer to a later
delivery where the target then stopped for good while the timed-out one still waited: it never
answered it (``_held_as_it_stopped``). A delivery that ended without an answer for a reason on
the sender's side (a load test stopping its user) is not the target's.
More than ``max_share`` of deliveries unanswered (default 0: any) fails.

Judged in every run, whether a scenario names it or not (``_registry`` adds it), and over the
run's clean baseline too: a target that dies during the baseline is not available either, and
what the baseline taught (expected effects, the final state) is then incomplete.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import (
    CONNECTION_BROKE,
    NO_ANSWER_WITHIN,
    Delivery,
    FailureClass,
    Outcome,
    Status,
    Verdict,
)
from ..history import (
    History,
    at_array,
    delivery_column,
    delivery_numbers,
    delivery_rows,
    event_column,
)
from ._facts import (
    MAX_IDS,
    MAX_WITNESSES,
    Facts,
    Witness,
    event_ref,
    every,
    id_list,
    nones,
    plural,
    timestamp,
    verdict,
)
from ._lag import flight_end
from ._restarts import unanswered_while_restarting, unreachable_while_restarting

NAME = "target_available"
CLASS = FailureClass.LOUD
DEFAULT_MAX_SHARE = 0.0
_NEVER = float("-inf")


class NoAnswer(enum.StrEnum):
    """How a delivery ended without an answer, in the words of the verdict."""

    REFUSED = "could not connect"
    RESET = "reset"
    TIMEOUT = "timed out"


def no_answer(d: Delivery) -> NoAnswer | None:
    """How ``d`` ended without an answer; None when it was answered, or when its sender gave
    up for a reason of its own (the error names another cause)."""
    if d.status is not None:
        return None
    if d.outcome is Outcome.FAILED:
        return NoAnswer.REFUSED  # the only failure without a status: nothing was sent
    error = d.error
    if error is None or error.startswith(NO_ANSWER_WITHIN):
        return NoAnswer.TIMEOUT
    if error.startswith(CONNECTION_BROKE):
        return NoAnswer.RESET
    return None


@dataclass(frozen=True, slots=True)
class Outage:
    """Deliveries the target did not answer, sent one after the other with none answered in
    between (by send time). ``until``: when the next delivery it answered was sent; None when
    it answered none sent after them — it stopped answering."""

    deliveries: tuple[tuple[Delivery, NoAnswer], ...]
    until: float | None

    @property
    def start(self) -> float:
        return self.deliveries[0][0].sent_at

    @property
    def last(self) -> float:
        return self.deliveries[-1][0].sent_at


@dataclass(frozen=True, slots=True)
class Availability:
    """What the deliveries of one History say about the target being there."""

    deliveries: int
    unanswered: tuple[tuple[Delivery, NoAnswer], ...]  # counted against the target, by time
    slow: tuple[Delivery, ...] = ()  # timed out while the target went on: slow, not gone
    other: tuple[Delivery, ...] = ()  # ended without an answer on the sender's side
    outages: tuple[Outage, ...] = ()
    last_answer: Delivery | None = None  # the last one (by send time) the target answered

    @property
    def share(self) -> float:
        return len(self.unanswered) / self.deliveries if self.deliveries else 0.0

    @property
    def stopped(self) -> Outage | None:
        """The last outage when the target answered nothing sent after it began."""
        last = self.outages[-1] if self.outages else None
        return last if last is not None and last.until is None else None


def availability(history: History) -> Availability:
    """The deliveries of ``history`` the target did not answer, and the outages they make.

    One pass when every delivery was answered (the common case), two more (the effects, then
    the deliveries only when needed) when some timed out while the target went on; sorting
    only when the target did not answer some."""
    deliveries = history.deliveries
    silent = [deliveries[i] for i in nones(delivery_column(deliveries, "status"))]
    if not silent:
        return Availability(len(deliveries), ())
    # The target went on after a timeout when it answered a later delivery or made a later
    # effect: when an effect came after every silent delivery, the answers need no scan.
    times = at_array(history.effects)  # a loaded run's times as held: no Effect made
    went_on = float(times.max()) if len(times) else _NEVER
    if any(d.sent_at >= went_on for d in silent):
        answered_sent = (
            sent
            for sent, status in delivery_rows(deliveries, "sent_at", "status")
            if status is not None
        )
        went_on = max(went_on, max(answered_sent, default=_NEVER))
    # Answers to earlier deliveries and their calls are no sign of life after a later one: a
    # target that deadlocked (a pool whose tasks wait on its own tasks) finishes the work it
    # had begun and takes nothing new. Only where no delivery sent after one was answered.
    timeouts = [d.sent_at for d in silent if no_answer(d) is NoAnswer.TIMEOUT]
    late = max((sent for sent in timeouts if sent < went_on), default=None)
    if late is None or _answered_after(deliveries, late):  # each has a later one answered
        answered_last = float("inf")
    else:
        answered_last = _last_answered_sent(deliveries)
    tail = min((sent for sent in timeouts if answered_last <= sent < went_on), default=None)
    free, owned = (_NEVER, _NEVER) if tail is None else _life_after(history, tail)

    def went_on_after(d: Delivery) -> bool:
        if went_on <= d.sent_at:
            return False  # nothing after it at all
        if d.sent_at < answered_last:
            return True  # a delivery sent after it was answered
        return free > d.sent_at or owned >= d.sent_at

    counted: list[tuple[Delivery, NoAnswer]] = []
    slow: list[Delivery] = []
    other: list[Delivery] = []
    for d in silent:
        kind = no_answer(d)
        if kind is None:
            other.append(d)
        elif kind is NoAnswer.TIMEOUT and went_on_after(d):
            slow.append(d)
        else:
            counted.append((d, kind))
    if not counted:  # timeouts of a slow target only: no outage to find
        return Availability(len(deliveries), (), tuple(slow), tuple(other))
    answered = sorted((d for d in deliveries if d.status is not None), key=_sent)
    if slow and answered and max(_sent_of_pair(p) for p in counted) > answered[-1].sent_at:
        slow = _held_as_it_stopped(slow, answered, counted)
    counted.sort(key=_sent_of_pair)
    return Availability(
        len(deliveries),
        tuple(counted),
        tuple(slow),
        tuple(other),
        _outages(counted, [d.sent_at for d in answered]),
        answered[-1] if answered else None,
    )


def _held_as_it_stopped(
    slow: list[Delivery], answered: Sequence[Delivery], counted: list[tuple[Delivery, NoAnswer]]
) -> list[Delivery]:
    """Of the timeouts ``slow`` (each with a later delivery answered), those the target was
    still holding when it gave its last answer move to ``counted``: it stopped — answered no
    delivery sent after the last it answered (by send time) — while they waited, and never
    answered them; the rest are returned. A pool deadlocked by a burst answers a few
    deliveries that reached it after the first ones it holds for good
    (tests/gallery/shared_executor.py under a loaded machine): those are not slow, they are
    the stop's first."""
    last = max((d.answered_at for d in answered if d.answered_at is not None), default=_NEVER)
    still = []
    for d in slow:
        if flight_end(d, 0.0) > last:
            counted.append((d, NoAnswer.TIMEOUT))
        else:
            still.append(d)
    return still


def _answered_after(deliveries: Sequence[Delivery], at: float) -> bool:
    """Whether a delivery sent after ``at`` was answered: read from the last sent back, so a
    run that went on answering says so at its first few."""
    for i in range(len(deliveries) - 1, -1, -1):
        d = deliveries[i]
        if d.sent_at > at and d.status is not None:
            return True
    return False


def _last_answered_sent(deliveries: Sequence[Delivery]) -> float:
    """When the last delivery the target answered (by send time) was sent: columns read by
    numpy's C code, a million deliveries in milliseconds."""
    import numpy as np

    sent = delivery_numbers(deliveries, "sent_at")
    answered = sent[~np.isnan(delivery_numbers(deliveries, "status"))]
    return float(answered.max()) if len(answered) else _NEVER


def _life_after(history: History, after: float) -> tuple[float, float]:
    """Of the calls made after ``after``: the last one's time among those no delivery in flight
    then accounts for (none of its events', or of its record's where it names only that, was in
    flight: answered before it), and the latest send time of the deliveries that account for
    the others — the first sent of those in flight — : a call made for a delivery sent before
    another shows the target finishing work it had begun, not taking the other in."""
    import numpy as np

    # Only the calls after it, and the flights that end after it, are read (a loaded run's
    # columns: no Effect made for the calls before it).
    effects = [history.effects[int(i)] for i in np.flatnonzero(at_array(history.effects) > after)]
    if not effects:
        return _NEVER, _NEVER
    events = history.events
    key_of = dict(zip(event_column(events, "id"), event_column(events, "key"), strict=True))
    flights: dict[str, list[tuple[float, float]]] = {}  # by event id, and by record key
    rows = delivery_rows(history.deliveries, "event_id", "sent_at", "answered_at")
    for event_id, sent, answered in rows:
        end = answered if answered is not None else float("inf")
        if end < after:
            continue
        flights.setdefault(event_id, []).append((sent, end))
        if (key := key_of.get(event_id)) is not None:
            flights.setdefault(f"key:{key}", []).append((sent, end))
    free = owned = _NEVER
    for e in effects:
        names = e.event_ids or ([f"key:{e.key}"] if e.key is not None else [])
        sent = [
            min((s for s, end in flights.get(name, ()) if s <= e.at <= end), default=None)
            for name in names
        ]
        if not sent or None in sent:
            free = max(free, e.at)
        else:
            owned = max(owned, *(s for s in sent if s is not None))
    return free, owned


def _outages(
    counted: Sequence[tuple[Delivery, NoAnswer]], answered_sent: Sequence[float]
) -> tuple[Outage, ...]:
    """Unanswered deliveries split wherever the target answered one sent between them."""

    def next_answer(after: float) -> float | None:
        i = bisect_right(answered_sent, after)
        return answered_sent[i] if i < len(answered_sent) else None

    out: list[Outage] = []
    group: list[tuple[Delivery, NoAnswer]] = []
    for pair in counted:
        if group:
            until = next_answer(group[-1][0].sent_at)
            if until is not None and until < pair[0].sent_at:
                out.append(Outage(tuple(group), until))
                group = []
        group.append(pair)
    if group:
        out.append(Outage(tuple(group), next_answer(group[-1][0].sent_at)))
    return tuple(out)


def target_available(facts: Facts, max_share: float = DEFAULT_MAX_SHARE) -> Verdict:
    """Fail when more than ``max_share`` of the deliveries of the run, or of its clean baseline
    run, got no answer (could not connect, reset, or timed out with the target gone)."""
    history = facts.history
    run = availability(history)
    baseline = history.baseline
    base = availability(baseline) if baseline is not None else None
    if not run.deliveries and not (base and base.deliveries):
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, "no delivery was made; nothing to judge")
    allowed = f"at most {_percent(max_share)} allowed" if max_share else ""
    run_fails = run.share > max_share
    base_fails = base is not None and base.share > max_share
    if not (run_fails or base_fails):
        return verdict(NAME, Status.PASS, CLASS, _held(facts, run, base, allowed))
    parts: list[str] = []
    heads: list[Witness] = []
    details: list[Witness] = []
    if run_fails:
        parts.append(_story(facts, run, allowed))
        heads += _heads(facts, run, "")
        details += _details(facts, run, "")
    if base_fails:
        assert base is not None and baseline is not None
        base_facts = Facts(baseline)
        parts.append(f"during the clean baseline run, {_story(base_facts, base, allowed)}")
        heads += _heads(base_facts, base, "clean baseline run: ")
        details += _details(base_facts, base, "clean baseline run: ")
    if not run_fails:
        parts.append(f"this run: {_run_text(facts, run, allowed)}")
    summary = "; ".join(parts) + _slow_note(history, run) + _other_note(run)
    # When the target went away comes first, for both runs; single deliveries fill the rest.
    return verdict(NAME, Status.FAIL, CLASS, summary, heads + details)


def _held(facts: Facts, run: Availability, base: Availability | None, allowed: str) -> str:
    text = _run_text(facts, run, allowed)
    if base is not None and base.deliveries:
        clean = plural(base.deliveries, "delivery", "deliveries")
        text += (
            f" (and {'the' if base.deliveries == 1 else 'all'} {clean} of the clean baseline run)"
            if not base.unanswered
            else f" (the clean baseline run: {kinds_text(base.unanswered)} of {clean})"
        )
    return text + _slow_note(facts.history, run) + _other_note(run)


def _run_text(facts: Facts, run: Availability, allowed: str) -> str:
    """The run's unanswered deliveries (within what ``max_share`` allows), or that there were
    none."""
    return _story(facts, run, allowed) if run.unanswered else _answered_all(run)


def _answered_all(run: Availability) -> str:
    answered = run.deliveries - len(run.slow) - len(run.other)
    if not run.deliveries:
        return "no delivery was made"
    if answered == run.deliveries:
        return f"the target answered {every(run.deliveries, 'delivery', 'deliveries')}"
    return f"the target answered {answered:,} of {plural(run.deliveries, 'delivery', 'deliveries')}"


def _story(facts: Facts, av: Availability, allowed: str) -> str:
    """``the target stopped answering at 2.31 s: 25 of the 40 deliveries got no answer from
    then on (25 could not connect); 12 events never accepted because of it``."""
    total = plural(av.deliveries, "delivery", "deliveries")
    stopped = av.stopped
    earlier = av.outages[:-1] if stopped is not None else av.outages
    parts = []
    if stopped is not None and av.last_answer is None:
        parts.append(f"the target answered none of the {total} ({kinds_text(stopped.deliveries)})")
    elif stopped is not None:
        parts.append(
            f"the target stopped answering at {timestamp(stopped.start)}: "
            f"{len(stopped.deliveries):,} of the {total} got no answer from then on "
            f"({kinds_text(stopped.deliveries)})"
        )
    if earlier:
        pairs = [p for o in earlier for p in o.deliveries]
        stretch = (
            _span(earlier[0])
            if len(earlier) == 1
            else f"in {len(earlier)} stretches from {timestamp(earlier[0].start)} to "
            f"{timestamp(earlier[-1].last)}"
        )
        count = (
            plural(len(pairs), "delivery", "deliveries")
            if stopped is not None
            else f"{len(pairs):,} of the {total}"
        )
        parts.append(
            f"{count} got no answer {stretch} ({kinds_text(pairs)}), and the target answered again "
            "after"
        )
    text = "; before that, ".join(parts)
    if allowed:
        text += f" ({_percent(av.share)} of deliveries, {allowed})"
    text += unreachable_while_restarting(facts.history, [d for d, _ in av.unanswered])
    lost = _never_accepted(facts, av)
    if lost:
        text += f"; {plural(len(lost), 'event')} never accepted because of it"
    return text


def _never_accepted(facts: Facts, av: Availability) -> list[str]:
    """Events with an unanswered delivery and none the target accepted, by time."""
    accepted = facts.accepted
    known = facts.events_by_id
    found = dict.fromkeys(
        d.event_id for d, _ in av.unanswered if d.event_id not in accepted and d.event_id in known
    )
    return list(found)


def _heads(facts: Facts, av: Availability, prefix: str) -> list[Witness]:
    """When the target went away (its last answer, its first silence), the events it never
    accepted because of it, and each earlier outage."""
    out: list[Witness] = []
    stopped = av.stopped
    if stopped is not None:
        first = stopped.deliveries[0][0]
        last = av.last_answer
        answered = last.answered_at if last is not None else None
        at = f" at {timestamp(answered)}" if answered is not None else ""
        before = (
            f"last answer: delivery {last.id} (event {last.event_id}) sent at "
            f"{timestamp(last.sent_at)}, answered {last.status}{at}; "
            if last is not None
            else "no delivery was ever answered; "
        )
        ids = (first.id,) if last is None else (last.id, first.id)
        out.append(
            Witness(
                f"{prefix}{before}from {timestamp(first.sent_at)} on, "
                f"{plural(len(stopped.deliveries), 'delivery', 'deliveries')} got no answer, "
                f"the first {first.id}: {_why(first)}",
                (first.event_id,),
                ids,
            )
        )
    lost = _never_accepted(facts, av)
    if lost:
        out.append(
            Witness(
                f"{prefix}never accepted because of it: {plural(len(lost), 'event')}, "
                f"{id_list(lost)}",
                tuple(lost[:MAX_IDS]),
            )
        )
    for outage in av.outages:
        if outage is stopped:
            continue
        silent = [d.id for d, _ in outage.deliveries]
        until = outage.until if outage.until is not None else outage.last
        out.append(
            Witness(
                f"{prefix}no answer {_span(outage)}: {kinds_text(outage.deliveries)} "
                f"({id_list(silent)}); answered again from a delivery sent at "
                f"{timestamp(until)}",
                tuple(dict.fromkeys(d.event_id for d, _ in outage.deliveries[:MAX_IDS])),
                tuple(silent[:MAX_IDS]),
            )
        )
    return out


def _details(facts: Facts, av: Availability, prefix: str) -> list[Witness]:
    """The unanswered deliveries by send time, each with its event and why."""
    out: list[Witness] = []
    events = facts.events_by_id
    for d, _ in av.unanswered[:MAX_WITNESSES]:
        event = events.get(d.event_id)
        about = event_ref(event) if event is not None else f"event {d.event_id}"
        out.append(
            Witness(
                f"{prefix}delivery {d.id} of {about}, attempt {d.attempt}, sent at "
                f"{timestamp(d.sent_at)}: {_why(d)}",
                (d.event_id,),
                (d.id,),
            )
        )
    return out


def _span(outage: Outage) -> str:
    """``at 0.40 s`` or ``between 0.40 s and 0.90 s``: when its deliveries were sent."""
    if outage.start == outage.last:
        return f"at {timestamp(outage.start)}"
    return f"between {timestamp(outage.start)} and {timestamp(outage.last)}"


def _why(d: Delivery) -> str:
    kind = no_answer(d)
    label = kind.value if kind is not None else "no answer"
    return f"{label} ({d.error})" if d.error else label


def kinds_text(pairs: Sequence[tuple[Delivery, NoAnswer]]) -> str:
    """``25 could not connect, 2 reset``: in the order of NoAnswer."""
    counts = Counter(kind for _, kind in pairs)
    return ", ".join(f"{counts[k]:,} {k.value}" for k in NoAnswer if counts[k])


def _slow_note(history: History, run: Availability) -> str:
    """``; 2 deliveries timed out while the target went on answering: slow, not gone …`` — or,
    of those sent while a deploy restart the run made took the endpoint away, that."""
    if not run.slow:
        return ""
    head = (
        f"; {plural(len(run.slow), 'delivery', 'deliveries')} timed out while the target went "
        "on answering: "
    )
    restarting, held = unanswered_while_restarting(history, run.slow)
    if not held:
        return head + "slow, not gone (ack_within judges that)"
    others = "; the others slow, not gone" if len(held) < len(run.slow) else ""
    return f"{head}{restarting}{others} (ack_within judges that)"


def _other_note(run: Availability) -> str:
    if not run.other:
        return ""
    why = run.other[0].error or "no answer"
    return (
        f"; {plural(len(run.other), 'delivery', 'deliveries')} ended without an answer on the "
        f"sender's side ({why}), not counted"
    )


def _percent(share: float) -> str:
    pct = share * 100
    return f"{pct:.0f}%" if pct >= 1 or pct == 0 else f"{pct:.2g}%"


def _sent(d: Delivery) -> float:
    return d.sent_at


def _sent_of_pair(pair: tuple[Delivery, NoAnswer]) -> float:
    return pair[0].sent_at
