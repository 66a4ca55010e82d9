"""Events prepared as a stream (issue #16 goal 2): a streamed run makes its events as they are
sent, yet it is the same run — the golden hashes of ``test_prepare_golden``, the same RunInfo,
the same journal rows — and its first delivery comes before its last event is made."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from harness.core._model import Event
from harness.core._providers import Provider, provider
from harness.core._scenario import DeliverySpec, Perturbation, Scenario
from harness.core._text_event import payload_json
from harness.drive._event_batch import EventBatch
from harness.drive._schedule import Schedule
from harness.drive._slots import Planned, Slots
from harness.drive._tracer import Tracer
from harness.engine import Recorder, RunOptions, run_scenarios
from harness.engine._feed import AHEAD, AHEAD_SLOTS, CHUNK, streamable
from harness.engine._prepare import PreparedRun, prepare, tracing_of
from harness.history import SCHEMA_VERSION, Journal, load
from harness.history import _chunks as chunks
from harness.scenario._load import resolve

from .conftest import SECRET
from .test_expected_runs import forwarder_options
from .test_prepare_golden import (
    LIBRARY,
    SHAPES,
    TAG,
    digest_of,
    library_scenario,
    options_for,
    shaped,
)
from .test_settle import answered

# Library payloads whose ids or keys are numbers are prepared whole (``_feed.streamable``).
WHOLE = {"github:issues", "github:pull_request", "github:push", "shopify:orders/create"}
WHOLE |= {"shopify:orders/updated", "hubspot:contact.propertyChange"}
STREAMED_SHAPES = ("burst", "duplicate", "reorder", "tamper")


class Drained:
    """A streamed run's feed drained without sending: what it made and sent, in order."""

    def __init__(self, run: PreparedRun) -> None:
        assert run.feed is not None
        self.made: list[Event] = []
        self.payloads: list[str] = []
        self.log: list[str] = []
        self.sent: list[Planned] = []
        for slots in run.feed.sends(run.slots(), self.on_event):
            for planned in slots.rows():
                self.log.append("send")
                self.sent.append(planned)

    def on_event(self, batch: EventBatch, first: int, end: int) -> None:
        for ev in batch.events(first, end):
            self.log.append("made")
            self.made.append(ev)
            self.payloads.append(payload_json(ev))

    def as_whole(self, run: PreparedRun) -> PreparedRun:
        """``run`` as if prepared whole: its events, schedule and bodies, from what the feed
        made and gave."""
        bodies = {p.slot.event: p.body for p in self.sent}
        return replace(
            run,
            tracer=Tracer(run.tracer.tag, self.made),
            schedule=self.schedule(),
            bodies=tuple(bodies[n] for n in range(len(self.made))),
        )

    def schedule(self) -> Schedule:
        """The slots the feed gave, in order, as a schedule."""
        return Schedule.of(p.slot for p in self.sent)


def _streamed(scenario: Any, seed: int, tmp_path: Path) -> tuple[PreparedRun, Drained]:
    run = prepare(scenario, options_for(seed, tmp_path), tag=TAG, stream=True)
    return run, Drained(run)


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_library_sources_stream_as_they_prepare_whole(name: str, tmp_path: Path) -> None:
    scenario = library_scenario(name)
    assert streamable(scenario, tracing_of(scenario)) is (name not in WHOLE)
    run = prepare(scenario, options_for(3, tmp_path), tag=TAG, stream=True)
    if name in WHOLE:
        assert run.feed is None and digest_of(run) == LIBRARY[name]
        return
    drained = Drained(run)
    whole = prepare(scenario, options_for(3, tmp_path), tag=TAG)
    assert digest_of(drained.as_whole(run)) == LIBRARY[name]
    # Planned as it was sent: counted once planned to its end, as the Recorder does then, and
    # the document numbers followed counted once the events are made.
    assert run.plan is not None and run.info.settings["planned_deliveries"] is None
    planned = run.plan.finish()
    counted = {**run.info.settings, "planned_deliveries": planned, **run.correlation.settings()}
    assert replace(run.info, started_at="", settings=counted) == replace(whole.info, started_at="")
    given = drained.schedule()
    assert given == whole.schedule and given.attempts == whole.attempts
    assert not run.schedule  # each slot planned as it was given, none held
    # What attribution, settling and learning read: every event, without its payload.
    assert [(e.id, e.key, e.seq, e.type, e.occurred_at) for e in run.events] == [
        (e.id, e.key, e.seq, e.type, e.occurred_at) for e in whole.events
    ]
    assert all(e.payload is None for e in run.events)
    assert run.event_types == whole.event_types
    for planned in drained.sent:
        ev = whole.events[planned.slot.event]
        assert (planned.body, planned.event_id, planned.event_type) == (
            whole.bodies[ev.seq],
            ev.id,
            ev.type,
        )


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_perturbations_stream_as_they_plan_whole(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Those that place a slot by the whole plan (and drift, and a recording) stay whole."""
    monkeypatch.setenv("HARNESS_SECRET", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    scenario = shaped(kind, tmp_path)
    run = prepare(scenario, options_for(11, tmp_path), tag=TAG, stream=True)
    if kind not in STREAMED_SHAPES:
        assert run.feed is None and digest_of(run) == SHAPES[kind]
        return
    assert digest_of(Drained(run).as_whole(run)) == SHAPES[kind]


def test_the_first_delivery_comes_before_the_last_event_is_made(tmp_path: Path) -> None:
    """Once the events of the first AHEAD seconds are made: 101 of 1,324 here (0 to 1 s)."""
    scenario = library_scenario("stripe:payment_intent.succeeded")
    _, drained = _streamed(scenario, 3, tmp_path)
    given = drained.schedule()
    soon = [s.event for s in given if s.at <= given[0].at + AHEAD]
    assert drained.log.index("send") == max(soon) + 1 == 101
    assert drained.log.count("made") == len(drained.made) == scenario.source.events


def test_events_are_made_ahead_of_their_slot_and_let_go_after_their_last(
    tmp_path: Path,
) -> None:
    """A burst's events are ready before it starts; at most AHEAD_SLOTS slots ahead."""
    source = replace(library_scenario("stripe:invoice.paid").source, events=3000, over=3.0)
    burst = Perturbation("burst", {"within": 0.0, "count": 2500})
    scenario = replace(library_scenario("stripe:invoice.paid"), source=source)
    _, drained = _streamed(replace(scenario, perturbations=(burst,)), 3, tmp_path)
    assert drained.log.index("send") == AHEAD_SLOTS  # the burst's first 2,000, then the rest
    before_each = [
        drained.log[: i + 1].count("made") for i, x in enumerate(drained.log) if x == "send"
    ]
    assert all(made <= n + AHEAD_SLOTS for n, made in enumerate(before_each))


def test_slots_are_given_as_columns_a_few_at_a_time(tmp_path: Path) -> None:
    """The Deliverer is handed columns, not a Slot and a Planned a slot: the slots due within
    half of AHEAD of the first given, at most CHUNK (a burst's, CHUNK at a time), numbered on
    from the slots before."""
    scenario = library_scenario("stripe:payment_intent.succeeded")  # 100 events a second
    run = prepare(scenario, options_for(3, tmp_path), tag=TAG, stream=True)
    assert run.feed is not None and run.plan is not None
    given = list(run.feed.sends(run.slots(), lambda *_: None))
    assert all(type(g) is Slots for g in given)
    assert sum(map(len, given)) == run.plan.planned == run.plan.finish()
    assert [g.first for g in given] == [sum(map(len, given[:k])) for k in range(len(given))]
    for g in given[:-1]:
        assert 0 < len(g) <= CHUNK and g.at[-1] <= g.at[0] + AHEAD / 2
        assert all(type(at) is float for at in g.at)
    assert len(given) <= scenario.source.over / (AHEAD / 2) + 2
    source = replace(scenario.source, events=3000, over=3.0)
    burst = Perturbation("burst", {"within": 0.0, "count": 2500})
    run = prepare(
        replace(scenario, source=source, perturbations=(burst,)),
        options_for(3, tmp_path),
        stream=True,
    )
    assert run.feed is not None
    sizes = [len(g) for g in run.feed.sends(run.slots(), lambda *_: None)]
    assert sizes[: 2500 // CHUNK] == [CHUNK] * (2500 // CHUNK) and sum(sizes) == 3000


def test_a_streamed_run_is_driven_once(tmp_path: Path) -> None:
    run, _ = _streamed(library_scenario("stripe:invoice.paid"), 3, tmp_path)
    assert run.feed is not None
    with pytest.raises(RuntimeError, match="made once"):
        next(run.feed.sends(run.slots(), lambda *_: None))


@pytest.mark.parametrize("sender", ["stripe", "shopify", "standard-webhooks"])
def test_a_streamed_runs_bodies_are_laid_out_as_they_are_written_never_parsed_again(
    sender: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A streamed run's bodies are written in its sender's layout with their events' text
    (``_synthetic_text``): the bytes ``Provider.body`` lays out, in a run prepared whole, from
    the parsed text — Stripe's two-space indent, Shopify's compact UTF-8 — without it."""
    monkeypatch.setenv("HARNESS_SECRET", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    laid_out: list[str] = []
    body = Provider.body
    monkeypatch.setattr(Provider, "body", lambda p, text: laid_out.append(text) or body(p, text))
    delivery = DeliverySpec(provider=provider(sender))
    scenario = replace(library_scenario("stripe:payment_intent.succeeded"), delivery=delivery)
    run, drained = _streamed(scenario, 3, tmp_path)
    assert run.feed is not None and len(drained.sent) > len(drained.made) > 100
    assert laid_out == []  # not one body parsed and written again
    whole = prepare(scenario, options_for(3, tmp_path), tag=TAG)
    assert len(laid_out) == len(whole.events)  # each body of the whole run laid out from text
    assert [p.body for p in drained.sent] == [whole.bodies[p.slot.event] for p in drained.sent]
    first = drained.sent[0].body
    assert first.startswith(
        {"stripe": b'{\n  "id": "', "shopify": b'{"id":"'}.get(sender, b'{"id": "')
    )


def _described(info: Any) -> dict[str, Any]:
    """A RunInfo as the journal keeps it, without what differs from one preparation to the
    next: its start time, its clean run's id, the secret's fingerprint (salted afresh)."""
    found: dict[str, Any] = json.loads(info.to_json())
    found.pop("started_at")
    found["settings"].pop("baseline", None)
    found["settings"].pop("secret_fingerprint")
    return found


def _event_rows(journal: Path, run_id: str) -> list[tuple[Any, ...]]:
    """The run's events as the journal holds them, a row each (seq, id, key, type, time,
    payload text, headers text), however they were chunked."""
    with contextlib.closing(sqlite3.connect(journal)) as db:
        (run,) = db.execute("SELECT run FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return [row[1:] for row in chunks.rows(db, "events", SCHEMA_VERSION) if row[0] == run]


def rows(given: Iterator[Slots]) -> Iterator[Planned]:
    """Slot after slot of what a feed gives, as the Deliverer sends them."""
    for slots in given:
        yield from slots.rows()


def _attempts(given: list[Planned]) -> list[int]:
    """Each delivery's attempt number: 1 for its event's first, 2 for its second..."""
    counted: dict[int, int] = {}
    made: list[int] = []
    for planned in given:
        counted[planned.slot.event] = counted.get(planned.slot.event, 0) + 1
        made.append(counted[planned.slot.event])
    return made


def _storm(planned_as_sent: bool) -> Scenario:
    """duplicate-storm: its two duplicates planned whole, or its first alone, as sent."""
    scenario = resolve(["duplicate-storm"])[0]
    return (
        replace(scenario, perturbations=scenario.perturbations[:1]) if planned_as_sent else scenario
    )


@pytest.mark.integration
@pytest.mark.parametrize("planned_as_sent", [False, True], ids=["planned whole", "as sent"])
def test_a_streamed_run_journals_the_rows_a_whole_one_does(
    planned_as_sent: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Driven in full (its clean run first, streamed too): the journal's events rows of both
    runs are those ``Journal.begin`` writes for the same run prepared whole, in the same order;
    a schedule planned as it was sent has its count in the run's settings once it ends."""
    journal = tmp_path / "j.db"
    options = forwarder_options(journal, monkeypatch)
    scenario = _storm(planned_as_sent)
    assert streamable(scenario, tracing_of(scenario))
    planned = prepare(scenario, options, stream=True).plan is not None
    assert planned is planned_as_sent
    (result,) = asyncio.run(run_scenarios([scenario], options))
    history = result.history
    assert history.baseline is not None
    assert len(history.deliveries) == history.info.settings["planned_deliveries"]
    whole = prepare(scenario, options, tag=history.info.tracer_tag)
    assert _described(history.info) == _described(whole.info)
    written = tmp_path / "whole.db"
    w = Journal(written)
    w.begin(whole.info, whole.events)
    w.close()
    assert _event_rows(journal, history.info.run_id) == _event_rows(written, whole.info.run_id)
    clean = history.baseline.info
    assert len(_event_rows(journal, clean.run_id)) == scenario.source.events


def test_the_first_delivery_is_given_before_the_schedule_is_planned(tmp_path: Path) -> None:
    """100,000 events, 10 a second: the first is sent once the slots of its first AHEAD
    seconds are planned, not the 110,000 of the whole schedule."""
    scenario = library_scenario("stripe:invoice.paid")
    source = replace(scenario.source, events=100_000, over=10_000.0)
    run = prepare(replace(scenario, source=source), options_for(3, tmp_path), stream=True)
    assert run.feed is not None
    first = next(run.feed.sends(run.slots(), lambda *_: None))
    assert first.first == 0 and run.plan is not None and run.plan.planned < 20


async def test_a_run_cut_short_has_its_planned_count_in_the_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after three deliveries: its schedule is planned to its end (nothing more sent)
    and its count written, as a run planned whole has it — what `harness check` reads."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    scenario = _storm(planned_as_sent=True)
    options = RunOptions.create(
        "http://127.0.0.1:9/hooks", seed=1, downstream="127.0.0.1:0", journal=tmp_path / "j.db"
    )
    run = prepare(scenario, options, stream=True)
    assert run.feed is not None and run.info.settings["planned_deliveries"] is None
    recorder = Recorder(run, options)
    await recorder.start()
    given = list(islice(rows(run.feed.sends(run.slots(), recorder.made)), 3))
    for planned, attempt in zip(given, _attempts(given), strict=True):
        recorder.delivery(answered(planned, attempt))
    await recorder.stop("aborted")
    kept = load(tmp_path / "j.db", run.info.run_id)
    whole = prepare(scenario, options, tag=run.info.tracer_tag)
    assert len(kept.deliveries) == 3
    assert kept.info.settings["planned_deliveries"] == len(whole.schedule) == run.plan.planned
    assert Schedule.of(p.slot for p in given) == whole.schedule[:3]


async def test_a_run_cut_short_is_ended_before_the_rest_is_planned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rest of a cut-short plan takes seconds at 10M events: interrupted then (a second
    Ctrl-C), the run is ended all the same, at the time it stopped, its count left null."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    scenario = _storm(planned_as_sent=True)
    options = RunOptions.create(
        "http://127.0.0.1:9/hooks", seed=1, downstream="127.0.0.1:0", journal=tmp_path / "j.db"
    )
    run = prepare(scenario, options, stream=True)
    assert run.plan is not None
    recorder = Recorder(run, options)
    await recorder.start()
    given = list(islice(rows(run.feed.sends(run.slots(), recorder.made)), 3))
    for planned, attempt in zip(given, _attempts(given), strict=True):
        recorder.delivery(answered(planned, attempt))

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(run.plan, "finish", interrupted)
    with pytest.raises(KeyboardInterrupt):
        await recorder.stop("aborted")
    with contextlib.closing(sqlite3.connect(tmp_path / "j.db")) as db:
        (status,) = db.execute(
            "SELECT status FROM runs WHERE run_id = ?", (run.info.run_id,)
        ).fetchone()
    assert status == "aborted"
    assert load(tmp_path / "j.db", run.info.run_id).info.settings["planned_deliveries"] is None


def test_a_streamed_run_without_copies_has_its_planned_count_at_once(tmp_path: Path) -> None:
    """Planned as it is sent, without a duplicate: one slot an event, counted before the first
    is planned — what the progress line shows as its total — as the whole plan counts it."""
    scenario = replace(library_scenario("stripe:invoice.paid"), perturbations=())
    run = prepare(scenario, options_for(3, tmp_path), stream=True)
    whole = prepare(scenario, options_for(3, tmp_path), tag=run.info.tracer_tag)
    assert run.plan is not None and len(run.schedule) == 0
    assert run.info.settings["planned_deliveries"] == len(whole.schedule) == scenario.source.events
