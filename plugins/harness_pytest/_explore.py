"""``harness_explore``: one example of the user's own Hypothesis test over
``harness.strategies.explorations`` — the scenario run with exactly that schedule — failing
with the schedule's sequence diagram, so that Hypothesis shrinks it and pytest shows the
minimal one."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ._drive import listening, signed
from ._failure import fail_plainly, run_error_message
from ._state import State

if TYPE_CHECKING:
    from harness import RunResult, Scenario
    from harness.strategies import Exploration


class ScheduleFailed(AssertionError):
    """An invariant failed under this schedule (Hypothesis shrinks it; pytest shows it)."""


class Explorer:
    """``harness_explore(scenario, exploration)``: run ``scenario`` with exactly
    ``exploration``'s schedule against ``target`` (default: --harness-target), after the
    scenario's ``reset:``, with the session's --harness-settle-* times, --harness-secret-env,
    --harness-allow-host and --harness-listen-beyond-loopback; raise ScheduleFailed
    with its sequence diagram and the failed verdicts when an invariant fails, else return the
    RunResult. ``seed`` must be the one the strategy was given (``explorations(scenario,
    seed=...)``, default 0 both)."""

    def __init__(self, state: State):
        self._state = state

    def __call__(
        self,
        scenario: Scenario,
        exploration: Exploration,
        *,
        target: str | None = None,
        downstream: str | None = None,
        seed: int = 0,
    ) -> RunResult:
        __tracebackhide__ = True
        import harness

        settings = self._state.settings
        target = target or settings.target
        if target is None:
            fail_plainly(
                "harness_explore needs a target: pass --harness-target, set harness_target, or "
                "call it with target=..."
            )
        # As the plugin's other runs: an address given (here, or --harness-downstream) wins
        # over the downstreams' own ports.
        scenario = listening(scenario, downstream is not None or settings.downstream_given)
        # And as they do, and `harness explore`: the session's secret variable, the hosts it
        # allows and where its doubles may listen.
        scenario = signed(scenario, settings)
        if downstream is None:
            host, port = settings.downstream_for(target)
            downstream = f"{host}:{port}"
        with tempfile.TemporaryDirectory(prefix="harness-explore-") as tmp:
            try:
                options = harness.RunOptions.create(
                    target,
                    seed=seed,
                    downstream=downstream,
                    journal=Path(tmp) / "example.db",
                    allow_hosts=settings.allow_hosts,
                    settle_quiet=settings.settle_quiet,
                    settle_deadline=settings.settle_deadline,
                    listen_beyond_loopback=settings.listen_beyond_loopback,
                )
                result = harness.run_schedule(scenario, exploration, options)
            except harness.HarnessError as exc:  # a bad target or downstream: said, no traceback
                if settings.traceback:
                    raise
                fail_plainly(run_error_message(scenario.name, scenario.origin, exc))
        if any(v.status is harness.Status.FAIL for v in result.verdicts):
            lines = harness.failure_lines(result)
            raise ScheduleFailed(
                "\n".join([f"{scenario.name} fails under {exploration!r}:", *lines])
            )
        return result
