"""A target gone mid-run: the run stops sending instead of waiting out every delivery.

A target that hangs (a deadlock, a full log pipe, an exhausted pool) or dies keeps accepting
no delivery, and each waits out its timeout: a clean run sends one event at a time, so 200 of
them at 5 s each held a run 17 minutes, and every scenario after it as long again. Once
``GONE_AFTER`` deliveries in a row ended without an answer (timed out, could not connect, the
connection reset) and the target has shown no sign of life for ``GONE_QUIET`` real seconds —
no answer, no downstream call made or held open — the run stops sending: it ends
``unavailable``, is judged for what it recorded (``target_available`` fails naming the
deliveries: exit 1, a finding about the automation), and no later scenario is run.

A target slow past the delivery timeout but working (calling its downstreams, answering some)
is not gone: ``ack_within`` judges it. Nor is one a deploy restart the run made
(``restarts:``) takes away: from when a restart is due until ``RESTART_GRACE`` real seconds
after its hook returned, the silence is the restart's — a hook that stops the listener for
longer than ``GONE_QUIET`` (a slow image pull, a Node-RED reload of many flows) stopped the run
as "target gone", and its restart was never judged. A target that does not come back counts
from the grace's end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..core._errors import RunError
from ..core._model import Delivery
from ..double._downstream import Downstream
from ..invariants._facts import plural
from ..invariants._restarts import RESTART_MARK
from ..invariants.target_available import NoAnswer, no_answer

if TYPE_CHECKING:
    from ._recorder import RunResult

GONE_AFTER = 5  # deliveries in a row without an answer
GONE_QUIET = 30.0  # real seconds without an answer or a downstream call
RESTART_GRACE = 5.0  # real seconds after a restart hook returned: the new process starting


class GoneWatch:
    """Fed each finished delivery (``delivery``); calls ``stop`` once, when the target is
    gone by the rule above. ``reason``: why, once it is."""

    def __init__(
        self,
        clock: Callable[[], float],
        doubles: Sequence[Downstream],
        stop: Callable[[], object],
    ) -> None:
        self._clock = clock
        self._doubles = doubles
        self._stop = stop
        self._life = clock()  # the target's last sign of life, on the run's clock
        self._calls = self._made()
        self._unanswered: list[tuple[Delivery, NoAnswer]] = []
        self._due: list[float] = []  # when the run's restarts are due, on its clock
        self._ended: list[float] = []  # when each restart hook returned, so far
        self.reason: str | None = None

    def restarting(
        self, due: Sequence[float], mark: Callable[[str, str], None]
    ) -> Callable[[str, str], None]:
        """Spare the restarts ``due`` (run seconds): ``mark`` (the Recorder's) for them, which
        notes each restart's end as it is marked."""
        self._due = sorted(due)

        def marked(name: str, detail: str) -> None:
            mark(name, detail)
            if name == RESTART_MARK:
                self._ended.append(self._clock())

        return marked

    def _spared(self, now: float) -> float:
        """Until when the target's silence is a restart's: ``now`` while a restart hook is due
        and has not returned, else its last's return and the grace after."""
        done = len(self._ended)
        if done < len(self._due) and self._due[done] <= now:
            return now
        return min(now, self._ended[-1] + RESTART_GRACE) if done else self._life

    def _made(self) -> int:
        return sum(d.effects_recorded for d in self._doubles)

    def delivery(self, d: Delivery) -> None:
        if self.reason is not None:
            return
        now = self._clock()
        if self._due:
            self._life = max(self._life, self._spared(now))
        calls = self._made()
        if calls != self._calls or any(double.in_flight for double in self._doubles):
            self._calls, self._life = calls, now
            self._unanswered.clear()
        how = no_answer(d)
        if how is None:
            if d.status is not None:
                self._life = max(self._life, d.answered_at or now)
                self._unanswered.clear()
            return  # else the sender's own reason: not the target's
        self._unanswered.append((d, how))
        if len(self._unanswered) >= GONE_AFTER and now - self._life >= GONE_QUIET:
            self.reason = self._text(now)
            self._stop()

    def _text(self, now: float) -> str:
        """``none of the last 5 deliveries was answered (5 timed out, from dlv_000001 on) and
        no downstream call came for 31 s``."""
        hows: dict[str, int] = {}
        for _, how in self._unanswered:
            hows[how.value] = hows.get(how.value, 0) + 1
        said = ", ".join(f"{n} {how}" for how, n in hows.items())
        # Counted from a restart's grace: the silence before it was the restart's.
        spared = bool(self._ended) and self._life == self._ended[-1] + RESTART_GRACE
        after = f", from {RESTART_GRACE:.0f} s after the deploy restart's hook returned" * spared
        return (
            f"none of the last {len(self._unanswered)} deliveries was answered ({said}, from "
            f"{self._unanswered[0][0].id} on) and no downstream call came for "
            f"{now - self._life:.0f} s{after}"
        )


class TargetGone(RunError):
    """The target stopped answering mid-run (``GoneWatch``): the run it stopped ended
    ``unavailable`` and no later one was run. ``results``: the runs judged before and with it,
    in their scenarios' order, the one it stopped among them (a clean run judged alone).
    Exit 1, not 3: the target stopped answering, a finding about the automation that
    ``target_available`` fails on, not a run the harness could not make."""

    exit_code = 1

    def __init__(self, message: str, results: Sequence[RunResult] = ()) -> None:
        super().__init__(message)
        self.results = list(results)


def gone_text(
    reason: str, where: str, left: Sequence[str], target: str, journal: str, *, stopped: bool = True
) -> str:
    """The error of a run stopped for the target gone: why, where, what was not run, and what
    to check. ``stopped``: the run stopped sending (else it sent all it planned, in vain)."""
    skipped = ""
    if left:
        names = ", ".join(left[:5]) + (f" and {len(left) - 5} more" if len(left) > 5 else "")
        skipped = f"; not run: {plural(len(left), 'scenario')} ({names})"
    then = "the run stopped sending" if stopped else "the runs before it are judged"
    return (
        f"the target stopped answering in {where} — {reason}: hung or gone; {then}"
        f"{skipped}\n"
        f"  hint: is the automation still running? Its log says why it stopped answering; "
        f"`curl -i -X POST {target}` should get an answer. What was recorded is kept in "
        f"{journal} (`harness check {journal}` judges it)"
    )
