"""Readiness of one target: per area (silent, loud, slow) and per principle.

Only verdicts decide readiness; figures from the history are shown beside them as
observations ("0 of 380 deliveries failed"), never turned into a pass or a fail — a harness
that cries wolf is not trusted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..core._model import UNAVAILABLE
from ..core._quantiles import Quantiles
from . import _describe
from ._views import AreaView, PrincipleView, ScenarioView, VerdictView


@dataclass(frozen=True, slots=True)
class _Area:
    key: str
    title: str
    meaning: str


AREAS = (
    _Area(
        "silent",
        "Silent failures",
        "lost, duplicated or corrupted work that raises no error: nobody notices until a "
        "customer does",
    ),
    _Area(
        "loud",
        "Loud failures",
        "errors and rejected events: visible, but each one needs a person",
    ),
    _Area(
        "slow",
        "Slow failures",
        "latency and backlog: slow acks make senders retry, backlogs delay work",
    ),
)


def areas(scenarios: Sequence[ScenarioView]) -> tuple[AreaView, ...]:
    observed: dict[str, Callable[[Sequence[ScenarioView]], str]] = {
        "silent": _observed_silent,
        "loud": _observed_loud,
        "slow": _observed_slow,
    }
    return tuple(_area(area, scenarios, observed[area.key](scenarios)) for area in AREAS)


def _area(area: _Area, scenarios: Sequence[ScenarioView], observed: str) -> AreaView:
    judged = [(s, v) for s in scenarios for v in s.verdicts if v.failure_class == area.key]
    status = _status([v for _, v in judged], "ready", "not ready", "not checked")
    if status == "ready" and untested(scenarios):
        # target_available held, but a run the target accepted nothing of shows nothing else.
        status = "not proven"
    return AreaView(
        area.key,
        area.title,
        area.meaning,
        sum(1 for _, v in judged if v.passed),
        len(judged),
        status,
        failing_phrases(judged),
        observed,
    )


def untested(scenarios: Sequence[ScenarioView]) -> list[str]:
    """The scenarios whose runs the target accepted none of the genuine deliveries of."""
    return [
        s.scenario
        for s in scenarios
        if s.counts.answers.refusals is not None and s.counts.answers.refusals.nothing_accepted
    ]


def _status(verdicts: Sequence[VerdictView], good: str, bad: str, none: str) -> str:
    if not verdicts:
        return none
    if any(v.status == "fail" for v in verdicts):
        return bad
    if any(v.status != "pass" for v in verdicts):
        return "not proven"
    return good


def failing_phrases(judged: Sequence[tuple[ScenarioView, VerdictView]]) -> tuple[str, ...]:
    """``duplicate effects in duplicate-storm``: kinds of failure that share their scenarios
    share a phrase (``lost events and duplicate effects in payouts``)."""
    where: dict[str, list[str]] = {}
    for s, v in judged:
        if v.status == "fail":
            phrase = _describe.failure(v.invariant, s.model)
        elif v.status == "inconclusive":
            phrase = f"{_describe.title(v.invariant).lower()} not judged"
        else:
            continue
        names = where.setdefault(phrase, [])
        if s.scenario not in names:
            names.append(s.scenario)
    by_scenarios: dict[tuple[str, ...], list[str]] = {}
    for phrase, names in where.items():
        by_scenarios.setdefault(tuple(names), []).append(phrase)
    return tuple(
        f"{_describe.join_words(phrases)} in {_describe.join_words(list(names))}"
        for names, phrases in by_scenarios.items()
    )


def _observed_silent(scenarios: Sequence[ScenarioView]) -> str:
    events = sum(s.counts.events for s in scenarios)
    repeated = sum(s.counts.repeated for s in scenarios)
    effects = sum(s.counts.effects for s in scenarios)
    return f"{events:,} events ({repeated:,} delivered more than once) produced {effects:,} effects"


def _observed_loud(scenarios: Sequence[ScenarioView]) -> str:
    total = sum(s.counts.deliveries for s in scenarios)
    rejected = sum(s.counts.answers.rejected for s in scenarios)
    failed = sum(s.counts.answers.failed for s in scenarios)
    unanswered = sum(s.counts.answers.unanswered for s in scenarios)
    bad = rejected + failed + unanswered
    if not bad:
        return f"no delivery was rejected, failed or unanswered (0 of {total:,})"
    return (
        f"{bad:,} of {total:,} deliveries were not accepted: {rejected:,} rejected (4xx), "
        f"{failed:,} failed (5xx), {unanswered:,} unanswered (no connection, reset, timeout)"
    )


def _observed_slow(scenarios: Sequence[ScenarioView]) -> str:
    ack = _worst(s.latency for s in scenarios)
    lag = _worst(s.lag for s in scenarios)
    parts = []
    if ack.count:
        parts.append(f"ack p95 {_ms(ack.p95)}, max {_ms(ack.max)}")
    if lag.count:
        parts.append(f"effect lag p95 {_ms(lag.p95)}, max {_ms(lag.max)}")
    return "; ".join(parts) or "nothing was answered"


def _worst(figures: Iterable[Quantiles]) -> Quantiles:
    """The worst p95 and max over several runs (percentiles cannot be merged exactly)."""
    items = [q for q in figures if q.count]
    if not items:
        return Quantiles(0)
    return Quantiles(
        sum(q.count for q in items),
        max(q.p50 or 0.0 for q in items),
        max(q.p95 or 0.0 for q in items),
        max(q.p99 or 0.0 for q in items),
        max(q.max or 0.0 for q in items),
    )


def _ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else _describe.duration(seconds)


@dataclass(frozen=True, slots=True)
class _Principle:
    title: str
    meaning: str
    invariants: tuple[str, ...]


PRINCIPLES = (
    _Principle(
        "Failure modes handled",
        "deliveries that fail, time out or arrive during an outage lose no work",
        ("no_lost_events", "recovers_after_outage"),
    ),
    _Principle(
        "Idempotent",
        "a repeated delivery never repeats its effect",
        ("no_duplicate_effects",),
    ),
    _Principle(
        "Queued and ordered under load",
        "bursts and simultaneous events are absorbed, acknowledged fast and applied in order",
        ("per_key_order", "ack_within"),
    ),
    _Principle(
        "Documented",
        "what was tested, how to rerun it and what to check are written down",
        (),
    ),
    _Principle(
        "Runs unattended",
        "nothing needs a person: runs complete, the target keeps answering, senders get fast "
        "answers, nothing is lost",
        ("target_available", "ack_within", "no_lost_events"),
    ),
)


def principles(scenarios: Sequence[ScenarioView]) -> tuple[PrincipleView, ...]:
    return (
        _failure_modes(scenarios),
        _idempotent(scenarios),
        _judged(PRINCIPLES[2], scenarios),
        _documented(scenarios),
        _unattended(scenarios),
    )


def _judged(p: _Principle, scenarios: Sequence[ScenarioView], note: str = "") -> PrincipleView:
    judged = [(s, v) for s in scenarios for v in s.verdicts if v.invariant in p.invariants]
    status = _status([v for _, v in judged], "holds", "fails", "not proven")
    parts = []
    for name in p.invariants:
        mine = [v for _, v in judged if v.invariant == name]
        if mine:
            held = sum(v.passed for v in mine)
            unjudged = sum(v.status == "inconclusive" for v in mine)
            # "held in 0 of 8 runs" alone reads as 8 failures where none was judged.
            aside = f", not judged in {unjudged}" if unjudged else ""
            parts.append(
                f"{_describe.title(name).lower()}: held in {held} of {len(mine)} runs{aside}"
            )
        else:
            parts.append(f"{_describe.title(name).lower()}: not checked")
    basis = "; ".join(parts) + (f"; {note}" if note else "")
    return PrincipleView(p.title, p.meaning, status, _capital(basis), failing_phrases(judged))


def _failure_modes(scenarios: Sequence[ScenarioView]) -> PrincipleView:
    faults = sum(len(s.faults) for s in scenarios)
    note = (
        f"{faults} fault window{'s' if faults != 1 else ''} simulated"
        if faults
        else "no downstream outage was simulated in these runs"
    )
    return _judged(PRINCIPLES[0], scenarios, note)


def _idempotent(scenarios: Sequence[ScenarioView]) -> PrincipleView:
    repeated = sum(s.counts.repeated for s in scenarios)
    view = _judged(PRINCIPLES[1], scenarios, f"{repeated:,} events delivered more than once")
    if not repeated and view.status == "holds":
        # Nothing was delivered twice: the check passed without being put to the test.
        return _replace_status(view, "not proven")
    return view


def _documented(scenarios: Sequence[ScenarioView]) -> PrincipleView:
    p = PRINCIPLES[3]
    missing = [s.scenario for s in scenarios if not s.description]
    if missing:
        return PrincipleView(
            p.title,
            p.meaning,
            "not proven",
            f"No description for {_describe.join_words(missing)}; the appendix still lists "
            "how to rerun every scenario",
            (),
        )
    return PrincipleView(
        p.title,
        p.meaning,
        "holds",
        (
            f"All {len(scenarios)} scenarios are described in plain words, each with a one-line "
            if len(scenarios) > 1
            else "The scenario is described in plain words, with a one-line "
        )
        + "reproduce command; the appendix says what to check when something unexpected happens",
        (),
    )


def _unattended(scenarios: Sequence[ScenarioView]) -> PrincipleView:
    aborted = [s.scenario for s in scenarios if s.status != "complete"]
    stopped = any(s.status == UNAVAILABLE for s in scenarios)
    note = (
        f"{'stopped or interrupted' if stopped else 'interrupted'}: {_describe.join_words(aborted)}"
        if aborted
        else f"all {len(scenarios)} runs completed without intervention"
        if len(scenarios) > 1
        else "the run completed without intervention"
    )
    view = _judged(PRINCIPLES[4], scenarios, note)
    if aborted and view.status == "holds":
        return _replace_status(view, "not proven")
    return view


def _replace_status(view: PrincipleView, status: str) -> PrincipleView:
    return PrincipleView(view.title, view.meaning, status, view.basis, view.failing)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
