"""Bounds on what a scenario may ask for, checked before anything is built or sent.

A typo (`events: 50000000`, `copies: 100000000`) must be an error that names the limit, not a
run that hangs or runs out of memory. The deliveries a scenario plans are estimated from its
source (a synthetic source's events, a recorded file's lines) and perturbations (duplicates and
tampering add copies at their rate, each replay pass adds the whole stream again); the estimate
errs high, never low. A recorded file whose events lie far apart (a year) would make the run
wait that long: its replay may take at most MAX_REPLAY_SECONDS of real time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

from ..core._errors import ScenarioError
from ..core._scenario import Perturbation, Source, SyntheticSource
from ..drive._recorded import Survey

LIMIT_ENV = "HARNESS_MAX_DELIVERIES"
DEFAULT_MAX_DELIVERIES = 5_000_000  # about 2 GB of journal; a million-event run fits
MAX_COPIES = 100  # deliveries of one event by one duplicate perturbation
MAX_REPLAYS = 100  # extra passes of one replay perturbation
MAX_REPLAY_SECONDS = 24 * 3600  # real seconds a recorded file's replay may take
MAX_SYNTHETIC_YEARS = 100  # how long synthetic events may span, at their natural pace: dates


def max_deliveries(where: str) -> int:
    """The limit in force: HARNESS_MAX_DELIVERIES if set (a positive integer), else the default."""
    text = os.environ.get(LIMIT_ENV)
    if text is None:
        return DEFAULT_MAX_DELIVERIES
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        raise ScenarioError(
            f"{LIMIT_ENV}={text!r} is not a positive integer",
            where=where,
            hint=f"unset it for the default ({DEFAULT_MAX_DELIVERIES:,}) or give e.g. 20000000",
        )
    return value


def check_planned_size(
    source: Source, perturbations: Sequence[Perturbation], where: str, recorded: int = 0
) -> None:
    """ScenarioError when a scenario would plan more deliveries than the limit; ``recorded``:
    the lines of a recorded source's file."""
    events = source.events if isinstance(source, SyntheticSource) else recorded
    factor = 1.0
    for p in perturbations:
        params = p.params
        if p.kind == "duplicate":
            factor *= 1 + float(params.get("rate", 0)) * (int(params.get("copies", 2)) - 1)
        elif p.kind == "replay":
            factor *= 1 + int(params.get("times", 1))
        elif p.kind == "tamper":
            factor *= 1 + float(params.get("rate", 0))
    planned = events * factor
    limit = max_deliveries(where)
    if planned > limit:
        raise ScenarioError(
            f"the scenario plans about {math.ceil(planned):,} deliveries ({events:,} "
            f"events times {factor:,.3g} from its perturbations); the limit is {limit:,}",
            where=where,
            hint=f"lower events, copies or replay times; to run it anyway, raise the limit with "
            f"{LIMIT_ENV}={math.ceil(planned)}",
        )


def check_replay_time(survey: Survey, time_scale: float | None, where: str) -> None:
    """ScenarioError when replaying a recorded file at its recorded times would take longer
    than MAX_REPLAY_SECONDS (``time_scale`` compresses it; ``over:`` spreads it)."""
    scale = 1.0 if time_scale is None else time_scale
    real = survey.span * scale
    if real <= MAX_REPLAY_SECONDS:
        return
    first, last = survey.ends
    raise ScenarioError(
        f"the recorded events span {_long(survey.span)} (line {first} to line {last}); replayed "
        f"{survey.how} the run would take {_long(real)}, and the limit is "
        f"{_long(MAX_REPLAY_SECONDS)}",
        where=where,
        hint="spread them evenly with over: under source.recorded (e.g. over: 60s), or "
        f"compress time with time_scale: {_scale(MAX_REPLAY_SECONDS / survey.span / 2)} or less",
    )


def check_synthetic_span(source: SyntheticSource, where: str) -> None:
    """ScenarioError when a synthetic source's ``over`` would date its events more than
    MAX_SYNTHETIC_YEARS apart: a typo (``over: 99999999h``) found here, not as a date past the
    year 9999 while the run is made. How long the run takes at its time scale (a flag may set
    it) is checked when it is planned (``check_schedule_time``)."""
    if source.over > MAX_SYNTHETIC_YEARS * 365.25 * 86400:
        raise ScenarioError(
            f"source.synthetic.over spans {_long(source.over)}; the events are dated, and may "
            f"span at most {MAX_SYNTHETIC_YEARS} years",
            where=where,
            hint="give the time the events span at their natural pace, e.g. over: 60s or 30d",
        )


def check_schedule_time(last: float, scale: float, where: str) -> None:
    """ScenarioError when a run's schedule, as it will be sent (time scale applied), sends its
    last delivery later than MAX_REPLAY_SECONDS after the start (``scale``: the time scale it
    was sent at): for scenarios built in Python and a --time-scale that slows a scenario down,
    which ``check_replay_time`` cannot see."""
    if last <= MAX_REPLAY_SECONDS:
        return
    raise ScenarioError(
        f"the run would send its last delivery {_long(last)} after it starts; the limit is "
        f"{_long(MAX_REPLAY_SECONDS)}",
        where=where,
        hint="spread the events over less time (over:), or compress time with time_scale: "
        f"{_scale(scale * MAX_REPLAY_SECONDS / last / 2)} or less",
    )


def _scale(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def _long(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:,.0f} s"
