"""How a run is run: the options of one invocation (target, seed, journal, double's address,
time scale) and the settle times on the run's clock."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..core._errors import InputError
from ..core._scenario import Scenario, Settle
from ..double._downstream import parse_address
from ..drive._target import Target, parse_target
from ._events import Listener

# Settle times are scaled like the rest of the timeline, down to these floors (never above the
# scenario's own values): the automation's own processing and timers are not compressed.
QUIET_FLOOR = 0.2
DEADLINE_FLOOR = 5.0


def default_journal() -> Path:
    """Where a run keeps its journal unless told: harness-runs/<UTC time>.db."""
    return Path("harness-runs") / (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ".db")


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Where and how to run: the same for every scenario of one invocation."""

    target: Target
    target_name: str
    seed: int
    journal: Path
    downstream_host: str = "127.0.0.1"
    downstream_port: int = 9100
    listeners: Sequence[Listener] = field(default_factory=tuple)
    reproduce: str | None = None  # the command that reruns it, when not `harness run ...`
    # Run seconds per scenario second; None: each scenario's own time_scale, else 1.0.
    time_scale: float | None = None
    allow_hosts: tuple[str, ...] = ()  # hosts outside loopback the user named (observers)

    @classmethod
    def create(
        cls,
        target: str,
        *,
        seed: int | None = None,
        downstream: str = "127.0.0.1:9100",
        journal: str | Path | None = None,
        target_name: str | None = None,
        allow_hosts: Sequence[str] = (),
        reproduce: str | None = None,
        time_scale: float | None = None,
    ) -> RunOptions:
        """Options from user input: a target URL (or ``module:attr``), ``HOST:PORT`` of the
        double; a random seed and ``harness-runs/<time>.db`` unless given. Raises InputError."""
        parsed = parse_target(target, allow_hosts)
        host, port = parse_address(downstream)
        if time_scale is not None:
            check_time_scale(time_scale, "--time-scale")
        if journal is None:
            journal = default_journal()
        return cls(
            target=parsed,
            target_name=target_name or parsed.label,
            seed=seed if seed is not None else random.SystemRandom().randrange(1, 2**31),
            journal=Path(journal),
            downstream_host=host,
            downstream_port=port,
            reproduce=reproduce,
            time_scale=time_scale,
            allow_hosts=tuple(allow_hosts),
        )


def check_time_scale(value: float, where: str) -> float:
    """``value`` if it is a usable time scale (a finite number > 0), else InputError."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        problem = f"a {type(value).__name__}"
    elif not math.isfinite(value) or value <= 0:
        problem = "not a finite number > 0"
    else:
        return float(value)
    raise InputError(
        f"time scale {value!r} is not usable ({problem})",
        where=where,
        hint="give run seconds per scenario second, e.g. 0.02 to run a 4 min outage in 4.8 s; "
        "1 runs in real time",
    )


def scaled_settle(settle: Settle, scale: float) -> Settle:
    """The settle times on the run's clock: scaled, down to QUIET_FLOOR and DEADLINE_FLOOR."""
    quiet = max(settle.quiet * scale, min(settle.quiet, QUIET_FLOOR))
    deadline = max(settle.deadline * scale, min(settle.deadline, DEADLINE_FLOOR), quiet)
    return Settle(quiet, deadline)


def time_scale_of(scenario: Scenario, options: RunOptions) -> float:
    """The options' time scale, else the scenario's own, else real time."""
    if options.time_scale is not None:
        return check_time_scale(options.time_scale, "--time-scale")
    if scenario.time_scale is not None:
        return check_time_scale(scenario.time_scale, f"{scenario.origin}: time_scale")
    return 1.0
