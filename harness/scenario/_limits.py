"""Bounds on what a scenario may ask for, checked before anything is built or sent.

A typo (`events: 50000000`, `copies: 100000000`) must be an error that names the limit, not a
run that hangs or runs out of memory. The deliveries a scenario plans are estimated from its
source and perturbations (duplicates and tampering add copies at their rate, each replay pass
adds the whole stream again); the estimate errs high, never low.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

from ..core._errors import ScenarioError
from ..core._scenario import Perturbation, Source, SyntheticSource

LIMIT_ENV = "HARNESS_MAX_DELIVERIES"
DEFAULT_MAX_DELIVERIES = 5_000_000  # about 2 GB of journal; a million-event run fits
MAX_COPIES = 100  # deliveries of one event by one duplicate perturbation
MAX_REPLAYS = 100  # extra passes of one replay perturbation


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


def check_planned_size(source: Source, perturbations: Sequence[Perturbation], where: str) -> None:
    """ScenarioError when a synthetic scenario would plan more deliveries than the limit."""
    if not isinstance(source, SyntheticSource):
        return  # a recorded source is bounded by its file, read line by line
    factor = 1.0
    for p in perturbations:
        params = p.params
        if p.kind == "duplicate":
            factor *= 1 + float(params.get("rate", 0)) * (int(params.get("copies", 2)) - 1)
        elif p.kind == "replay":
            factor *= 1 + int(params.get("times", 1))
        elif p.kind == "tamper":
            factor *= 1 + float(params.get("rate", 0))
    planned = source.events * factor
    limit = max_deliveries(where)
    if planned > limit:
        raise ScenarioError(
            f"the scenario plans about {math.ceil(planned):,} deliveries ({source.events:,} "
            f"events times {factor:,.3g} from its perturbations); the limit is {limit:,}",
            where=where,
            hint=f"lower events, copies or replay times; to run it anyway, raise the limit with "
            f"{LIMIT_ENV}={math.ceil(planned)}",
        )
