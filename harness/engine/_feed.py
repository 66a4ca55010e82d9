"""A streamed run's events: made, traced and given their bodies as the deliveries reach them.

``prepare(stream=True)`` plans such a run from its events' times alone (a synthetic source's
times cost nothing to compute), where it can as it is sent (``drive/_plan_stream``), and leaves
the events to a Feed. As the Deliverer pulls a few slots at a time (planning them then, handed
over as columns: ``drive/_slots``), the Feed makes the events up to the ones they send and a
little ahead (source, tracer, body; the source draws them, writes
them and the tracer indexes them 256 at a time, as columns: ``drive/_event_batch``, no Event
object each), hands them to the Recorder (its journal rows, its index of accepted events) and
to the run's Tracer (attribution), and lets an event go once its last slot has been sent: a
run holds the events in flight, the schedule, and a payload-less copy of each event made (what
attribution, settling and learning expectations read), never all payloads and bodies at once.

What streams: a synthetic source without an explicit schedule, traced in full, without drift,
``simultaneous`` or ``replay`` (they place a slot by the whole schedule), correlation rules
(they index every payload) or a batching provider; its event ids and keys are not numbers
(a number the payload also holds stays as recorded, which only the whole set of events
tells). Everything else is prepared whole, as before — but for a recording, whose clean
run streams where it can and whose run is traced once its clean run is done
(``_recorded_feed``).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..core import _paths
from ..core._model import Event
from ..core._scenario import Scenario, SyntheticSource, TracerSpec
from ..drive._drift import is_drift
from ..drive._event_batch import EventBatch
from ..drive._perturb import WHOLE_PLAN
from ..drive._plan_stream import PlanStream
from ..drive._schedule import Mark
from ..drive._slots import Held, Slots
from ..drive._tracer import Tracer

# Events made, seen before any of them is sent (the Recorder journals them): ``(batch, i, j)``,
# events i to j - 1 of the batch.
Made = Callable[[EventBatch, int, int], None]

# How far ahead of the slot being sent events are made: the slots due within AHEAD seconds
# (run clock) of it, at most AHEAD_SLOTS of them (a burst's worth, as bench_burst's).
AHEAD = 1.0
AHEAD_SLOTS = 2000
# At most how many slots the Deliverer is given at once (its next ones' events are made once it
# has started them all: at most this many, about 3 ms of them); the plan is asked for blocks of
# _FIRST_BLOCK slots, doubled up to CHUNK (a slow run plans few ahead of its first delivery).
CHUNK = 256
_FIRST_BLOCK = 16
_NEVER = math.inf


def streamable(scenario: Scenario, tracing: TracerSpec) -> bool:
    """Can ``scenario``'s events be made as they are sent (the module's docstring)?"""
    source = scenario.source
    if type(source) is not SyntheticSource or scenario.schedule is not None:
        return False
    if scenario.correlate or not tracing.rewrite or tracing.paths:
        return False
    provider = scenario.delivery.provider
    if provider is not None and provider.max_batch > 1:
        return False
    if any(is_drift(p) or p.kind in WHOLE_PLAN for p in scenario.perturbations):
        return False
    return not any(
        _numeric(_paths.get(source.example, _paths.parse(path), None))
        for path in (source.id_path, source.key_path)
        if path
    )


def _numeric(value: object) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, str) and value.isdigit()
    )


class Feed:
    """The events of one streamed run, in seq order, made once (``sends``)."""

    def __init__(
        self,
        made: Iterator[EventBatch | list[tuple[Event, str | None]]],
        count: int,
        types: frozenset[str],
        tracer: Tracer,
        body: Callable[[str], bytes],
        described: Callable[[], Mapping[str, Any]] | None = None,
    ):
        # Traced events, a batch at a time, each with its payload's text laid out as its body
        # is (None: laid out by ``body``, ``Provider.body``, from its payload's text).
        self._made = made
        self._body = body
        self.count = count
        self.types = types
        self.tracer = tracer
        # The run's settings known once its events are made (a recording's: the ids the
        # tracer changed), which the Recorder adds as the run stops.
        self.described = described
        self._taken = False

    def sends(self, plan: PlanStream, on_made: Made) -> Iterator[Slots]:
        """The slots of ``plan`` in order, a few at a time, each with its event's body, id,
        type and headers, making the events they reach; ``on_made`` sees every event once, in
        seq order, before any send of it (``on_made(b, i, j)``: events ``i`` to ``j - 1`` of
        batch ``b``). Before slots from slot n on are given, the events of the slots due within
        AHEAD seconds of slot n (at most AHEAD_SLOTS slots) are made: while the Deliverer waits
        for their time, not in a burst; those given are due within half of it, at most CHUNK
        of them, so that the next ones' events are made while the Deliverer waits too. Once
        only."""
        if self._taken:
            raise RuntimeError("a streamed run's events are made once: prepare it again")
        self._taken = True
        # Each event of the batches made and not yet sent in full, by seq: its body, id,
        # type and headers.
        window: dict[int, Held] = {}
        batches = self._batches(window)
        batch: EventBatch | None = None
        end = 0  # the seq after the last batch's
        made = 0  # events made: seqs below it
        # Slots planned and not yet given, as columns, from ``pos`` on: slot ``n`` is at pos.
        ats: list[float] = []
        events: list[int] = []
        copies: list[int] = []
        marks: list[Mark] = []
        pos = n = 0
        seen = needed = 0  # the slots before ``seen`` need the events before ``needed`` made
        block = _FIRST_BLOCK  # slots planned at a time, doubled up to CHUNK while they are due
        exhausted = False
        while True:
            if pos >= CHUNK:  # the given ones let go
                del ats[:pos], events[:pos], copies[:pos], marks[:pos]
                seen -= pos
                pos = 0
            # Planned up to the first slot past the horizon (or AHEAD_SLOTS of them).
            horizon = ats[pos] + AHEAD if pos < len(ats) else _NEVER
            while not exhausted and (
                pos == len(ats) or (ats[-1] <= horizon and len(ats) - pos < AHEAD_SLOTS)
            ):
                at, event, copy, mark = plan.rows(block)
                exhausted = len(at) < block
                ats += at
                events += event
                copies += copy
                marks += mark
                block = min(2 * block, CHUNK)
                horizon = ats[pos] + AHEAD if pos < len(ats) else _NEVER
            if pos == len(ats):
                break
            # The events of the slots within the horizon made, up to the last one's.
            soon = bisect_right(ats, horizon, pos, min(len(ats), pos + AHEAD_SLOTS))
            if soon > seen:  # each slot's event looked at once: the horizon only moves on
                needed = max(needed, max(events[seen:soon]) + 1)
                seen = soon
            while made < needed:
                if made == end:
                    batch = next(batches)
                    end = batch.start + len(batch)
                assert batch is not None
                upto = min(end, needed)
                on_made(batch, made - batch.start, upto - batch.start)
                made = upto
            # Given: those due within half the horizon, the first at least.
            given = max(
                pos + 1, bisect_right(ats, ats[pos] + AHEAD / 2, pos, min(soon, pos + CHUNK))
            )
            seqs = events[pos:given]
            slots = Slots(
                n,
                ats[pos:given],
                seqs,
                copies[pos:given],
                marks[pos:given],
                list(map(window.__getitem__, seqs)),
            )
            for seq in plan.given(seqs):
                del window[seq]
            n += given - pos
            pos = given
            yield slots
        # Events no slot sends still belong to the run.
        if batch is not None and made < end:
            on_made(batch, made - batch.start, len(batch))
        for rest in batches:
            on_made(rest, 0, len(rest))

    def _batches(self, window: dict[int, Held]) -> Iterator[EventBatch]:
        """Each batch of events made: traced (held payload-less, as columns), its events'
        bodies, ids, types and headers put in ``window``."""
        body = self._body
        for made in self._made:
            batch = made if isinstance(made, EventBatch) else EventBatch.of(made)
            self.tracer.extend_made(batch)
            laid, texts = batch.laid, batch.texts
            if None in laid:
                bodies = [
                    body(t) if s is None else s.encode() for t, s in zip(texts, laid, strict=True)
                ]
            else:
                bodies = [s.encode() for s in laid]  # type: ignore[union-attr]
            own = [dict(h) for h in batch.headers] if batch.headers else [{} for _ in texts]
            held = zip(bodies, batch.ids, batch.types, own, strict=True)
            window.update(zip(batch.seqs, held, strict=True))
            yield batch
