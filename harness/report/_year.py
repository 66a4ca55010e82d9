"""The year of month runs: per-month figures, the trends over them, and the plain-words answer
to "if this runs twelve months with nobody watching, what breaks?".

A month run is one whose ``RunInfo.settings["calendar"]`` holds ``month`` and ``index``
(docs/year.md). Everything here is a pure function of the judged runs: histories (deliveries,
effects, ``sample`` marks) and verdicts.
"""

from __future__ import annotations

import calendar
import json
import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ..core._model import NO_ANSWER_WITHIN, SAMPLE_MARK, Delivery, Outcome, Status, Verdict
from ..core._providers import PROVIDERS
from ..core._quantiles import Quantiles, quantiles
from ..core._scenario import Skipped
from ..history import History
from ..invariants._lag import waited
from ..invariants._timing import repeat_spans, seconds
from . import _describe
from ._stats import event_lags
from ._trends import MonthSpan, Trend, latency_trend, memory_trend

YEAR_MONTHS = 12
# Latency points per month (each the p95 of a run of consecutive deliveries), and the least
# deliveries one point is made of.
POINTS_PER_MONTH = 10
MIN_PER_POINT = 5
_COUNT = re.compile(r"^([\d,]+) of ")
# no_lost_events' refused events its sender never brings back, after its own count
# (``invariants._deferred.MORE_LOST``).
_MORE_LOST = re.compile(r"; and ([\d,]+) more lost: ")
_LATE = re.compile(r"([\d,]+) only after the deadline")
# recovers_after_outage's events refused during a window, never accepted, that the sender never
# redelivers (its ``_lost_verdict`` leads with them; a failure of the accepted ones adds them).
_REFUSED_LOST = re.compile(
    r"([\d,]+) events? refused during (?:a|the|[\d,]+) fault windows? (?:was|were) never accepted"
)
LOST = ("no_lost_events", "recovers_after_outage")
DUPLICATED = "no_duplicate_effects"


@dataclass(frozen=True, slots=True)
class LifeMark:
    """A life event of a month as the calendar block names it; ``skipped``: why it was not
    applied, when it was not."""

    kind: str
    on: str
    title: str
    skipped: str = ""


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """One month run's figures. Rates are per delivery; latencies and lags in real seconds."""

    index: int
    month: str  # 2028-03
    name: str  # March 2028
    days: int
    run_id: str
    status: str
    events: int
    deliveries: int
    accepted: int
    ack: Quantiles
    lag: Quantiles
    errors: int  # 5xx, other statuses, timeouts, resets, refused connections
    refusals: int  # 4xx to genuine deliveries
    lost: int
    duplicated: int
    late: int
    downstream_errors: int  # the downstreams' answers >= 400 to the target
    memory_mb: float | None  # the peak of the month's samples
    samples: int
    life: tuple[LifeMark, ...]
    failed: tuple[str, ...]  # invariants
    inconclusive: tuple[str, ...]
    # An event's deliveries at most this far apart, in real and in the year's seconds
    # (``_timing.repeat_spans``): what a dedup's memory was put to.
    repeats: tuple[float, float] | None = None
    in_force: tuple[LifeMark, ...] = ()  # earlier months' lasting life events, still applied

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.deliveries if self.deliveries else None

    @property
    def refusal_rate(self) -> float | None:
        return self.refusals / self.deliveries if self.deliveries else None

    @property
    def passed(self) -> bool:
        return not self.failed and self.status == "complete"


@dataclass(frozen=True, slots=True)
class Broke:
    """One month something broke in: what, why (its life events, or a trend), what it cost."""

    index: int
    month: str
    name: str
    what: str
    why: str  # "": no life event that month and no trend: the month's verdicts tell
    cost: str
    projected: bool = False  # a trend's projection, not a failure measured in a run
    # ``why`` names a trend that explains it; else only the month's life events, beside which
    # it broke: nothing ties the failure to one of them (DST, or two events of a record at once).
    explained: bool = True


@dataclass(frozen=True, slots=True)
class YearView:
    """The year section of a report."""

    survived: bool
    answer: str
    broke: tuple[Broke, ...]
    untested: tuple[str, ...]
    months: tuple[MonthFigures, ...]
    trends: tuple[Trend, ...]
    limit: float | None
    limit_name: str

    @property
    def findings(self) -> tuple[Trend, ...]:
        return tuple(t for t in self.trends if t.status == "finding")


def calendar_of(history: History) -> Mapping[str, Any] | None:
    """The month run's calendar block, or None for any other run."""
    block = history.info.settings.get("calendar")
    if isinstance(block, Mapping) and "month" in block and "index" in block:
        return block
    return None


def year(
    runs: Sequence[tuple[History, Sequence[Verdict]]], skipped: Sequence[Skipped] = ()
) -> YearView | None:
    """The year of the month runs among ``runs`` (by month index; a month run twice: its last
    run), None when there is none."""
    by_index: dict[int, tuple[History, Sequence[Verdict]]] = {}
    for h, v in runs:
        block = calendar_of(h)
        if block is not None:
            by_index[int(block["index"])] = (h, v)
    if not by_index:
        return None
    ordered = [by_index[i] for i in sorted(by_index)]
    months = tuple(figures(h, v) for h, v in ordered)
    limit, limit_name = ack_limit(ordered[0][0])
    spans, offsets = _spans(ordered, months)
    points, p95 = _latency_points(ordered, offsets, limit)
    observed = [MonthSpan(s.index, s.label, s.end_events, p95.get(s.index)) for s in spans]
    trends = (
        latency_trend(points, observed, *_lim(limit, limit_name)),
        memory_trend(_memory_points(ordered, offsets), _memory_spans(spans, months)),
    )
    broke = _broke(months, trends)
    untested = _untested(months, trends, spans, skipped)
    answer = _answer(broke, untested, months, limit_name)
    memory = trends[1]
    if memory.status == "finding":
        answer += f" Watch its memory: {memory.text}."
    return YearView(
        survived=not broke,
        answer=answer,
        broke=broke,
        untested=untested,
        months=months,
        trends=trends,
        limit=limit,
        limit_name=limit_name,
    )


def _lim(limit: float | None, name: str) -> tuple[float, str]:
    return (float("inf"), "no ack timeout") if limit is None else (limit, name)


def figures(history: History, verdicts: Sequence[Verdict]) -> MonthFigures:
    """One month run's figures."""
    block = calendar_of(history) or {}
    month = str(block.get("month", ""))
    tampered = history.info.settings.get("tampered") or {}
    genuine = [d for d in history.deliveries if d.id not in tampered]
    censor = _attempt_timeout(history)
    acks = [ack for d in history.deliveries if (ack := _ack_seconds(d, censor)) is not None]
    samples = memory_samples(history)
    return MonthFigures(
        index=int(block.get("index", 0)),
        month=month,
        name=month_name(month),
        days=int(block.get("days", 0) or 0),
        run_id=history.info.run_id,
        status=history.status,
        events=len(history.events),
        deliveries=len(history.deliveries),
        accepted=len({d.event_id for d in genuine if d.outcome is Outcome.OK}),
        ack=quantiles(acks),
        lag=quantiles(lag for _, lag in event_lags(history)),
        errors=sum(1 for d in history.deliveries if d.outcome in _ERRORS),
        refusals=sum(1 for d in genuine if d.outcome is Outcome.REJECTED),
        lost=_lost(verdicts),
        duplicated=sum(_count(v) for v in verdicts if v.invariant == DUPLICATED and _failed(v)),
        late=_late(history, verdicts),
        downstream_errors=sum(1 for e in history.effects if e.status >= 400),
        memory_mb=max((mb for _, mb in samples), default=None),
        samples=len(samples),
        life=tuple(_life(block.get("life"))),
        failed=tuple(dict.fromkeys(v.invariant for v in verdicts if _failed(v))),
        inconclusive=tuple(
            dict.fromkeys(v.invariant for v in verdicts if v.status is Status.INCONCLUSIVE)
        ),
        repeats=repeat_spans(history),
        in_force=tuple(_life(block.get("in_force"))),
    )


_ERRORS = frozenset({Outcome.FAILED, Outcome.INDETERMINATE})


def _failed(v: Verdict) -> bool:
    return v.status is Status.FAIL


def _count(v: Verdict) -> int:
    """How many events a failed verdict counts: its summary's leading ``N of``, else the
    events its evidence names (at most its witnesses: a lower bound)."""
    found = _COUNT.match(v.summary)
    return _number(found) if found else len(set(v.evidence.event_ids))


def _lost(verdicts: Sequence[Verdict]) -> int:
    """Events lost: no_lost_events's count, else the accepted events the outage's verdict
    found never recovered (its leading ``N of``, less the late); and the events it found
    refused and never redelivered, which no_lost_events never counts (never accepted)."""
    failed = {v.invariant: v for v in verdicts if v.invariant in LOST and _failed(v)}
    lost, outage = (failed.get(name) for name in LOST)
    refused = _number(_REFUSED_LOST.search(outage.summary)) if outage is not None else 0
    if lost is not None:
        return _count(lost) + _number(_MORE_LOST.search(lost.summary)) + refused
    if outage is None:
        return 0
    accepted = _COUNT.match(outage.summary)
    never = _number(accepted) - _number(_LATE.search(outage.summary)) if accepted else 0
    return never + refused


def _number(found: re.Match[str] | None) -> int:
    """The number a match of ``_COUNT``, ``_LATE``, ``_MORE_LOST`` or ``_REFUSED_LOST`` holds; 0
    for none."""
    return int(found.group(1).replace(",", "")) if found else 0


def _late(history: History, verdicts: Sequence[Verdict]) -> int:
    """Events whose effects came only after the outage's deadline, or after the run's final
    state was taken (its late effects)."""
    late: set[str] = {eid for e in history.late_effects for eid in e.event_ids}
    made = {eid for e in history.effects for eid in e.event_ids}
    count = len(late - made)
    for v in verdicts:
        if v.invariant == LOST[1] and _failed(v):
            count += _number(_LATE.search(v.summary))
    return count


def _life(raw: object) -> list[LifeMark]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return []
    return [
        LifeMark(
            str(item.get("kind", "")),
            str(item.get("on", "")),
            str(item.get("title") or item.get("kind", "")),
            str(item.get("skipped") or ""),
        )
        for item in raw
        if isinstance(item, Mapping)
    ]


def memory_samples(history: History) -> list[tuple[float, float]]:
    """(run time, MB) of each ``sample`` mark that holds ``rss_bytes``."""
    out = []
    for m in history.marks:
        if m.name != SAMPLE_MARK:
            continue
        try:
            rss = json.loads(m.detail).get("rss_bytes")
        except (ValueError, AttributeError):
            continue
        if isinstance(rss, int | float) and not isinstance(rss, bool):
            out.append((m.at, rss / 1e6))
    return out


def month_name(month: str) -> str:
    """``March 2028`` for ``2028-03`` (as given when it is not a month)."""
    try:
        y, m = (int(p) for p in month.split("-"))
        return f"{calendar.month_name[m]} {y}"
    except (ValueError, IndexError):
        return month


def ack_limit(history: History) -> tuple[float | None, str]:
    """The ack timeout the trend is held against: the provider's (``Shopify's 5 s ack
    timeout``), else the run's delivery timeout."""
    settings = history.info.settings
    name, ack = settings.get("provider"), settings.get("ack_timeout")
    if isinstance(ack, int | float) and ack > 0:
        known = PROVIDERS.get(str(name))
        title = known.title if known is not None else str(name)
        return float(ack), f"{title}'s {_describe.duration(ack)} ack timeout"
    timeout = settings.get("timeout")
    if isinstance(timeout, int | float) and timeout > 0:
        return float(timeout), f"the run's {_describe.duration(timeout)} delivery timeout"
    return None, "no ack timeout"


def _spans(
    ordered: Sequence[tuple[History, Sequence[Verdict]]], months: Sequence[MonthFigures]
) -> tuple[list[MonthSpan], dict[int, float]]:
    """Each month of the year (1 .. 12, or the last run one) with the events seen by its end:
    as run, or at the run months' volume per day for the months not run; and how many events
    the target had seen when each run month began."""
    run = {m.index: m for m in months}
    days = sum(m.days for m in months)
    per_day = sum(m.events for m in months) / days if days else 0.0
    first = months[0]
    start = _month_start(first.month, first.index)
    seen, spans, offsets = 0.0, [], {}
    for index in range(1, max(YEAR_MONTHS, months[-1].index) + 1):
        label, length = _month_at(start, index)
        if index in run:
            offsets[index] = seen
            seen += run[index].events
        else:
            seen += per_day * length
        spans.append(MonthSpan(index, label, seen))
    return spans, offsets


def _month_start(month: str, index: int) -> date | None:
    """The first day of month 1, from a run month's ``2028-03`` and index 3."""
    try:
        y, m = (int(p) for p in month.split("-"))
    except ValueError:
        return None
    n = y * 12 + (m - 1) - (index - 1)
    return date(n // 12, n % 12 + 1, 1)


def _month_at(start: date | None, index: int) -> tuple[str, int]:
    if start is None:
        return f"month {index}", 30
    n = start.year * 12 + start.month - 1 + index - 1
    y, m = n // 12, n % 12 + 1
    return f"{y:04d}-{m:02d}", calendar.monthrange(y, m)[1]


def _memory_spans(spans: Sequence[MonthSpan], months: Sequence[MonthFigures]) -> list[MonthSpan]:
    mb = {m.index: m.memory_mb for m in months}
    return [MonthSpan(s.index, s.label, s.end_events, mb.get(s.index)) for s in spans]


def _latency_points(
    ordered: Sequence[tuple[History, Sequence[Verdict]]],
    offsets: Mapping[int, float],
    limit: float | None,
) -> tuple[list[tuple[float, float]], dict[int, float]]:
    """(events the target had seen, p95 ack latency) of runs of consecutive deliveries, up to
    POINTS_PER_MONTH a month, and each month's p95; a delivery that timed out counts as the
    wait its error names (the target was at least that slow: ``no answer within 15 s``, else the
    run's timeout), one that failed to connect not at all."""
    points: list[tuple[float, float]] = []
    p95s: dict[int, float] = {}
    for h, _ in ordered:
        index = int((calendar_of(h) or {})["index"])
        censor = _attempt_timeout(h) or limit
        seen: set[str] = set()
        pairs = []
        for d in sorted(h.deliveries, key=lambda d: d.sent_at):
            seen.add(d.event_id)
            if (ack := _ack_seconds(d, censor)) is not None:
                pairs.append((offsets[index] + len(seen), ack))
        if not pairs:
            continue
        whole = quantiles(y for _, y in pairs).p95
        assert whole is not None
        p95s[index] = whole
        k = max(1, min(POINTS_PER_MONTH, len(pairs) // MIN_PER_POINT))
        for i in range(k):
            chunk = pairs[i * len(pairs) // k : (i + 1) * len(pairs) // k]
            p95 = quantiles(y for _, y in chunk).p95
            assert p95 is not None
            points.append((sum(x for x, _ in chunk) / len(chunk), p95))
    return points, p95s


def _ack_seconds(d: Delivery, censor: float | None) -> float | None:
    """How long ``d`` took to be answered; for one that timed out, the wait its error names
    (else ``censor``, the run's timeout): the target was at least that slow, and leaving it out
    would hide the worst. None for a connection that failed: no latency."""
    if d.answered_at is not None and d.status is not None:
        return d.answered_at - d.sent_at
    if (d.error or "").startswith(NO_ANSWER_WITHIN):
        return waited(d) or censor
    return None


def _attempt_timeout(h: History) -> float | None:
    s = h.info.settings
    for key in ("ack_timeout", "timeout"):
        value = s.get(key)
        if isinstance(value, int | float) and value > 0:
            return float(value)
    return None


def _memory_points(
    ordered: Sequence[tuple[History, Sequence[Verdict]]], offsets: Mapping[int, float]
) -> list[tuple[float, float]]:
    """(events the target had seen when sampled, MB) of every sample."""
    points = []
    for h, _ in ordered:
        index = int((calendar_of(h) or {})["index"])
        firsts = sorted({d.event_id: d.sent_at for d in reversed(h.deliveries)}.values())
        for at, mb in memory_samples(h):
            points.append((offsets[index] + bisect_right(firsts, at), mb))
    return points


def cost(m: MonthFigures) -> str:
    """``12 events lost, 3 duplicated, none late``."""
    parts = [
        f"{m.lost:,} event{'s' if m.lost != 1 else ''} lost" if m.lost else "none lost",
        f"{m.duplicated:,} duplicated" if m.duplicated else "none duplicated",
        f"{m.late:,} late" if m.late else "none late",
    ]
    return ", ".join(parts)


def _broke(months: Sequence[MonthFigures], trends: Sequence[Trend]) -> tuple[Broke, ...]:
    out: dict[int, Broke] = {}
    # Memory has no limit to cross: its finding is told beside the answer, never a break.
    findings = [
        t
        for t in trends
        if t.status == "finding" and t.month is not None and t.measure == "ack latency"
    ]
    for m in months:
        if m.passed:
            continue
        what = _describe.join_words([_describe.failure(i) for i in m.failed])
        if m.status != "complete":
            what = _describe.join_words([w for w in (what, "the run was interrupted") if w])
        mine = [t.text for t in findings if t.month == m.index]
        why = "; ".join([*(_life_text(x) for x in m.life if not x.skipped), *_held(m), *mine])
        out[m.index] = Broke(m.index, m.month, m.name, what, why, cost(m), explained=bool(mine))
    for t in findings:
        assert t.month is not None
        if t.month in out:
            continue
        label = t.month_label or f"month {t.month}"
        what = f"acks too slow for {t.limit_name}"
        out[t.month] = Broke(
            t.month,
            label,
            month_name(label),
            what + ("" if t.observed_crossing else " (projected)"),
            t.text,
            ACK_COST,
            projected=not t.observed_crossing,
        )
    return tuple(out[i] for i in sorted(out))


ACK_COST = (
    "from then on the sender gives deliveries up unanswered and retries them: duplicates "
    "while it retries, losses once its retries run out"
)


# The lasting life events that act on what each check judges: one in force since an earlier
# month is named beside a failure of that check (a rate limit tightened in May, met by
# November's peak), the others are not.
ACTS_ON: Mapping[str, frozenset[str]] = {
    "backs_off": frozenset({"rate-limit"}),
    "recovers_after_outage": frozenset({"rate-limit"}),
    "no_duplicate_effects": frozenset({"duplicates", "rate-limit"}),
    "accepts_genuine": frozenset({"secret-rotation", "clock-skew"}),
    "drift_is_loud": frozenset({"field-added", "enum-value-added"}),
    "no_lost_events": frozenset(
        "rate-limit token-expiry api-key-rotation secret-rotation pagination api-version "
        "id-growth enum-value-added clock-skew".split()
    ),
}


def _held(m: MonthFigures) -> list[str]:
    """The lasting life events in force since an earlier month that act on what failed."""
    kinds = frozenset().union(*(ACTS_ON.get(i, frozenset()) for i in m.failed))
    return [f"{x.title} (since {x.on})" for x in m.in_force if x.kind in kinds]


def _life_text(x: LifeMark) -> str:
    return f"{x.title} on {x.on}" if x.on else x.title


def _untested(
    months: Sequence[MonthFigures],
    trends: Sequence[Trend],
    spans: Sequence[MonthSpan],
    skipped: Sequence[Skipped],
) -> tuple[str, ...]:
    out = []
    run = {m.index for m in months}
    missing = [s for s in spans if s.index not in run]
    if missing:
        out.append(
            f"{len(missing)} of {len(spans)} months were not run ("
            + _describe.join_words([s.label for s in missing])
            + "): their figures are projections"
        )
    for m in months:
        for x in m.life:
            if x.skipped:
                out.append(f"{x.title} ({m.name}) was not applied: {x.skipped}")
        if m.inconclusive:
            names = _describe.join_words([_describe.title(i).lower() for i in m.inconclusive])
            out.append(f"{m.name}: {names} could not be judged (the verdicts say why)")
    for t in trends:
        if t.status == "inconclusive":
            out.append(t.text)
    out.extend(f"{s.name}: {s.reason}" for s in skipped)
    out.extend(_dedup_memory(months))
    return tuple(out)


def _dedup_memory(months: Sequence[MonthFigures]) -> list[str]:
    """What a compressed year cannot show of a dedup that forgets by time: an event's copies
    came seconds apart, though hours or days apart on the year's clock — unless a month
    already failed on a repeat."""
    spans = [m.repeats for m in months if m.repeats is not None]
    if not spans or any(DUPLICATED in m.failed for m in months):
        return []
    real = max(r for r, _ in spans)
    then = max(t for _, t in spans)
    return [
        "a dedup that forgets the events it handled sooner than their sender redelivers — a "
        f"cache with a time to live — was not put to the test: an event's copies came at most "
        f"{seconds(real)} apart in real time ({_describe.duration(then)} on the year's clock; "
        "the months are compressed); keep each event's id as long as its sender redelivers "
        "(docs/providers.md)"
    ]


def _answer(
    broke: Sequence[Broke],
    untested: Sequence[str],
    months: Sequence[MonthFigures],
    limit_name: str,
) -> str:
    n = len(months)
    ran = f"{n} month{'s' if n != 1 else ''}"
    if not broke:
        text = (
            f"It survived the {ran} it ran: no check failed, and no trend crosses {limit_name} "
            "within the year"
        )
        if untested:
            text += f" — but {len(untested)} thing{'s' if len(untested) != 1 else ''} "
            text += "could not be tested (below)"
        return text + "."
    first = broke[0]
    text = f"It breaks in month {first.index} ({first.name}): {first.what}"
    if not first.why:
        text += " (no life event that month)"
    else:
        text += f", because {first.why}" if first.explained else f", in a month with {first.why}"
    if not first.projected:
        text += f"; it cost {first.cost}"
    rest = len(broke) - 1
    if rest:
        text += f". It breaks again in {rest} later month{'s' if rest != 1 else ''}"
    return text + "."
