"""Lost events the target accepted before a deploy restart the run made (``restarts:``).

A worker that answers 2xx and keeps the work in memory — a queue, a background thread, an
executor, an asyncio task list — loses what it still held when a deploy stops its process,
unless it drains on SIGTERM (tests/gallery/deploy_drain.py under gunicorn's ``kill -HUP``).
The run knows when it restarted the target (a ``restart`` Mark each, ``engine/_restarts``):
an event accepted before a restart ended and never worked, while nothing accepted after it
and before that restart began was worked either (the queue had not got past it), died with
the old process. That is its cause, named with the restart, not a queue slower than the
settle quiet nor a process that ended unseen — where the target was seen working on both
sides of the restart (a call made before it ended and one after): a target that made
no call after the restart, or none at all, lost its events whatever the deploy did (an ASGI
app that calls nothing, restarted by ``true``, had its 42 events blamed on the restart).
"Ended" is when the old process may have stopped taking events, not when the hook returned
(gunicorn's ``kill -HUP`` returns at once): until the first event accepted since the restart
began that was worked (``_ends``) — for a record short of requests naming no event, the first
whose record got a call before its next event (``_held_records``).

A restart whose hook Ctrl-C stopped part-way (``interrupted``) ended the run with it: the
automation may be stopped, half restarted or untouched, and nothing after was seen. Work taken
before it (a call made before it, none needed after) is told with it as not known lost; the
deliveries it took the endpoint away from stay its, the endpoint's return unseen.
"""

from __future__ import annotations

import json
import math
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from ..core._model import Delivery, Outcome
from ..history import History, delivery_rows, effect_values, event_rows
from ._calendar import calendar_moment
from ._facts import plural, timestamp, which_of

RESTART_MARK = "restart"
"""The Mark of a restart the run made (detail: JSON ``{"at": s, "started": s, "ended": s}``
on the run's clock: when it was due, when the hook was called and when it returned)."""

_DRAIN = (
    "drain queued work on SIGTERM before exiting (gunicorn: a worker_exit hook that joins the "
    "worker thread, within graceful_timeout; Node-RED: a flow that persists what its delay "
    "node holds), or keep each event in a durable queue or a jobs table the new process "
    "takes up before answering 2xx"
)


@dataclass(frozen=True, slots=True)
class Restart:
    """One restart of the target the run made, on its clock; ``interrupted`` where Ctrl-C
    stopped its hook part-way (and the run with it: ``ended`` is then when), ``calendar`` the
    moment it was due in a month of a year."""

    at: float
    started: float
    ended: float
    interrupted: bool = False
    calendar: str | None = None

    @property
    def took(self) -> float:
        return self.ended - self.started


def restarts_of(history: History) -> tuple[Restart, ...]:
    """The restarts the run made, in their order."""
    marks = [json.loads(m.detail) for m in history.marks if m.name == RESTART_MARK]
    if not marks:
        return ()  # most runs
    moment = calendar_moment(history)
    found = [
        Restart(
            float(d["at"]),
            float(d["started"]),
            float(d["ended"]),
            bool(d.get("interrupted", False)),
            None if moment is None else moment(float(d["at"])),
        )
        for d in marks
    ]
    return tuple(sorted(found, key=lambda r: r.started))


def restart_loss(
    history: History, lost: Collection[str], records: Collection[str] = ()
) -> tuple[str, frozenset[str]]:
    """``; all 6 of these were accepted (2xx) before the deploy restart at 2.00 s …`` and
    those of ``lost`` (events) and ``records`` (short of requests naming no event) it names.
    An event: accepted before a restart ended, none worked that was accepted after it and
    before the restart began. A record: its latest event accepted before a restart ended got
    no call naming the record before its next (``_held_records``). ("", none) where the run
    made no restart or none is such."""
    made = restarts_of(history)
    if not made or not (lost or records):
        return "", frozenset()  # most runs: no effect sorted for them
    calls = sorted(effect_values(history.effects, "at"))
    restarts = tuple(
        r
        for r in made
        # Working before it ended and again after: else the restart is not the cause. After
        # one Ctrl-C stopped, the run saw nothing more: what it may be blamed for is said so.
        if bisect_left(calls, r.ended) > 0
        and (r.interrupted or bisect_right(calls, r.ended) < len(calls))
    )
    if not restarts:
        return "", frozenset()
    accepted: dict[str, float] = {}
    for eid, answered, outcome in delivery_rows(
        history.deliveries, "event_id", "answered_at", "outcome"
    ):
        if outcome is Outcome.OK and answered is not None:
            accepted[eid] = min(accepted.get(eid, math.inf), answered)
    held: dict[str, tuple[Restart, float]] = {}  # each event held: by which, accepted when
    worked = sorted(
        accepted[i] for ids in effect_values(history.effects, "event_ids") for i in ids
        if i in accepted
    )  # fmt: skip
    ends = _ends(restarts, worked)
    for eid in lost:
        at = accepted.get(eid)
        if at is None or (n := bisect_left(ends, at)) == len(ends):
            continue  # never accepted, or after the last restart's old process stopped
        restart = restarts[n]
        # The queue got past it (an event accepted after it, before the restart, was worked):
        # passed over, not held when the process stopped. One taken while the hook ran is held
        # whatever came before it (Node-RED worked events taken 0.1-0.3 s into a 0.95 s reload,
        # then lost every one taken after: none was told).
        if at > restart.started or bisect_right(worked, at) == bisect_left(worked, restart.started):
            held[eid] = (restart, at)
    held_records = _held_records(history, accepted, records, restarts)
    if not held and not held_records:
        return "", frozenset()
    # Taken while the hook ran (the old process still answering, or the new one already) is
    # "during" it, not "before"; taken once it returned, "just after" it.
    taken = [*held.values(), *held_records.values()]
    when = (
        _JUST_AFTER
        if any(at > r.ended for r, at in taken)
        else _DURING
        if any(at > r.started for r, at in taken)
        else "before "
    )
    text = ""
    for cut in (False, True):  # those of a restart Ctrl-C stopped told apart, after
        if events := {e: r for e, (r, _) in held.items() if r.interrupted is cut}:
            text += _text(len(lost), events, "", when)
        if keys := {k: r for k, (r, _) in held_records.items() if r.interrupted is cut}:
            text += _text(len(records), keys, " records", when)
    return text, frozenset(held) | frozenset(held_records)


_DURING = "before or during "
_JUST_AFTER = "before, during or just after "


def _ends(restarts: Sequence[Restart], worked: Sequence[float]) -> list[float]:
    """When each restart's old process may have stopped taking events: not when its hook
    returned — gunicorn's ``kill -HUP`` returns at once, and the old worker takes events for a
    moment more (0.09 s of a 0.02 s hook in tests/gallery/deploy_drain.py) — but when the first
    event accepted since the restart began that was worked (``worked``: acceptance times, in
    order) was accepted: none before it shows a process working what it took. The hook's end
    where none was, or where that event came while the hook ran; never past the next
    restart."""
    ends = []
    for n, r in enumerate(restarts):
        i = bisect_right(worked, r.started)
        end = max(r.ended, worked[i]) if i < len(worked) else r.ended
        if n + 1 < len(restarts):
            end = min(end, restarts[n + 1].started)
        ends.append(end)
    return ends


def _held_records(
    history: History,
    accepted: dict[str, float],
    records: Collection[str],
    restarts: Sequence[Restart],
) -> dict[str, tuple[Restart, float]]:
    """Of ``records``, those whose latest event accepted before a restart's old process stopped
    (and after the one before it) got no call naming the record from then to the record's next
    acceptance (a new process's, or none): the old process never got to it. With the restart
    and when that event was accepted. The old process stopped, as ``_ends`` has it for events,
    at the first event accepted since the restart began that was worked — here, whose record
    got a call before its next event: a hook that returns at once (gunicorn's ``kill -HUP``)
    leaves the old worker taking a record's events for a moment more."""
    if not records:
        return {}
    taken: dict[str, list[float]] = {}  # each record's acceptances
    for eid, key in event_rows(history.events, "id", "key"):
        if key is not None and (at := accepted.get(eid)) is not None:
            taken.setdefault(key, []).append(at)
    calls: dict[str, list[float]] = {}  # each record's calls
    for key, at in zip(
        effect_values(history.effects, "key"), effect_values(history.effects, "at"), strict=True
    ):
        if key is not None:
            calls.setdefault(key, []).append(at)
    worked = []  # acceptances whose record got a call before its next
    for key, times in taken.items():
        times.sort()
        made = sorted(calls.get(key, ()))
        calls[key] = made
        worked += [
            at
            for at, then in zip(times, [*times[1:], math.inf], strict=True)
            if _called(made, at, then)
        ]
    ends = _ends(restarts, sorted(worked))
    held: dict[str, tuple[Restart, float]] = {}
    for key in set(records) & taken.keys():
        times, since = taken[key], -math.inf
        for restart, end in zip(restarts, ends, strict=True):
            before = bisect_right(times, end)
            if before and times[before - 1] > since:
                at = times[before - 1]
                if not _called(
                    calls.get(key, []), at, times[before] if before < len(times) else math.inf
                ):
                    held[key] = (restart, at)
                    break
            since = end
    return held


def _called(made: Sequence[float], at: float, then: float) -> bool:
    """Was a call of ``made`` (in order) made after ``at`` and before ``then``?"""
    return bisect_right(made, at) != bisect_left(made, then)


def _text(lost: int, held: dict[str, Restart], records: str, when: str) -> str:
    n = len(held)
    which = which_of(n, lost, f"these{records}", "the record" if records else "it")
    if records:
        verb = "had events accepted (2xx)"
        worked = "no call for it after" if n == 1 else "no call for them after"
    else:
        verb = f"{'was' if n == 1 else 'were'} accepted (2xx)"
        worked = "never worked"
    restarts = sorted(set(held.values()), key=lambda r: r.started)
    after = (
        " — those after it taken before any event accepted since the restart began was "
        "worked: a restart hook may return before the old process stops, as gunicorn's kill "
        "-HUP does —"
        if when is _JUST_AFTER
        else ""
    )
    if restarts[-1].interrupted:
        # The hook was killed part-way: the old process may be stopped, or half restarted, or
        # never touched — and the run ended there, seeing nothing after.
        return (
            f"; {which} {verb} {when}{_when(restarts)} and {worked} by the time the run ended: "
            "the deploy was stopped part-way, so this run cannot tell whether it lost that work — "
            "its hook may have stopped the old process with the work in memory, or left it "
            "running with the work still queued; run the deploy to its end to see"
        )
    return (
        f"; {which} {verb} {when}{_when(restarts)}{after} and {worked}: work held in memory "
        f"died with the old process — {_DRAIN}"
    )


def _when(restarts: Sequence[Restart]) -> str:
    """``the deploy restart at 2.00 s (the restart hook took 0.81 s)``, or of several; in a
    month of a year ``(due 2028-01-04 14:00; the restart hook took …)``; of one Ctrl-C
    stopped, ``(Ctrl-C stopped the restart hook after 0.05 s, and the run with it)``."""
    at = ", ".join(timestamp(r.started) for r in restarts)
    took = ", ".join(f"{r.took:.2f} s" for r in restarts)
    due = ", ".join(r.calendar for r in restarts if r.calendar)
    due = f"due {due}; " if due else ""
    which = (
        "the deploy restart"
        if len(restarts) == 1
        else f"the {plural(len(restarts), 'deploy restart')}"
    )
    hook = f"the restart hook took {took}"
    if restarts[-1].interrupted:  # the last: Ctrl-C stopped the run there
        hook = (
            f"Ctrl-C stopped the restart hook after {took}, and the run with it"
            if len(restarts) == 1
            else f"{hook}, Ctrl-C stopping the last, and the run with it"
        )
    return f"{which} at {at} ({due}{hook})"


def refused_while_restarting(
    history: History, genuine: Sequence[Delivery], refused: Sequence[Delivery]
) -> str:
    """The cause of refusals all sent while a deploy restart the run made took the endpoint
    away — from the hook's call until the target accepted a delivery again after it returned
    (Node-RED answers 404 while its flows reload, and starts them only after its deploy call
    has answered) —, or "" where one was sent outside every such gap."""
    if not refused:
        return ""
    gaps = _gaps(history, genuine)
    inside: dict[Restart, int] = {}
    for d in refused:
        gap = _gap_of(gaps, d)
        if gap is None:
            return ""
        inside[gap] = inside.get(gap, 0) + 1
    statuses = sorted({d.status for d in refused if d.status is not None})
    answered = ", ".join(map(str, statuses)) or "no answer"
    return (
        f"every one was sent while {_when(sorted(inside, key=lambda r: r.started))} took the "
        f"endpoint away (answered {answered}, from the hook's call until the target accepted "
        "again): a deploy that stops the listener refuses webhooks meanwhile — Node-RED answers "
        "404 while its flows reload — and a sender that retries no 4xx drops them; keep one "
        "instance answering through a deploy (a rolling or graceful reload: gunicorn's HUP, a "
        "load balancer draining the old one), not the path or the secret"
    )


def unanswered_while_restarting(history: History, over: Sequence[Delivery]) -> tuple[str, set[str]]:
    """``2 of them were sent while the deploy restart at … took the endpoint away: …`` and
    their ids: deliveries over the ack budget sent from a restart hook's call until the target
    accepted again after it returned — a stopping process that never answered the requests it
    held (Node-RED's reload stops its flows with requests in them), not a slow handler."""
    inside = _inside(_gaps(history, history.deliveries), over)
    if not inside:
        return "", set()
    return (
        f"{_sent_while(inside, len(over))} took the endpoint away: the stopping process never "
        "answered what it held — a graceful shutdown answers the requests it took before it "
        "exits (gunicorn's graceful_timeout; a load balancer draining the old instance), where "
        "a sender that hears nothing redelivers"
    ), set(inside)


def unreachable_while_restarting(history: History, unanswered: Sequence[Delivery]) -> str:
    """``; both of them were sent while the deploy restart at … took the endpoint away: …`` —
    of deliveries that could not connect or were reset, those sent from a restart hook's call
    until the target accepted again after it returned —, or "" for none."""
    sent, back = _away(history, unanswered)
    if not back:
        return sent
    return (
        f"{sent}: a deploy that stops the listener leaves webhooks unanswered meanwhile, and a "
        "sender that does not retry drops them; keep one instance answering through a deploy "
        "(a rolling or graceful reload: gunicorn's HUP, a load balancer draining the old one)"
    )


def erred_while_restarting(history: History, errors: Sequence[Delivery]) -> str:
    """``; all 6 of them were sent while the deploy restart at … took the endpoint away: errors
    the deploy caused …`` — of server errors (5xx, could not connect, reset), those sent from
    a restart hook's call until the target accepted again after it returned: a deploy that
    stops the process and starts it again, not a crash —, or "" for none."""
    sent, back = _away(history, errors)
    if not back:
        return sent
    return (
        f"{sent}: errors the deploy caused, not a crash — it stopped the process that answered, "
        "and until a new one took deliveries those sent could not connect or got 5xx; a "
        "zero-downtime deploy keeps one answering: a graceful reload (gunicorn's HUP starts new "
        "workers before the old ones stop), or a second instance behind the proxy taking the "
        "deliveries while the first restarts — and a sender that retries what got no 2xx brings "
        "those events again"
    )


def _away(history: History, deliveries: Sequence[Delivery]) -> tuple[str, bool]:
    """``; 2 of them were sent while the deploy restart at … took the endpoint away`` and
    whether the target accepted a delivery after each such restart's hook returned (the cause
    then told by the caller); where one accepted none, the cause said here. ("", False) where
    none of ``deliveries`` was sent while a restart took the endpoint away."""
    gaps = _gaps(history, history.deliveries)
    inside = _inside(gaps, deliveries)
    if not inside:
        return "", False
    sent = f"; {_sent_while(inside, len(deliveries))} took the endpoint away"
    if any(math.isinf(end) for r, _, end in gaps if r in inside.values()):
        if any(r.interrupted for r in inside.values()):
            return (
                f"{sent}, and the run ended there: its hook, stopped part-way, may have "
                "stopped the old process before starting a new one — the deploy's, not the "
                "automation's; whether the endpoint comes back is not seen: run the deploy to "
                "its end"
            ), False
        return (
            f"{sent}, and the target accepted nothing after it returned: the hook stopped the "
            "old process and no new one answered — check that the restart starts it again"
        ), False
    return sent, True


def _inside(
    gaps: Sequence[tuple[Restart, float, float]], deliveries: Sequence[Delivery]
) -> dict[str, Restart]:
    """Those of ``deliveries`` sent while a restart took the endpoint away (``gaps``), by id,
    with it."""
    if not gaps:
        return {}  # most runs
    return {d.id: gap for d in deliveries if (gap := _gap_of(gaps, d)) is not None}


def _sent_while(inside: dict[str, Restart], of: int) -> str:
    """``2 of them were sent while the deploy restart at 0.35 s (…)``."""
    n = len(inside)
    when = _when(sorted(set(inside.values()), key=lambda r: r.started))
    return f"{which_of(n, of, 'them')} {'was' if n == 1 else 'were'} sent while {when}"


def _gaps(history: History, deliveries: Sequence[Delivery]) -> list[tuple[Restart, float, float]]:
    """Each restart the run made with the span it took the endpoint away: from the hook's call
    until the first of ``deliveries`` sent after the hook returned that was accepted."""
    restarts = restarts_of(history)
    if not restarts:
        return []  # most runs: no delivery walked for them
    taken = sorted(d.sent_at for d in deliveries if d.outcome is Outcome.OK)
    gaps = []
    for r in restarts:
        n = bisect_right(taken, r.ended)
        gaps.append((r, r.started, taken[n] if n < len(taken) else math.inf))
    return gaps


def _gap_of(gaps: Sequence[tuple[Restart, float, float]], d: Delivery) -> Restart | None:
    return next((r for r, start, end in gaps if start <= d.sent_at < end), None)
