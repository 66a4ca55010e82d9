"""The Recorder: the receiving half of a run — downstream doubles, journal, settling, judging."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, replace

from .. import history as _history
from ..core._errors import TargetUnreachableError
from ..core._model import Delivery, Effect, Outcome, Verdict
from ..double._downstream import Downstream
from ..drive._target import Target
from ..history import History, Journal
from ..invariants import judge
from ._events import DeliveryDone, EffectRecorded, EngineEvent, RunFinished, RunStarted, Settling
from ._options import RunOptions
from ._prepare import PreparedRun, now_iso
from ._snapshot import snapshot


@dataclass(frozen=True, slots=True)
class RunResult:
    history: History
    verdicts: tuple[Verdict, ...]

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)


class Recorder:
    """The receiving half of a run: the downstream doubles, the journal, settling and judging.

    Whoever delivers hands each finished Delivery to ``delivery``; the doubles record effects
    on their own. ``clock()`` is the run's time (seconds since the Recorder was made), the time
    of every Delivery and Effect. Use: ``start``, deliver, ``settle``, ``stop``, ``judge``.
    Without a ``journal`` it opens ``options.journal`` and closes it in ``stop``; several runs
    into one journal share one Journal instead.
    """

    def __init__(
        self, prepared: PreparedRun, options: RunOptions, journal: Journal | None = None
    ) -> None:
        self.prepared = prepared
        self.options = options
        self._owns_journal = journal is None
        self.journal = journal if journal is not None else Journal(options.journal)
        self.info = prepared.info
        self._t0 = time.monotonic()
        scenario = prepared.scenario
        several = len(scenario.downstreams) > 1
        self._doubles = [
            Downstream(
                spec,
                on_effect=self._effect,
                clock=self.clock,
                attribute=prepared.tracer.attribute,
                effect_prefix=f"eff_{spec.name}_" if several else "eff_",
                faults=prepared.faults,
                seed=options.seed,
            )
            for spec in scenario.downstreams
        ]
        self._stopped = False

    def clock(self) -> float:
        return time.monotonic() - self._t0

    def emit(self, event: EngineEvent) -> None:
        for listener in self.options.listeners:
            listener(event)

    async def start(self) -> list[str]:
        """Write the run's events to the journal and start the doubles; their base URLs.

        The first double listens on the options' port, the next ones on the following ports.
        """
        self.info = replace(self.prepared.info, started_at=now_iso())
        self.journal.begin(self.info, self.prepared.events, self.prepared.faults)
        host, port = self.options.downstream_host, self.options.downstream_port
        # The host came from the user (loopback unless they named another, e.g. 0.0.0.0 so a
        # staging target can reach the double), so it is not second-guessed here.
        urls = [
            await d.start(host, port + i if port else 0, allow_non_loopback=True)
            for i, d in enumerate(self._doubles)
        ]
        self.emit(RunStarted(self.info, len(self.prepared.schedule), urls[0] if urls else ""))
        return urls

    def delivery(self, d: Delivery) -> None:
        self.journal.delivery(d)
        self.emit(DeliveryDone(d))

    def mark(self, name: str, detail: str = "") -> None:
        """A named moment of the run (e.g. a Locust worker's share), kept in the History."""
        self.journal.mark(self.clock(), name, detail)

    def _effect(self, e: Effect) -> None:
        self.journal.effect(e)
        self.emit(EffectRecorded(e))

    async def settle(self) -> None:
        """Wait until no call reached or was still held by a double for ``settle.quiet`` s,
        at most ``settle.deadline`` s, both counted from the end of the last fault window.

        Automations that ack first and work later (queues, n8n, Zapier) keep producing effects
        after the last delivery was answered; judging before they are done would report false
        losses. After an outage they retry: the run watches them recover once it is over.
        """
        settle = self.prepared.settle
        self.emit(Settling(settle.quiet, settle.deadline))
        closes = max((f.end for f in self.prepared.faults), default=0.0)
        if (still_open := closes - self.clock()) > 0:
            await asyncio.sleep(still_open)
        start = busy = self.clock()
        while (now := self.clock()) - start < settle.deadline:
            if any(d.in_flight for d in self._doubles):
                busy = now  # a slow or held answer: the automation is still waiting on it
            last = max((d.last_effect_at or 0.0 for d in self._doubles), default=0.0)
            if now - max(last, busy) >= settle.quiet:
                return
            await asyncio.sleep(min(0.05, settle.quiet / 4))

    async def stop(self, status: str) -> None:
        """Stop the doubles and close the run in the journal as ``complete`` or ``aborted``.

        A complete run first takes its final state (``snapshot``)."""
        if self._stopped:
            return
        self._stopped = True
        try:
            if status == "complete":
                await snapshot(self.journal, self._doubles, self.prepared, self.mark)
            for d in self._doubles:
                await d.stop()
        finally:
            self.journal.end(status, self.clock())
            if self._owns_journal:
                self.journal.close()

    def judge(self) -> RunResult:
        """Read the run back from the journal and judge it. Raises TargetUnreachableError when
        no delivery reached the target: there is nothing to judge."""
        history = _history.load(self.journal.path, self.info.run_id)
        raise_if_unreachable(history, self.options.target)
        verdicts = tuple(judge(history))
        self.emit(RunFinished(history, verdicts))
        return RunResult(history, verdicts)


def raise_if_unreachable(history: History, target: Target) -> None:
    """Every delivery failed to connect: the run could not be completed. A target that answered
    its clean baseline run and then went away is judged instead (target_available fails)."""
    ds = history.deliveries
    baseline = history.baseline.deliveries if history.baseline is not None else []
    if ds and all(d.outcome is Outcome.FAILED and d.status is None for d in (*ds, *baseline)):
        raise TargetUnreachableError(
            f"no delivery reached the target {target.ref} ({ds[0].error}); "
            "the journal is kept but there is nothing to judge\n"
            "  hint: check that the automation is running and listening at --target"
        )
