"""The Recorder: the receiving half of a run — downstream doubles, journal, settling, judging."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from .. import history as _history
from ..core._errors import OutputError, TargetUnreachableError
from ..core._model import SETTLED_MARK, Delivery, Effect, Event, Outcome, Verdict
from ..double._downstream import Downstream
from ..drive._event_batch import EventBatch
from ..drive._event_columns import EventColumns
from ..drive._target import Target
from ..history import History, Journal
from ..history._journal import CHECKPOINT_EVERY
from ..invariants import judge
from ..invariants._facts import may_start_work
from ..invariants._no_calls import CALLED_BEFORE
from ..invariants._stopped import INTERRUPTED_MARK
from ._events import DeliveryDone, EffectRecorded, EngineEvent, RunFinished, RunStarted, Settling
from ._lag import watch_lag
from ._late import EarlierRuns
from ._options import RunOptions
from ._prepare import PLANNED, PreparedRun, now_iso
from ._sampler import sample
from ._settle import PENDING_QUIET, PendingRule, Settled, awaiting_effect, wait_quiet
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

    ``pending`` says which accepted events still wait for their effects (``settle`` waits for
    them; default: those no committed write names). ``earlier``: the runs of the same
    invocation before this one; an effect this run cannot attribute that carries one of their
    tracer tokens is recorded as that run's late effect, and this run joins them in ``stop``.
    """

    def __init__(
        self,
        prepared: PreparedRun,
        options: RunOptions,
        journal: Journal | None = None,
        *,
        pending: PendingRule = awaiting_effect,
        earlier: EarlierRuns | None = None,
    ) -> None:
        self.prepared = prepared
        self.options = options
        self._owns_journal = journal is None
        self.journal = journal if journal is not None else Journal(options.journal)
        self.info = prepared.info
        self._t0 = time.monotonic()
        self._pending_rule = pending
        self._earlier = earlier
        # By id, for the accepted ones: a streamed run's columns find theirs as they are made.
        events = prepared.events
        self._find: Callable[[str], Event | None] = (
            events.find if isinstance(events, EventColumns) else {ev.id: ev for ev in events}.get
        )
        self._tampered = frozenset(prepared.info.settings.get("tampered") or ())
        # Why the run stopped sending before its schedule ended (the target gone), if it did.
        self.gone: str | None = None
        self._accepted = _Accepted(events)  # genuine deliveries answered 2xx
        self._first_sent: dict[str, float] = {}  # event id -> its earliest delivery's send
        self._effects: list[Effect] = []  # this run's, until its final state is taken
        self._pending_for: tuple[int, int] = (-1, -1)  # (accepted, effects) when last asked
        self._pending: frozenset[str] = frozenset()
        self._final = False  # its final state is taken: effects from now on are late
        scenario = prepared.scenario
        several = len(scenario.downstreams) > 1
        # A clean run starts from an empty store, whatever the runs around it carry.
        clean = self._clean = "baseline_of" in prepared.info.settings
        carried = None if clean else options.carried
        self._doubles = [
            Downstream(
                spec,
                on_effect=self._effect,
                clock=self.clock,
                attribute=prepared.correlation.for_downstream(spec.name),
                effect_prefix=f"eff_{spec.name}_" if several else "eff_",
                faults=prepared.faults,
                seed=options.seed,
                on_mark=self.mark,
                time_scale=prepared.time_scale,
                carried=carried,
            )
            for spec in scenario.downstreams
        ]
        self._busy_at: float | None = None  # the target's last activity settling saw
        self._stopped = False
        self._flusher: asyncio.Task[None] | None = None
        self._sampler: asyncio.Task[None] | None = None
        self._lag: asyncio.Task[None] | None = None

    def clock(self) -> float:
        return time.monotonic() - self._t0

    @property
    def doubles(self) -> Sequence[Downstream]:
        """The run's downstream doubles, started in ``start``."""
        return self._doubles

    def restart_clock(self) -> float:
        """The run's time 0 is now, as the sending starts, after the doubles have started: the
        schedule and the fault windows (both on this clock) begin together. Returns 0.0, the
        schedule's origin."""
        self._t0 = time.monotonic()
        return 0.0

    def emit(self, event: EngineEvent) -> None:
        for listener in self.options.listeners:
            listener(event)

    async def start(self) -> list[str]:
        """Write the run's events to the journal and start the doubles; their base URLs.

        The first double listens on the options' port, the next ones on the following ports;
        a downstream that names its own port listens there (unless the options ask for free
        ports, port 0).
        """
        self.info = replace(self.prepared.info, started_at=now_iso())
        called = self._earlier.called if self._earlier is not None else None
        if called is not None:
            scenario, calls = called
            before = {CALLED_BEFORE: {"scenario": scenario, "calls": calls}}
            self.info = replace(self.info, settings={**self.info.settings, **before})
        self.journal.begin(self.info, self.prepared.events, self.prepared.faults)
        host, port = self.options.downstream_host, self.options.downstream_port
        # Loopback, unless the user said --listen-beyond-loopback (RunOptions checked it).
        urls = [
            await d.start(
                host,
                (spec.port or port + i) if port else 0,
                allow_non_loopback=self.options.listen_beyond_loopback,
            )
            for i, (d, spec) in enumerate(
                zip(self._doubles, self.prepared.scenario.downstreams, strict=True)
            )
        ]
        plan = self.prepared.plan
        planned = plan.count if plan is not None else len(self.prepared.schedule)
        self.emit(RunStarted(self.info, planned, urls[0] if urls else ""))
        self._flusher = asyncio.create_task(self._flush_every_second(asyncio.current_task()))
        if self.options.memory is not None:
            self._sampler = asyncio.create_task(sample(self.options.memory, self.mark))
        memory = self.options.memory
        self._lag = asyncio.create_task(
            watch_lag(
                self.clock,
                self.mark,
                busy=self.options.target.in_process,
                target_pid=memory.pid if memory is not None else None,
            )
        )
        return urls

    async def _flush_every_second(self, run: asyncio.Task[object] | None) -> None:
        """Write what is buffered even while nothing new arrives (a run settling, a slow
        schedule), so a killed run's .db holds what was recorded up to about a second ago.
        A journal that can no longer be written (a full disk: ``journal.failed``, wherever the
        write was tried) stops the run within a second: nothing is sent that is not kept."""
        while self.journal.failed is None:
            await asyncio.sleep(CHECKPOINT_EVERY)
            with contextlib.suppress(OutputError):
                self.journal.flush()
        if run is not None:
            run.cancel()

    def made(self, batch: EventBatch, first: int, end: int) -> None:
        """A streamed run made events ``first`` to ``end - 1`` of ``batch`` (``_feed``):
        journal them."""
        event, texts, write = batch.event, batch.texts, self.journal.event
        for n in range(first, end):
            write(event(n), texts[n])

    def delivery(self, d: Delivery) -> None:
        sent = self._first_sent.get(d.event_id)
        if (sent is None or d.sent_at < sent) and may_start_work(d.id, d.outcome, self._tampered):
            self._first_sent[d.event_id] = d.sent_at  # answers come back in any order
        if d.outcome is Outcome.OK and d.id not in self._tampered:
            event = self._find(d.event_id)
            if event is not None:
                self._accepted.add(event)
        self.journal.delivery(d)
        self.emit(DeliveryDone(d))

    def pending(self) -> frozenset[str]:
        """The accepted events still waiting for their effects, by the ``pending`` rule: a
        genuine delivery of theirs was answered 2xx, and the effects so far do not cover them."""
        now = (len(self._accepted), len(self._effects))
        if now != self._pending_for:  # nothing new arrived: the answer is the same
            found = self._pending_rule(
                self._accepted.events(), tuple(self._effects), self._first_sent
            )
            self._pending_for, self._pending = now, frozenset(found)
        return self._pending

    def mark(self, name: str, detail: str = "") -> None:
        """A named moment of the run (e.g. a Locust worker's share), kept in the History."""
        self.journal.mark(self.clock(), name, detail)

    def interrupted(self) -> None:
        """Mark that the user stopped the run (Ctrl-C, SIGTERM), now, with the wait settling
        gives work not yet done and whether a call was still open: what the run could not see
        (``invariants._stopped``)."""
        quiet = self.prepared.settle.quiet
        detail = {
            "quiet": quiet,
            "wait": self.options.settle_pending or quiet * PENDING_QUIET,
            "held": any(d.in_flight for d in self._doubles),
        }
        self.mark(INTERRUPTED_MARK, json.dumps(detail))

    def _effect(self, e: Effect) -> None:
        earlier = self._earlier
        if earlier is not None and not e.event_ids and e.key is None:
            claimed = earlier.claim(e, self._t0, self.info.tracer_tag)
            if claimed is not None:
                self.journal.late_effect(*claimed)
                return
        if self._final:
            self.journal.late_effect(self.info.run_id, e)
            return
        self._effects.append(e)
        self.journal.effect(e)
        self.emit(EffectRecorded(e))

    async def settle(self) -> Settled:
        """Wait, counting from the end of the last fault window, until the target has made no
        call and held none open for ``settle.quiet`` real seconds and no accepted event is
        pending, or for twice that while some are, at most ``settle.deadline`` seconds
        (``_settle``); keep how it ended as a ``settled`` mark.

        Automations that ack first and work later (queues, n8n, Zapier) keep producing effects
        after the last delivery was answered; judging before they are done would report false
        losses. After an outage they retry: the run watches them recover once it is over.
        """
        settle = self.prepared.settle
        self.emit(Settling(settle.quiet, settle.deadline))
        closes = max((f.end for f in self.prepared.faults), default=0.0)
        if (still_open := closes - self.clock()) > 0:
            await asyncio.sleep(still_open)
        began = self.clock()
        settled = await wait_quiet(
            self.clock,
            self._doubles,
            settle,
            self.pending,
            pending_quiet=self.options.settle_pending,
        )
        # Its last call or held answer: quiet since then, unless it ended at the deadline.
        self._busy_at = began + settled.waited - settled.idle
        self.mark(SETTLED_MARK, settled.detail())
        return settled

    async def stop(self, status: str, *, drain: bool = False) -> None:
        """Stop the doubles and close the run in the journal as ``complete`` or ``aborted``.

        A complete run first takes its final state (``snapshot``); what the doubles receive
        after it is this run's late effects, kept but never judged. ``drain``: before stopping
        the doubles, wait until the target has been quiet for the settle quiet (at most the
        settle deadline), so that the next run starts on a quiet target; the quiet settling
        already saw counts (from the target's last call or held answer it saw), so a run that
        settled quiet and heard nothing since stops at once, one stopped at the deadline while
        the target worked waits a whole quiet.
        """
        if self._stopped:
            return
        self._stopped = True
        if self._flusher is not None:
            self._flusher.cancel()
        if self._sampler is not None:
            self._sampler.cancel()
        if self._lag is not None:
            self._lag.cancel()
        try:
            try:
                if status == "complete":
                    carries = self._earlier.carries if self._earlier is not None else None
                    await snapshot(self.journal, self._doubles, self.prepared, self.mark, carries)
            finally:
                self._final = True
                # A scenario's run, not its clean run: the advice a later one gets names it.
                if self._effects and self._earlier is not None and not self._clean:
                    self._earlier.called = (self.info.scenario, len(self._effects))
                self._effects = []  # only settling needed them
                # Ended first, at its end: the rest of a plan cut short takes seconds to plan
                # (10M events: 25 CPU-s), and a second Ctrl-C or a kill then leaves it ended.
                try:
                    self.journal.end(status, self.clock())
                finally:
                    self._described()
            spec = self.prepared.correlation.spec
            # A replay sent exactly as recorded is not: its ids are every such run's.
            if self._earlier is not None and (spec.rewrite or spec.ids):
                # Attributed as this run attributes: tracer tokens, or the ids it sent.
                self._earlier.add(
                    self.info.run_id,
                    self.prepared.tracer.tag,
                    self.prepared.correlation.attribute_text,
                    self._t0,
                    tokens=bool(spec.rewrite),
                )
            if drain and status == "complete":
                await wait_quiet(
                    self.clock, self._doubles, self.prepared.settle, since=self._busy_at
                )
        finally:
            try:
                for d in self._doubles:
                    await d.stop()
            finally:
                self.journal.flush()  # the late effects too, before the run is read back
                if self._owns_journal:
                    self.journal.close()

    def _described(self) -> None:
        """What a streamed run knows only once sent, in its settings, as a run prepared whole
        has it from the start: a schedule planned as it was sent, planned to its end (a run
        cut short too, without sending) and counted; a recording's ids the tracer changed and
        those it left as recorded, and the document numbers followed (of the events made)."""
        prepared, found = self.prepared, {}
        if prepared.plan is not None:
            found[PLANNED] = prepared.plan.finish()
        feed = prepared.feed
        if feed is not None:
            if feed.described is not None:
                found.update(feed.described())
            found.update(prepared.correlation.settings())
        if found:
            self.info = replace(self.info, settings={**self.info.settings, **found})
            self.journal.describe(self.info)

    def judge(self) -> RunResult:
        """Read the run back from the journal and judge it. Raises TargetUnreachableError when
        no delivery reached the target: there is nothing to judge."""
        history = _history.load(self.journal.path, self.info.run_id)
        raise_if_unreachable(history, self.options.target)
        verdicts = tuple(judge(history))
        self.emit(RunFinished(history, verdicts))
        return RunResult(history, verdicts)


class _Accepted:
    """A run's accepted events (a genuine delivery of theirs answered 2xx). A streamed run's
    hold one byte per event made, not one Event each: settling, the only reader, asks once
    the target has been quiet, and gets the Events made again from the columns."""

    def __init__(self, events: Sequence[Event]) -> None:
        self._columns = events if isinstance(events, EventColumns) else None
        self._by_id: dict[str, Event] = {}
        self._flags = bytearray()  # per seq of a streamed run: 1 once accepted
        self._count = 0

    def add(self, ev: Event) -> None:
        if self._columns is None:
            self._by_id.setdefault(ev.id, ev)
            return
        flags = self._flags
        if ev.seq >= len(flags):
            flags.extend(bytes(max(ev.seq + 1 - len(flags), 4096)))
        if not flags[ev.seq]:
            flags[ev.seq] = 1
            self._count += 1

    def __len__(self) -> int:
        return len(self._by_id) if self._columns is None else self._count

    def events(self) -> Sequence[Event]:
        """The accepted events (a streamed run's in seq order, each made as it is read; else
        in the order accepted)."""
        if self._columns is None:
            return tuple(self._by_id.values())
        seqs = array("q", (seq for seq, flag in enumerate(self._flags) if flag))
        return self._columns.subset(seqs)


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
