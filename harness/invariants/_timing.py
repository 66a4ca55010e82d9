"""What a compressed run did to time: one sentence that timing verdicts and the report share.

A time scale under 1 shortens the scenario's clock — schedules, fault windows, provider retries —
and so multiplies the rate the target is sent events at; the target's own processing, acks and
retry timers run in real time all the same. A latency or recovery judged on such a run must say
so, with the rate actually sent, or a reader takes a compressed storm for the real traffic.
"""

from __future__ import annotations

from ..core._model import Delivery, Outcome
from ..core._providers import PROVIDERS
from ..history import History


def time_scale(history: History) -> float:
    """Run seconds per scenario second (1.0 for runs recorded before time scales existed)."""
    return float(history.info.settings.get("time_scale", 1.0))


def compression(history: History) -> str:
    """``""`` for a run in real time; else ``compressed run: 30 events over 20 s of scenario
    time were sent in 0.5 s: 60/s, time scale 0.025``."""
    scale = time_scale(history)
    if scale >= 1:
        return ""
    ds = history.deliveries
    if not ds:
        return f"compressed run (time scale {scale:g}): nothing was sent"
    planned = [d.scheduled_at for d in ds]
    sent = [d.sent_at for d in ds]
    scenario_span = (max(planned) - min(planned)) / scale
    wall = max(sent) - min(sent)
    events = len({d.event_id for d in ds})
    what = f"{events:,} events"
    if events != len(ds):
        what = f"{len(ds):,} deliveries of {what}"
    rate = f"{len(ds) / wall:,.0f}/s" if wall > 0 else "all at once"
    return (
        f"compressed run: {what} over {seconds(scenario_span)} of scenario time were sent in "
        f"{seconds(wall)}: {rate}, time scale {scale:g}"
    )


def seconds(t: float) -> str:
    """``0.5 s``, ``20 s``, ``240 s``: three significant digits at most."""
    return f"{t:.3g} s" if t < 1000 else f"{t:,.0f} s"


def repeats_compressed(history: History) -> str:
    """``""`` for a run in real time, or one whose events were each delivered once; else
    ``an event's deliveries came at most 0.9 s apart here, 17 min in the scenario's time …``:
    a pass over repeats deduplicated that quickly says nothing of a store that forgets sooner."""
    spans = repeat_spans(history)
    if spans is None:
        return ""
    span, scenario = spans
    return (
        f"an event's deliveries came at most {seconds(span)} apart here, "
        f"{_long(scenario)} in the scenario's time (time scale {time_scale(history):g}): an "
        "automation that forgets the events it handled sooner than that — a dedup cache with a "
        "time to live — passes here and repeats them in production; keep each event's id as "
        f"long as its sender redelivers ({_redelivers(history)}docs/providers.md)"
    )


def repeat_spans(history: History) -> tuple[float, float] | None:
    """How far apart an event's deliveries came at most, in real seconds and in the scenario's,
    for a compressed run whose repeats span a minute or more of the scenario's time; None
    otherwise. A delivery counts once the target had it: answered, or timed out while it
    worked (a retry storm's first attempts); not one refused or reset before any answer. The
    scenario's time of a delivery is its plan's, scaled back, plus — for a sender's retry — the
    retry delays scaled back and the sender's real waits for an answer (its ack timeout is not
    scaled)."""
    scale = time_scale(history)
    if scale >= 1:
        return None
    delays = [float(d) for d in history.info.settings.get("retries") or ()]
    planned = {d.id: d.scheduled_at for d in history.deliveries if ".r" not in d.id}
    seen: dict[str, list[tuple[float, float]]] = {}  # event id -> (sent, scenario time)
    for d in history.deliveries:
        if d.status is not None or d.outcome is Outcome.INDETERMINATE:
            when = _scenario_time(d, planned, delays, scale)
            seen.setdefault(d.event_id, []).append((d.sent_at, when))
    spans = [
        (
            max(s for s, _ in ts) - min(s for s, _ in ts),
            max(w for _, w in ts) - min(w for _, w in ts),
        )
        for ts in seen.values()
    ]
    span = max((real for real, _ in spans), default=0.0)
    scenario = max((then for _, then in spans), default=0.0)
    return None if scenario < 60 else (span, scenario)


def _redelivers(history: History) -> str:
    """``Shopify: up to 4 h; ``: how long the run's provider redelivers, where it is known."""
    profile = PROVIDERS.get(str(history.info.settings.get("provider") or ""))
    if profile is None or not profile.retries_known or not profile.retries:
        return ""
    return f"{profile.short_title}: up to {_long(sum(profile.retries))}; "


def _scenario_time(
    d: Delivery, planned: dict[str, float], delays: list[float], scale: float
) -> float:
    """When ``d`` was due on the scenario's clock: ``dlv_7.r2`` is ``dlv_7``'s plan, then two
    retry delays (on the run's clock in ``delays``: scaled back), then what the sender waited
    in real time (for answers, or its ack timeout)."""
    base, _, attempt = d.id.partition(".r")
    start = planned.get(base)
    if start is None or not attempt.isdigit():
        return d.scheduled_at / scale
    waited = sum(delays[: int(attempt)])
    real = max(0.0, d.scheduled_at - start - waited)
    return start / scale + waited / scale + real


def _long(t: float) -> str:
    """``5 min``, ``1.3 h``, ``2.5 days``."""
    if t < 2 * 3600:
        return f"{t / 60:.0f} min"
    if t < 2 * 86400:
        return f"{t / 3600:.2g} h"
    days = t / 86400
    return f"{days:.2g} days" if days < 10 else f"{days:,.0f} days"
