"""What a compressed run did to time: one sentence that timing verdicts and the report share.

A time scale under 1 shortens the scenario's clock — schedules, fault windows, provider retries —
and so multiplies the rate the target is sent events at; the target's own processing, acks and
retry timers run in real time all the same. A latency or recovery judged on such a run must say
so, with the rate actually sent, or a reader takes a compressed storm for the real traffic.
"""

from __future__ import annotations

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
