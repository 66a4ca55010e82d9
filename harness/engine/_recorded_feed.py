"""A recording's events traced after its run's checks: its clean run's as they are sent, its
run's once its clean run is done — not both before the first delivery.

A recording's run and its clean run were each prepared whole before the clean run's first
delivery: a 100,000-event export traced twice, under two tags, the bodies written and the
clean run's events journaled, about 10 CPU-s. Now the events are read and checked as before
(the run's prepare: every line, before anything is sent; the clean run takes the same events,
``_formats/_shared``), and only their tracing moves:

* the clean run, driven first, traces its events a batch at a time as the Deliverer reaches
  them (``feed``: a ``_feed.Feed``), journaling them as they are made. It sends one event at
  a time, each once the target has finished the one before (``_pace``), and nothing judges its
  loop's time;
* the run is traced whole (``whole``), as it always was, once its clean run is done
  (``_prepare.traced_whole``, as it is driven): the perturbed run's loop does no more work
  than before (making events during a perturbed run costs its loop time, which ack_within
  judges: benchmarks/README, "sources with number ids streamed — tried and reverted").

What is put off so: a recording without an explicit schedule, correlation rules (they index
every payload), tracer ``paths``, drift, ``simultaneous`` or ``replay``, or a batching
provider: nothing in the rest of its preparation reads a traced event (its plan reads the
events' times, which tracing keeps). A streamed clean run's ids left as recorded are indexed
as its events are made (``Correlation(growing=True)``); the ids it changed, for the report,
are known once they are (``Feed.described``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import islice
from typing import Any

from ..core._model import Event
from ..core._scenario import RecordedSource, Scenario, TracerSpec
from ..core._text_event import as_text
from ..drive._drift import is_drift
from ..drive._formats._shared import let_go
from ..drive._perturb import WHOLE_PLAN
from ..drive._record_marks import record_marks
from ..drive._replay import ORIGINALS_KEPT, replay_base, replay_settings, with_originals
from ..drive._sources import load_stream
from ..drive._tracer import Tracer, traced
from ._feed import Feed

# Events traced at a time as they are sent: a synthetic batch's size (``_synthetic_text``).
BATCH = 256


def put_off(scenario: Scenario, tracing: TracerSpec) -> bool:
    """Can ``scenario``'s recording be traced after its checks (the module's docstring)?"""
    if type(scenario.source) is not RecordedSource or scenario.schedule is not None:
        return False
    if scenario.correlate or tracing.paths:
        return False
    provider = scenario.delivery.provider
    if provider is not None and provider.max_batch > 1:
        return False
    # Planned from the events as read: by their times, never by their keys (``simultaneous``
    # groups records by them; a clean run has no perturbation at all).
    return not any(is_drift(p) or p.kind in WHOLE_PLAN for p in scenario.perturbations)


class RecordedEvents:
    """A recording's events read and checked (``put_off``), to be traced under ``tag``."""

    def __init__(
        self, scenario: Scenario, seed: int, tag: str, tracing: TracerSpec, keep_reads: bool
    ) -> None:
        source = scenario.source
        assert isinstance(source, RecordedSource)
        stream = load_stream(source, seed, tag)
        if not keep_reads:  # the events hold what they need of it
            let_go()
        self.events = stream.events
        self.stream = replace(stream, events=())  # its redeliveries, its order
        self.types = frozenset(ev.type for ev in self.events)
        self._source = source
        self._tag = tag
        self._tracing = tracing
        # A rewritten recording's record-level emails, over every event, as a whole run's.
        self._marks = record_marks(self.events) if tracing.rewrite else None
        # Its replay before the ids the tracer changes are known (``described``).
        self.replayed = replay_base(source, tracing, self.events)
        self._changed: dict[str, str] = {}  # sent id -> recorded id, ORIGINALS_KEPT + 1 at most

    def _taken(self) -> tuple[Event, ...]:
        """The events, let go here: once traced, whoever still holds this (a run prepared
        before its tracing, its clean run's Feed) holds none of them."""
        events, self.events = self.events, ()
        if not events and self.types:
            raise RuntimeError("a recording's events are traced once: prepare the run again")
        return events

    def whole(self) -> tuple[Tracer, dict[str, Any]]:
        """The events traced, held as the text of their bodies and journal rows (as a run
        prepared whole holds them), and how the recording was replayed. Once only."""
        events = self._taken()
        made = traced(events, self._tag, self._tracing, self._marks)
        tracer = Tracer(self._tag, map(as_text, made))
        return tracer, replay_settings(self._source, self._tracing, events, tracer.events)

    def feed(self, body: Callable[[str], bytes]) -> Feed:
        """The events traced a batch at a time as they are sent, their bodies ``body``."""
        tracer = Tracer(self._tag, columns=True)
        return Feed(self._batches(), len(self.events), self.types, tracer, body, self.described)

    def _batches(self) -> Iterator[list[tuple[Event, str | None]]]:
        events, changed = self._taken(), self._changed
        made = traced(events, self._tag, self._tracing, self._marks)
        for start in range(0, len(events), BATCH):
            batch = list(islice(made, BATCH))
            if len(changed) <= ORIGINALS_KEPT:
                for recorded, sent in zip(events[start : start + BATCH], batch, strict=True):
                    if sent.id != recorded.id:
                        changed[sent.id] = recorded.id
            yield [(ev, None) for ev in batch]  # None: the body laid out from the text

    def described(self) -> dict[str, Any]:
        """How the recording was replayed, with the ids the tracer changed of those made."""
        return with_originals(self.replayed, self._changed)
