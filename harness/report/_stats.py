"""The figures behind the pictures, aggregated into bins.

A 100,000-delivery run becomes a few hundred numbers: the report stays small and renders in
well under a second, whatever the size of the run (benchmarks/bench_report.py).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from ..core._model import Outcome, Status, Verdict
from ..core._quantiles import Quantiles, quantiles
from ..history import History
from ..invariants._facts import distinct, is_write
from ..invariants.target_available import availability
from . import _describe

BINS = 96  # timeline columns: about 7 px each at desktop width
LAG_BINS = 48
DEFAULT_ACK_BUDGET = 2.0  # ack_within's default, used when a run declared no invariants
_PER_DECADE = 4


@dataclass(frozen=True, slots=True)
class Window:
    """A fault window, shaded on the charts."""

    start: float
    end: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """Deliveries (by send time) and effects (by time) per bin; ``marks``: failure witnesses;
    ``unavailable``: when the target did not answer (``target_available``'s outages)."""

    span: float
    width: float
    ok: tuple[int, ...]
    errors: tuple[int, ...]
    timeouts: tuple[int, ...]
    effects: tuple[int, ...]
    refused: tuple[int, ...]
    marks: tuple[int, ...]
    windows: tuple[Window, ...]
    unavailable: tuple[Window, ...] = ()


@dataclass(frozen=True, slots=True)
class Latency:
    """Ack latency histogram on log-spaced bins (``edges`` in seconds), plus timeouts."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]
    timed_out: int
    budget: float | None
    figures: Quantiles


@dataclass(frozen=True, slots=True)
class Lag:
    """Seconds from an event's first delivery to its first effect, by first-delivery time."""

    span: float
    typical: tuple[float | None, ...]  # median per bin
    worst: tuple[float | None, ...]
    figures: Quantiles
    windows: tuple[Window, ...]


@dataclass(frozen=True, slots=True)
class Pictures:
    timeline: Timeline
    latency: Latency
    lag: Lag


def pictures(history: History, verdicts: Sequence[Verdict]) -> Pictures:
    span = _span(history)
    windows = tuple(
        Window(f.start, f.end, _describe.fault(f)) for f in sorted(history.faults, key=_start)
    )
    return Pictures(
        _timeline(history, verdicts, span, windows),
        _latency(history),
        _lag(history, span, windows),
    )


def _start(f: object) -> float:
    return float(getattr(f, "start", 0.0))


def _span(history: History) -> float:
    """The run's length on the charts: the last thing that happened (at least 1 ms)."""
    ends = [0.001]
    ends.extend(d.answered_at or d.sent_at for d in history.deliveries)
    ends.extend(e.at for e in history.effects)
    ends.extend(f.end for f in history.faults)
    return max(ends)


def _bin(t: float, width: float, bins: int) -> int:
    return min(bins - 1, max(0, int(t / width)))


def _timeline(
    history: History, verdicts: Sequence[Verdict], span: float, windows: tuple[Window, ...]
) -> Timeline:
    width = span / BINS
    last = BINS - 1
    ok, errors, timeouts = [0] * BINS, [0] * BINS, [0] * BINS
    by_outcome = {Outcome.OK: ok, Outcome.INDETERMINATE: timeouts}
    for d in history.deliveries:  # _bin inlined: this loop runs once per delivery
        i = int(d.sent_at / width)
        by_outcome.get(d.outcome, errors)[0 if i < 0 else i if i < last else last] += 1
    effects, refused = [0] * BINS, [0] * BINS
    for e in history.effects:
        i = int(e.at / width)
        (effects if e.committed else refused)[0 if i < 0 else i if i < last else last] += 1
    marks = [0] * BINS
    for t in witness_times(history, verdicts):
        marks[_bin(t, width, BINS)] += 1
    return Timeline(
        span,
        width,
        tuple(ok),
        tuple(errors),
        tuple(timeouts),
        tuple(effects),
        tuple(refused),
        tuple(marks),
        windows,
        unavailable_windows(history, span),
    )


def unavailable_windows(history: History, span: float) -> tuple[Window, ...]:
    """From the first delivery the target did not answer to the next one it answered (or the
    end of the run, when it answered none after)."""
    out = []
    for outage in availability(history).outages:
        n = len(outage.deliveries)
        got = f"{n:,} deliver{'y' if n == 1 else 'ies'} got no answer"
        if outage.until is None:
            label = f"the target stopped answering at {outage.start:.2f} s: {got} from then on"
            out.append(Window(outage.start, span, label))
        else:
            label = f"the target did not answer from {outage.start:.2f} s: {got}"
            out.append(Window(outage.start, outage.until, label))
    return tuple(out)


def witness_times(history: History, verdicts: Sequence[Verdict]) -> list[float]:
    """When the failing verdicts' witnesses happened: their effects, else their deliveries."""
    effect_ids: set[str] = set()
    delivery_ids: set[str] = set()
    for v in verdicts:
        if v.status is Status.FAIL:
            effect_ids.update(v.evidence.effect_ids)
            delivery_ids.update(v.evidence.delivery_ids)
    times = [e.at for e in history.effects if e.id in effect_ids] if effect_ids else []
    if delivery_ids:
        times.extend(d.sent_at for d in history.deliveries if d.id in delivery_ids)
    return times


def _latency(history: History) -> Latency:
    # A refused connection has a time it failed at, not an answer: it is no latency.
    answered = [
        d.answered_at - d.sent_at
        for d in history.deliveries
        if d.answered_at is not None and d.status is not None
    ]
    timed_out = sum(1 for d in history.deliveries if d.outcome is Outcome.INDETERMINATE)
    budget = ack_budget(history)
    low = max(min(answered, default=1e-3), 1e-4)
    high = max(max(answered, default=0.0), budget or 0.0, 1e-4)
    first = math.floor(math.log10(low))
    last = max(first + 2, math.ceil(math.log10(high) + 1e-9))
    edges = tuple(10 ** (first + i / _PER_DECADE) for i in range((last - first) * _PER_DECADE + 1))
    counts = [0] * (len(edges) - 1)
    top = len(counts) - 1
    for x in answered:
        counts[min(top, max(0, bisect_right(edges, x) - 1))] += 1
    return Latency(edges, tuple(counts), timed_out, budget, quantiles(answered))


def ack_budget(history: History) -> float | None:
    """The ``ack_within`` budget the run was judged against, if it was."""
    specs = history.info.invariants
    if not specs:
        return DEFAULT_ACK_BUDGET
    for spec in specs:
        if spec.name == "ack_within":
            return float(spec.params.get("seconds", DEFAULT_ACK_BUDGET))
    return None


def event_lags(history: History) -> list[tuple[float, float]]:
    """(first delivery's send time, seconds from it to the event's first write) per event
    that made one."""
    first_sent: dict[str, float] = {}
    for d in history.deliveries:
        held = first_sent.get(d.event_id)
        if held is None or d.sent_at < held:
            first_sent[d.event_id] = d.sent_at
    first_effect: dict[str, float] = {}
    for e in history.effects:
        if not is_write(e):
            continue
        for eid in distinct(e.event_ids):
            held = first_effect.get(eid)
            if held is None or e.at < held:
                first_effect[eid] = e.at
    return [
        (first_sent[eid], max(0.0, at - first_sent[eid]))
        for eid, at in first_effect.items()
        if eid in first_sent
    ]


def _lag(history: History, span: float, windows: tuple[Window, ...]) -> Lag:
    width = span / LAG_BINS
    per_bin: list[list[float]] = [[] for _ in range(LAG_BINS)]
    lags = []
    for sent, lag in event_lags(history):
        lags.append(lag)
        per_bin[_bin(sent, width, LAG_BINS)].append(lag)
    typical: list[float | None] = []
    worst: list[float | None] = []
    for values in per_bin:
        values.sort()
        typical.append(values[(len(values) - 1) // 2] if values else None)
        worst.append(values[-1] if values else None)
    return Lag(span, tuple(typical), tuple(worst), quantiles(lags), windows)
