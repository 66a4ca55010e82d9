"""Restarting the target mid-run as a deploy does (``restarts:``, ``restart:``).

At each of a scenario's ``restarts`` (on the run's clock, from its first delivery on) the
restart hook is called — a command run to completion, or a POST — in a thread, while the
sending goes on; the clean run never restarts. Each restart's start and end on the run's clock
are kept as a ``restart`` Mark (``invariants/_restarts``): what tells a loss of work the old
process held from any other. A hook that fails or outlasts its timeout (60 s) ends the run
with a RunError naming it; what was recorded is kept. Ctrl-C stops the hook at once (its
process killed, its POST abandoned: ``Hook.run``), its Mark ended there and ``interrupted``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..core._errors import RunError
from ..core._scenario import RestartSpec
from ..invariants._restarts import RESTART_MARK
from ._hooks import Hook

if TYPE_CHECKING:
    from ._recorder import RunResult

RESTART = Hook(
    "restart",
    why="the run restarts the target with it mid-run",
    when="at each of the scenario's restarts",
    done="it has restarted the target",
)


class RestartFailed(RunError):
    """A restart hook that failed mid-run: that run is not judged (nothing is called lost for a
    restart that did not happen); ``results``, the runs judged before it, are reported, then
    this error (exit 3)."""

    def __init__(self, message: str, results: Sequence[RunResult] = ()) -> None:
        super().__init__(message)
        self.results = list(results)


class Restarts:
    """A run's restarts: ``start`` (as its clock starts) calls the hook at each of ``at`` (run
    seconds) in a thread and marks it; ``finish`` waits for the last, raising the RunError of
    one that failed. A failure calls ``stop`` (the sending stops, as Ctrl-C stops it)."""

    def __init__(
        self,
        at: Sequence[float],
        spec: RestartSpec,
        clock: Callable[[], float],
        mark: Callable[[str, str], None],
        stop: Callable[[], object],
    ) -> None:
        self._at = sorted(at)
        self._spec = spec
        self._clock = clock
        self._mark = mark
        self._stop = stop
        self._task: asyncio.Task[None] | None = None
        self.error: RunError | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        for at in self._at:
            while (left := at - self._clock()) > 0:
                await asyncio.sleep(left)
            started = self._clock()
            try:
                await RESTART.run(self._spec)
            except RunError as exc:
                self.error = exc
                self._stop()
                return
            except asyncio.CancelledError:  # Ctrl-C: the hook stopped where it was, and kept
                self._marked(at, started, interrupted=True)
                raise
            self._marked(at, started)

    def _marked(self, at: float, started: float, *, interrupted: bool = False) -> None:
        detail = {"at": at, "started": round(started, 6), "ended": round(self._clock(), 6)}
        if interrupted:
            detail["interrupted"] = True
        self._mark(RESTART_MARK, json.dumps(detail))

    async def finish(self) -> None:
        """Wait for the restarts not made yet (a stream shorter than them); RunError if one
        failed."""
        self.start()
        assert self._task is not None
        await self._task
        if self.error is not None:
            raise self.error

    async def cancel(self) -> None:
        """Stop the restarts not made yet, and the hook running now (its Mark kept), before
        the run is closed."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
