"""ack_within: every delivery is answered within a latency budget (slow otherwise).

A delivery that timed out (indeterminate, no answer) counts as over budget; one that got no
answer because the connection failed — could not connect, or broke before an answer (reset: a
process that died holding it, a restarted worker) — is a loud failure, not a slow ack: it
carries no latency (when a reset came is not recorded), so it is left out here, counted in the
text and judged by ``target_available``, which fails on it — one failure, not counted twice.
Latencies are real seconds; a compressed run sent faster than the scenario's clock says, and
the verdict says so, with the rate actually sent (``_timing``).

The harness times the answers on its own event loop. Where that loop ran late while a delivery
was in flight (``loop-lag`` marks, engine/_lag), part of the latency may be the harness's: a
delivery over budget is blamed on the target only if it stays over after the lag is taken off,
or the lag stayed under a tenth of the budget; an app driven in-process answers on that same
loop, and the time the loop was kept busy by other work is taken off too (``_lag``). The others
are counted and said, not failed; a run whose every slow delivery is of that kind is
inconclusive.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..core._model import (
    CONNECTION_BROKE,
    Delivery,
    FailureClass,
    Outcome,
    Status,
    Verdict,
)
from ..core._quantiles import quantiles
from ..history import delivery_numbers
from ._behind_held import Behind, behind, behind_text
from ._facts import MAX_WITNESSES, Facts, Witness, millis, plural, timestamp, verdict
from ._lag import Lag
from ._restarts import unanswered_while_restarting
from ._slow_acks import Waited, pace_text, stuck_text, waits, waits_text
from ._timing import compression

if TYPE_CHECKING:  # numpy imported when a run is judged: not every command judges one
    import numpy as np
    import numpy.typing as npt

NAME = "ack_within"
CLASS = FailureClass.SLOW
DEFAULT_SECONDS = 2.0


def ack_within(facts: Facts, seconds: float = DEFAULT_SECONDS) -> Verdict:
    """Fail when any delivery took longer than ``seconds`` to be answered, or timed out."""
    deliveries = facts.history.deliveries
    if not deliveries:
        return verdict(NAME, Status.INCONCLUSIVE, CLASS, "no delivery was made; nothing to judge")
    import numpy as np

    # The answers' latencies as arrays, one implementation for a live run and a loaded one;
    # the few deliveries over budget and without an answer made into objects.
    answered = delivery_numbers(deliveries, "answered_at")
    latency = answered - delivery_numbers(deliveries, "sent_at")
    # A refused connection has the time it failed at, but no answer: no latency.
    has = ~(np.isnan(answered) | np.isnan(delivery_numbers(deliveries, "status")))
    latencies = latency[has]
    indeterminate = Outcome.INDETERMINATE
    timeouts = [
        d
        for i in np.flatnonzero(~has).tolist()
        if (d := deliveries[i]).outcome is indeterminate and not _reset(d)
    ]
    slow = [
        (float(latency[i]), deliveries[i])
        for i in np.flatnonzero(has & (latency > seconds)).tolist()
    ]
    unanswered = len(deliveries) - len(latencies) - len(timeouts)
    if not len(latencies) and not timeouts:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"none of the {plural(len(deliveries), 'delivery', 'deliveries')} got an answer "
            "(connections failed); latency cannot be judged; target_available judges that",
        )
    figures = _percentiles(latencies)
    if unanswered:
        figures += f"; {_no_answer_text(deliveries, has, unanswered)}"
    budget = _budget(seconds)
    lag = Lag(facts.history)
    slow_kept = [(latency, d) for latency, d in slow if lag.blames_target(d, latency, seconds)]
    timeouts_kept = [d for d in timeouts if lag.blames_target(d, None, seconds)]
    doubted = len(slow) - len(slow_kept) + len(timeouts) - len(timeouts_kept)
    slow, timeouts = slow_kept, timeouts_kept
    over = len(slow) + len(timeouts)
    compressed = compression(facts.history)
    if doubted:
        figures += (
            f"; {plural(doubted, 'more delivery', 'more deliveries')} over the budget not "
            f"counted: {_why_doubted(lag)}"
        )
    if not over and doubted:
        return verdict(
            NAME,
            Status.INCONCLUSIVE,
            CLASS,
            f"no delivery shown slow: {figures}" + (f"; {compressed}" if compressed else ""),
        )
    if not over:
        return verdict(
            NAME,
            Status.PASS,
            CLASS,
            f"all {plural(len(latencies), 'answered delivery', 'answered deliveries')} came back "
            f"within {budget}; {figures}" + (f"; {compressed}" if compressed else ""),
        )
    judged = len(latencies) + len(timeouts)
    summary = (
        f"{over:,} of {plural(judged, 'delivery', 'deliveries')} over the {budget} budget "
        f"({plural(len(slow), 'slow answer')}, {len(timeouts):,} timed out); {figures}"
    )
    # Why they were late, where the journal shows it: a downstream's fault the answers waited
    # on (the same at any time scale), or, compressed, a backlog the pace built (_slow_acks).
    overs = [*timeouts, *(d for _, d in slow)]
    waited = waits(facts, overs, seconds)
    queued = behind(facts, overs, waited, seconds)
    if compressed:
        summary += f"; {compressed}"
    if found := waits_text(waited, bool(compressed)):
        summary += f"; {found}"
    if found := behind_text(queued):
        summary += f"; {found}"
    if lag.blocked:
        summary += f"; {_blocked_text(lag.blocked)}"
    rest = [d for d in overs if d.id not in waited and d.id not in queued]
    restarting, held = unanswered_while_restarting(facts.history, rest)
    if restarting:
        summary += f"; {restarting}"
        rest = [d for d in rest if d.id not in held]
    clean = facts.history.baseline.effects if facts.history.baseline is not None else ()
    if stuck := stuck_text(deliveries, facts.effects_in_order, rest, clean, facts.history):
        summary += f"; {stuck}"
    elif compressed and (pace := pace_text(deliveries, rest, facts.history)):
        summary += f"; {pace}"
    witnesses = _witnesses(facts, timeouts, slow, seconds, waited, queued)
    return verdict(NAME, Status.FAIL, CLASS, summary, witnesses)


def _why_doubted(lag: Lag) -> str:
    """Why some slow deliveries were not blamed on the target: the largest of the harness's
    excuses."""
    if lag.starved >= max(lag.busiest, lag.worst):
        return (
            f"the target's process waited up to {millis(lag.starved)} for a CPU during one's "
            "flight, given to other work on the machine, so their time is not the target's own "
            "(a busy machine: rerun on a quieter one, or with fewer runs at once)"
        )
    if lag.busiest > lag.worst:  # busy time is taken off in-process flights only
        return (
            f"the event loop the harness shares with the in-process app was busy for up to "
            f"{millis(lag.busiest)} of one's flight (the harness, the double, the app's other "
            "requests, or a machine that gave it no CPU), so their time is not the app's alone "
            "(drive the app as a process of its own, at its URL, to judge its latency)"
        )
    return (
        f"the harness's own event loop ran up to {millis(lag.worst)} late while they were in "
        "flight, so part of their time may be the harness's (a busy machine: rerun on a quieter "
        "one, or with fewer runs at once)"
    )


def _blocked_text(blocked: float) -> str:
    return (
        f"the event loop the in-process app shares with the harness stood still for up to "
        f"{millis(blocked)} while they were in flight, its thread neither running nor waiting "
        "for a CPU: held by a call made on it — a blocking call in an async handler (requests, "
        "urllib, a synchronous SDK, time.sleep) holds every request behind it; move it to "
        "`await asyncio.to_thread(...)` or use an async client"
    )


def _budget(limit: float) -> str:
    return f"{limit:g} s"


def _percentiles(latencies: npt.NDArray[np.float64]) -> str:
    """p50/p95/p99/max of answered deliveries (nearest rank)."""
    q = quantiles(latencies)
    if not (q.p50 is not None and q.p95 is not None and q.p99 is not None and q.max is not None):
        return "no delivery was answered"
    return (
        f"latency p50 {millis(q.p50)}, p95 {millis(q.p95)}, p99 {millis(q.p99)}, "
        f"max {millis(q.max)}"
    )


def _witnesses(
    facts: Facts,
    timeouts: Sequence[Delivery],
    slow: list[tuple[float, Delivery]],
    limit: float,
    waited: dict[str, Waited],
    queued: dict[str, Behind],
) -> list[Witness]:
    """Timeouts first (the worst: the sender does not know), then the slowest answers."""
    events = facts.events_by_id
    out = []

    def about(d: Delivery) -> str:
        event = events.get(d.event_id)
        record = f", record {event.key}, seq {event.seq}" if event else ""
        return f"delivery {d.id} (event {d.event_id}{record}, attempt {d.attempt})"

    for d in timeouts[:MAX_WITNESSES]:
        error = f"; error: {d.error}" if d.error else ""
        line = f"{about(d)} timed out with no answer (sent at {timestamp(d.sent_at)}{error})"
        out.append(_witness(line, d, waited.get(d.id) or queued.get(d.id)))
    for latency, d in heapq.nlargest(MAX_WITNESSES, slow, key=_latency):
        line = (
            f"{about(d)} was answered {d.status} after {millis(latency)}, over the "
            f"{millis(limit)} budget"
        )
        out.append(_witness(line, d, waited.get(d.id) or queued.get(d.id)))
    return out


def _witness(line: str, d: Delivery, why: Waited | Behind | None) -> Witness:
    """A late delivery's witness, with the calls a fault answered while it waited (its own, or
    those of the delivery it queued behind)."""
    if why is None:
        return Witness(line, (d.event_id,), (d.id,))
    if isinstance(why, Behind):
        call = why.waited.calls[0]
        return Witness(line + why.witness(), (d.event_id,), (d.id, why.ahead.id), (call.id,))
    calls = tuple(e.id for e in why.calls)
    return Witness(line + why.witness(), (d.event_id,), (d.id,), calls)


def _latency(item: tuple[float, Delivery]) -> float:
    return item[0]


def _reset(d: Delivery) -> bool:
    """Did ``d`` end on a connection broken before an answer, rather than the wait running out?
    Not a slow ack: no answer came at all, and when the connection broke is not recorded."""
    return bool(d.error and d.error.startswith(CONNECTION_BROKE))


def _no_answer_text(
    deliveries: Sequence[Delivery], has: npt.NDArray[np.bool_], unanswered: int
) -> str:
    """``3 got no answer, judged by target_available (2 reset: …)``."""
    import numpy as np

    resets = sum(_reset(deliveries[i]) for i in np.flatnonzero(~has).tolist())
    said = f"{unanswered:,} got no answer, judged by target_available"
    if not resets:
        return said
    return f"{said} ({resets:,} reset: broken before any answer, no ack to time)"
