"""A recording's clean run streamed: its events traced, given their bodies and journaled as
the Deliverer reaches them (``_feed.Feed``), not all of them before its first delivery.

A recording's run is prepared whole, and so was its clean run, which is driven first: a
100,000-event export was traced twice, under two tags, and the clean run's events journaled,
before anything was sent. The clean run sends its events one at a time, each once the target
has finished the one before (``_pace``), and nothing judges its loop's time, so making its
events as it goes costs no verdict anything (a perturbed run's would: making GitHub's events
during the run made ack_within inconclusive, benchmarks/README). Its events are read and
checked before anything is sent, as ever (the run's prepare did it already: the clean run
takes its events, ``_formats/_shared``); only their tracing moves.

What streams: a recording without an explicit schedule, correlation rules (they index every
payload), tracer ``paths``, drift, ``simultaneous`` or ``replay``, or a batching provider.
The ids its tracer leaves as recorded are indexed as its events are made
(``Correlation(growing=True)``); the ids it changed, for the report, are known once they are
(``Feed.described``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from itertools import islice
from typing import Any

from ..core._model import Event
from ..core._scenario import RecordedSource, Scenario, TracerSpec
from ..drive._drift import is_drift
from ..drive._formats._shared import let_go
from ..drive._perturb import WHOLE_PLAN
from ..drive._record_marks import record_marks
from ..drive._replay import ORIGINALS_KEPT, replay_base, with_originals
from ..drive._sources import Stream, load_stream
from ..drive._tracer import Tracer, traced
from ._feed import Feed

# Events traced at a time: a synthetic batch's size (``_synthetic_text``).
BATCH = 256


def streams(scenario: Scenario, tracing: TracerSpec) -> bool:
    """Can ``scenario``'s recording be traced as it is sent (the module's docstring)?"""
    if type(scenario.source) is not RecordedSource or scenario.schedule is not None:
        return False
    if scenario.correlate or tracing.paths:
        return False
    provider = scenario.delivery.provider
    if provider is not None and provider.max_batch > 1:
        return False
    # Planned from the events as read: by their times, never by their keys (``simultaneous``
    # groups records by them; its clean run has no perturbation at all).
    return not any(is_drift(p) or p.kind in WHOLE_PLAN for p in scenario.perturbations)


def recorded_feed(
    scenario: Scenario,
    seed: int,
    tag: str,
    tracing: TracerSpec,
    body: Callable[[str], bytes],
    keep_reads: bool,
) -> tuple[Feed, Stream, Sequence[Event]]:
    """The Feed of a recording that ``streams`` (none of its events traced yet), its stream
    without its events, and its events as read (what the run's plan is made of)."""
    assert isinstance(scenario.source, RecordedSource)
    stream = load_stream(scenario.source, seed, tag)
    if not keep_reads:  # the events hold what they need of it
        let_go()
    events = stream.events
    # A rewritten recording's record-level emails, over every event, as a whole run marks them.
    marks = record_marks(events) if tracing.rewrite else None
    base = replay_base(scenario.source, tracing, events)
    changed: dict[str, str] = {}  # sent id -> recorded id, ORIGINALS_KEPT + 1 at most

    def batches() -> Iterator[list[tuple[Event, str | None]]]:
        made = traced(events, tag, tracing, marks)
        for start in range(0, len(events), BATCH):
            batch = list(islice(made, BATCH))
            if len(changed) <= ORIGINALS_KEPT:
                for recorded, sent in zip(events[start : start + BATCH], batch, strict=True):
                    if sent.id != recorded.id:
                        changed[sent.id] = recorded.id
            yield [(ev, None) for ev in batch]  # None: the body laid out from the text

    def described() -> dict[str, Any]:
        return with_originals(base, changed)

    types = frozenset(ev.type for ev in events)
    tracer = Tracer(tag, columns=True)
    feed = Feed(batches(), len(events), types, tracer, body, described)
    return feed, replace(stream, events=()), events
