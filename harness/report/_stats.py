"""The figures behind the pictures, aggregated into bins.

A 100,000-delivery run becomes a few hundred numbers: the report stays small and renders in
well under a second, whatever the size of the run (benchmarks/bench_report.py). The figures are
read off the History's columns (``history.delivery_numbers``, ``effect_values``...): a loaded
run's million deliveries and effects made into objects for them were 300 MB and seconds of a
``harness check --report``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import is_
from typing import TYPE_CHECKING

from ..core._model import Outcome, Status, Verdict
from ..core._quantiles import Quantiles, quantiles
from ..history import (
    History,
    delivery_column,
    delivery_numbers,
    effect_column,
    effect_values,
    event_ids_at,
    one_event_ids,
)
from ..invariants._facts import distinct
from ..invariants._write_index import write_mask
from ..invariants.target_available import availability
from . import _describe
from ._deploys import deploys

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

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
    restarts: tuple[Window, ...] = ()  # the deploy restarts' hooks, called to returned


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
    import numpy as np

    ends = [0.001]
    if len(history.deliveries):
        answered = delivery_numbers(history.deliveries, "answered_at")
        sent = delivery_numbers(history.deliveries, "sent_at")
        # A delivery's answer, else (none, or at 0) its send.
        ended = np.where(np.isnan(answered) | (answered == 0), sent, answered)
        ends.append(float(ended.max()))
    if len(history.effects):
        ends.append(float(_reals(effect_values(history.effects, "at")).max()))
    ends.extend(f.end for f in history.faults)
    ends.extend(d.ended for d in deploys(history))
    return max(ends)


def _reals(values: Sequence[float]) -> npt.NDArray[np.float64]:
    """``values`` (a list, or a column's array of reals) as an array of reals."""
    import numpy as np

    return np.asarray(values, dtype=np.float64)


def _binned(times: npt.NDArray[np.float64], width: float, bins: int) -> npt.NDArray[np.int64]:
    """Each time's bin, as ``_bin`` tells one."""
    import numpy as np

    return np.clip(np.trunc(times / width), 0, bins - 1).astype(np.int64)


def _counted(places: npt.NDArray[np.int64], bins: int) -> list[int]:
    import numpy as np

    counted: list[int] = np.bincount(places, minlength=bins).tolist()
    return counted


def _are(values: Iterable[object], member: object, n: int) -> npt.NDArray[np.bool_]:
    """Which of ``values`` (``n``) are ``member``, told by C code."""
    import numpy as np

    return np.fromiter(map(is_, values, repeat(member)), dtype=bool, count=n)


def _bin(t: float, width: float, bins: int) -> int:
    return min(bins - 1, max(0, int(t / width)))


def _timeline(
    history: History, verdicts: Sequence[Verdict], span: float, windows: tuple[Window, ...]
) -> Timeline:
    import numpy as np

    width = span / BINS
    ds, n = history.deliveries, len(history.deliveries)
    sent = _binned(delivery_numbers(ds, "sent_at"), width, BINS)
    outcomes = list(delivery_column(ds, "outcome"))
    answered, timed_out = _are(outcomes, Outcome.OK, n), _are(outcomes, Outcome.INDETERMINATE, n)
    ok, timeouts = _counted(sent[answered], BINS), _counted(sent[timed_out], BINS)
    errors = _counted(sent[~(answered | timed_out)], BINS)
    at = _binned(_reals(effect_values(history.effects, "at")), width, BINS)
    committed = np.fromiter(effect_values(history.effects, "committed"), bool, count=len(at))
    effects, refused = _counted(at[committed], BINS), _counted(at[~committed], BINS)
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
        tuple(Window(d.started, d.ended, d.label) for d in deploys(history)),
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
    times: list[float] = []
    if effect_ids:
        effects = history.effects
        named = map(effect_ids.__contains__, effect_values(effects, "id"))
        times.extend(compress(effect_values(effects, "at"), named))
    if delivery_ids:
        deliveries = history.deliveries
        named = map(delivery_ids.__contains__, delivery_column(deliveries, "id"))
        times.extend(compress(delivery_column(deliveries, "sent_at"), named))
    return times


def _latency(history: History) -> Latency:
    import numpy as np

    ds = history.deliveries
    at, status = delivery_numbers(ds, "answered_at"), delivery_numbers(ds, "status")
    # A refused connection has a time it failed at, not an answer: it is no latency.
    got = ~(np.isnan(at) | np.isnan(status))
    answered = at[got] - delivery_numbers(ds, "sent_at")[got]
    timed_out = sum(map(is_, delivery_column(ds, "outcome"), repeat(Outcome.INDETERMINATE)))
    budget = ack_budget(history)
    low = max(float(answered.min()) if len(answered) else 1e-3, 1e-4)
    high = max(float(answered.max()) if len(answered) else 0.0, budget or 0.0, 1e-4)
    first = math.floor(math.log10(low))
    last = max(first + 2, math.ceil(math.log10(high) + 1e-9))
    edges = tuple(10 ** (first + i / _PER_DECADE) for i in range((last - first) * _PER_DECADE + 1))
    top = len(edges) - 2
    places = np.clip(np.searchsorted(edges, answered, side="right") - 1, 0, top)
    counts = _counted(places, top + 1)
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
    that made one, in no particular order."""
    sent, lags = _event_lags(history)
    return list(zip(sent.tolist(), lags.tolist(), strict=True))


def _event_lags(history: History) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``event_lags`` as two arrays: the first deliveries' send times, and the lags."""
    import numpy as np

    ds, effects = history.deliveries, history.effects
    sent = delivery_numbers(ds, "sent_at")
    first_sent = _earliest(_objects(delivery_column(ds, "event_id"), len(sent)), sent)
    at = _reals(effect_column(effects, "at"))
    one = one_event_ids(effects)
    writes, not_one = write_mask(effects), _are(one, None, len(at))
    first_effect = _earliest(_objects(one, len(at)), at, np.flatnonzero(writes & ~not_one))
    # The few writes naming several events (or none): each of their events in turn.
    several = np.flatnonzero(writes & not_one).tolist()
    for row, named in zip(several, event_ids_at(effects, several), strict=True):
        for eid in distinct(named):
            held = first_effect.get(eid)
            if held is None or at[row] < held:
                first_effect[eid] = float(at[row])
    n = len(first_effect)
    sent_first = np.fromiter(map(first_sent.get, first_effect, repeat(math.nan)), float, count=n)
    written = np.fromiter(first_effect.values(), float, count=n)
    delivered = ~np.isnan(sent_first)  # an event written but never delivered has no lag
    sent_first = sent_first[delivered]
    return sent_first, np.maximum(0.0, written[delivered] - sent_first)


def _objects(values: Iterable[object], n: int) -> npt.NDArray[np.object_]:
    import numpy as np

    return np.fromiter(values, dtype=object, count=n)


def _earliest(
    keys: npt.NDArray[np.object_],
    times: npt.NDArray[np.float64],
    rows: npt.NDArray[np.int64] | None = None,
) -> dict[str, float]:
    """Each key's earliest time (of those at ``rows``, else of all): the rows latest first
    made into a dict by C code, each key's earliest put last."""
    import numpy as np

    order = np.argsort(times if rows is None else times[rows], kind="stable")[::-1]
    latest_first = order if rows is None else rows[order]
    return dict(zip(keys[latest_first].tolist(), times[latest_first].tolist(), strict=True))


def _lag(history: History, span: float, windows: tuple[Window, ...]) -> Lag:
    import numpy as np

    sent, lags = _event_lags(history)
    bins = _binned(sent, span / LAG_BINS, LAG_BINS)
    # Each bin's lags side by side, in order: its median the lower middle one, its worst last.
    by_bin = lags[np.lexsort((lags, bins))]
    counts = np.bincount(bins, minlength=LAG_BINS)
    ends = np.cumsum(counts)
    starts = ends - counts
    typical: list[float | None] = []
    worst: list[float | None] = []
    for start, end, n in zip(starts.tolist(), ends.tolist(), counts.tolist(), strict=True):
        typical.append(float(by_bin[start + (n - 1) // 2]) if n else None)
        worst.append(float(by_bin[end - 1]) if n else None)
    return Lag(span, tuple(typical), tuple(worst), quantiles(lags), windows)
