"""How a run is run: the options of one invocation (target, seed, journal, double's address,
time scale, settle times) and the settle rule: how long, in real seconds, a run waits for the
target to finish."""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from ..core._errors import InputError
from ..core._scenario import Scenario, Settle
from ..double._carry import Carried
from ..double._downstream import parse_address, require_loopback_listen
from ..drive._target import Target, parse_target
from ._events import Listener
from ._sampler import DEFAULT_EVERY, MemorySource, memory_source

# A scenario's settle times shrink with its time scale, but never below these real seconds (nor
# above the scenario's own values): the automation's processing, queues and retry timers run in
# real time whatever the scenario's clock does. 0.2 s of quiet called an n8n-like target that
# works ~250 ms per event after its 200 "lost" (issue #11); 1 s covers such a queue's gaps.
QUIET_FLOOR = 1.0
DEADLINE_FLOOR = 20.0


def default_journal() -> Path:
    """Where a run keeps its journal unless told: harness-runs/<UTC time>-<6 hex>.db, unique
    even for two runs started in the same second (they would share one file otherwise)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("harness-runs") / f"{stamp}-{secrets.token_hex(3)}.db"


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
    # The double may listen on a non-loopback address (--listen-beyond-loopback).
    listen_beyond_loopback: bool = False
    # Real seconds that replace every scenario's settle times (--settle-quiet/-deadline).
    settle_quiet: float | None = None
    settle_deadline: float | None = None
    # The target's memory sampled during each run into ``sample`` marks (--target-pid,
    # --metrics-url): engine/_sampler.
    memory: MemorySource | None = None
    # The stateful doubles' stores, kept from each run to the next (a year's months,
    # ``double._carry``); clean runs never use them. None: each run starts afresh.
    carried: Carried | None = None
    # Real seconds of quiet a run waits while accepted events still lack their expected
    # effects; None: PENDING_QUIET times the quiet (``_settle``). Explore's examples set it.
    settle_pending: float | None = None
    # The hazards of the invocation not tried for want of a setting (``Skipped.not_tried``),
    # as (name, reason): kept in each run's settings, so that ``harness check`` of its journal
    # says so and never reads as Ready.
    not_tried: tuple[tuple[str, str], ...] = ()

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
        settle_quiet: float | None = None,
        settle_deadline: float | None = None,
        listen_beyond_loopback: bool = False,
        target_pid: int | None = None,
        metrics_url: str | None = None,
        sample_every: float | None = None,
    ) -> RunOptions:
        """Options from user input: a target URL (or ``module:attr``), ``HOST:PORT`` of the
        double; a random seed and ``harness-runs/<time>.db`` unless given; settle times in
        real seconds, replacing the scenarios' own; the target's process id or metrics URL to
        sample its memory from every ``sample_every`` s (default 1; read once here). Raises
        InputError."""
        parsed = parse_target(target, allow_hosts)
        host, port = parse_address(downstream)
        if not listen_beyond_loopback:
            require_loopback_listen(host)
        if time_scale is not None:
            check_time_scale(time_scale, "--time-scale")
        check_settle_times(settle_quiet, settle_deadline)
        memory = memory_source(
            target_pid, metrics_url, DEFAULT_EVERY if sample_every is None else sample_every
        )
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
            settle_quiet=None if settle_quiet is None else float(settle_quiet),
            settle_deadline=None if settle_deadline is None else float(settle_deadline),
            listen_beyond_loopback=listen_beyond_loopback,
            memory=memory,
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


def check_settle_times(quiet: float | None, deadline: float | None) -> None:
    """Refuse settle times that are not finite numbers of seconds > 0, or a deadline under the
    quiet period it bounds. Raises InputError naming the flag."""
    for value, flag in ((quiet, "--settle-quiet"), (deadline, "--settle-deadline")):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problem = f"a {type(value).__name__}"
        elif not math.isfinite(value) or value <= 0:
            problem = "not a finite number of seconds > 0"
        else:
            continue
        raise InputError(
            f"settle time {value!r} is not usable ({problem})",
            where=flag,
            hint="give real seconds, e.g. 5 or 500ms, 3s, 2m: how long the target must be "
            "quiet (--settle-quiet), how long the run waits at most (--settle-deadline)",
        )
    if quiet is not None and deadline is not None and deadline < quiet:
        raise InputError(
            f"the deadline {deadline:g} s is shorter than the quiet period {quiet:g} s it bounds",
            where="--settle-deadline",
            hint="give a deadline of at least --settle-quiet",
        )


def settle_for(settle: Settle, scale: float, options: RunOptions | None = None) -> Settle:
    """The settle rule: how long a run waits, in real seconds, for the target to finish.

    The scenario's ``quiet`` and ``deadline`` are scenario time, scaled like its schedule but
    never below QUIET_FLOOR and DEADLINE_FLOOR real seconds (a value under a floor is taken as
    written); the deadline is never under the quiet. ``--settle-quiet``/``--settle-deadline``
    (``options``) replace them with real seconds, unscaled and without floors. The clean run's
    ``event_quiet`` and ``event_deadline`` are real seconds already: the target works in real
    time between two events.
    """
    quiet = max(settle.quiet * scale, min(settle.quiet, QUIET_FLOOR))
    deadline = max(settle.deadline * scale, min(settle.deadline, DEADLINE_FLOOR))
    if options is not None and options.settle_quiet is not None:
        quiet = options.settle_quiet
    if options is not None and options.settle_deadline is not None:
        return replace(settle, quiet=quiet, deadline=options.settle_deadline)
    return replace(settle, quiet=quiet, deadline=max(deadline, quiet))


def time_scale_of(scenario: Scenario, options: RunOptions) -> float:
    """The options' time scale, else the scenario's own, else real time."""
    if options.time_scale is not None:
        return check_time_scale(options.time_scale, "--time-scale")
    if scenario.time_scale is not None:
        return check_time_scale(scenario.time_scale, f"{scenario.origin}: time_scale")
    return 1.0
