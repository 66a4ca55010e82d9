"""A recording's clean run streamed (``engine/_recorded_feed``): its events traced, given their
bodies and journaled as they are sent, not all before its first delivery — yet the same clean
run as one prepared whole: the same bodies, ids, headers, journal rows and run settings (the
ids the tracer changed, those it left as recorded), and its effects attributed alike."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from harness.core._scenario import RecordedSource, TracerSpec
from harness.drive._replay import ORIGINALS_KEPT
from harness.engine import run_scenarios
from harness.engine._baseline import baseline_scenario, prepare_baseline
from harness.engine._feed import AHEAD_SLOTS
from harness.engine._prepare import prepare, traced_whole
from harness.history import Journal
from harness.scenario._load import resolve

from .conftest import harness
from .test_expected_runs import forwarder_options
from .test_prepare_golden import TAG, options_for
from .test_prepare_stream import Drained, _described, _event_rows
from .test_recorded_stream import _Recording

START = 1_772_366_400


def _recording(folder: Path, events: int) -> Path:
    """``events`` order.paid events as JSON Lines, newest first as an export lists them, each
    with a header of its own; three orders a customer email."""
    lines = []
    for n in range(events, 0, -1):
        payload = {
            "id": f"evt_1Pgc{n:08d}Ord",
            "type": "order.paid",
            "data": {
                "order_id": f"ord_9Hq2Lm{n:08d}",
                "customer": {"name": "Ada Lovelace", "email": f"ada{n // 3}@example.com"},
                "amount": 1000 + n,
                "currency": "usd",
                "note": "first order of the day",
            },
        }
        line = {
            "id": payload["id"],
            "key": payload["data"]["order_id"],
            "type": "order.paid",
            "occurred_at": START + n,
            "payload": payload,
            "headers": {"X-Shop-Domain": "shop.example"},
        }
        lines.append(json.dumps(line) + "\n")
    path = folder / "orders.jsonl"
    path.write_text("".join(lines))
    return path


def _storm(recording: Path, tracer: TracerSpec | None = None, *, signed: bool = False) -> Any:
    """duplicate-storm replaying ``recording`` (its events 0.01 s apart); unsigned unless
    ``signed`` (a secret's fingerprint differs from one prepare to the next)."""
    scenario = resolve(["duplicate-storm"])[0]
    source = RecordedSource(recording, over=0.01 * len(recording.read_text().splitlines()))
    delivery = scenario.delivery if signed else replace(scenario.delivery, signing="none")
    return replace(scenario, source=source, tracer=tracer or scenario.tracer, delivery=delivery)


def test_a_recordings_clean_run_sends_before_its_events_are_all_traced(tmp_path: Path) -> None:
    """The run is prepared whole, as before; its clean run, driven first, gives its first
    delivery once the events of its first slots are made (AHEAD_SLOTS: all its slots are due
    at once, one after the other): 2,000 of 3,000 events."""
    run = prepare(_storm(_recording(tmp_path, 3000)), options_for(3, tmp_path))
    assert run.feed is None  # the perturbed run: whole
    clean = prepare_baseline(run, options_for(3, tmp_path))
    assert clean.feed is not None and clean.feed.count == 3000
    drained = Drained(clean)
    first = drained.log.index("send")
    assert first == AHEAD_SLOTS < 3000
    assert len(drained.sent) == len(drained.made) == 3000
    assert [p.slot.event for p in drained.sent] == list(range(3000))  # in order, each once


@pytest.mark.parametrize(
    "tracer", [None, TracerSpec(rewrite=True)], ids=["own ids", "tracer tokens"]
)
@pytest.mark.parametrize("events", [40, ORIGINALS_KEPT + 1])
def test_a_streamed_clean_run_sends_and_describes_what_a_whole_one_does(
    tracer: TracerSpec | None, events: int, tmp_path: Path
) -> None:
    """With one tag: each delivery's body, event id, type and headers, and the run's settings
    once its events are made (the recording's original ids where there are no more than
    ORIGINALS_KEPT, the ids matched as recorded) are those of the clean run prepared whole."""
    clean = baseline_scenario(_storm(_recording(tmp_path, events), tracer))
    options = options_for(3, tmp_path)
    streamed = prepare(clean, options, tag=TAG, stream_recording=True)
    whole = prepare(clean, options, tag=TAG)
    assert streamed.feed is not None and whole.feed is None
    drained = Drained(streamed)
    sent = [(p.body, p.event_id, p.event_type, p.headers) for p in drained.sent]
    events_ = whole.events
    assert sent == [
        (
            whole.bodies[s.event],
            events_[s.event].id,
            events_[s.event].type,
            dict(events_[s.event].headers),
        )
        for s in whole.schedule
    ]
    assert drained.payloads == [json.dumps(e.payload) for e in events_]
    assert streamed.feed.described is not None
    settings = {**streamed.info.settings, **streamed.feed.described()}
    settings |= streamed.correlation.settings()
    assert settings == whole.info.settings
    recorded = settings["recorded"]
    assert ("original_ids" in recorded) is (events <= ORIGINALS_KEPT)
    assert settings["tracer"].get("verbatim", 0) == (0 if tracer else 2 * events)


@pytest.mark.integration
def test_a_recordings_clean_run_journals_and_attributes_as_a_whole_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Driven in full against an automation: the clean run's events rows are those
    ``Journal.begin`` writes for it prepared whole with its tag, its settings in the journal
    the whole one's (the run's too, traced after it), and every payout it caused is
    attributed to its record (the order id the automation writes, the run's own, matched as
    sent: the index grows as its events are made)."""
    journal = tmp_path / "j.db"
    options = forwarder_options(journal, monkeypatch)
    scenario = _storm(_recording(tmp_path, 30), signed=True)
    (result,) = asyncio.run(run_scenarios([scenario], options))
    clean = result.history.baseline
    assert clean is not None
    whole = prepare(baseline_scenario(scenario), options, tag=clean.info.tracer_tag)
    written = tmp_path / "whole.db"
    w = Journal(written)
    w.begin(whole.info, whole.events)
    w.close()
    assert _event_rows(journal, clean.info.run_id) == _event_rows(written, whole.info.run_id)
    settings = _described(whole.info)["settings"]
    settings.update(baseline_of="duplicate-storm", serial=True)
    assert _described(clean.info)["settings"] == settings
    # The run, traced after its clean run: as prepared whole with its tag.
    run = prepare(scenario, options, tag=result.history.info.tracer_tag)
    w = Journal(written)
    w.begin(run.info, run.events)
    w.close()
    assert _event_rows(journal, result.history.info.run_id) == _event_rows(written, run.info.run_id)
    assert _described(result.history.info) == _described(run.info)
    payouts = [e for e in clean.effects if e.path == "/payouts"]
    assert len(payouts) == 30
    assert sorted(str(e.key) for e in payouts) == sorted(ev.key for ev in whole.events)


@pytest.mark.parametrize(
    "tracer", [None, TracerSpec(rewrite=True)], ids=["own ids", "tracer tokens"]
)
def test_a_recordings_run_is_traced_after_its_checks_as_a_whole_one(
    tracer: TracerSpec | None, tmp_path: Path
) -> None:
    """``prepare(trace_later=True)`` reads, checks and plans the run, tracing none of its
    events; ``traced_whole`` then makes the run ``prepare`` makes whole with its tag: the same
    schedule, events, bodies and settings."""
    scenario = _storm(_recording(tmp_path, 40), tracer)
    options = options_for(3, tmp_path)
    later = prepare(scenario, options, tag=TAG, trace_later=True)
    assert later.recorded is not None and len(later.events) == 0 and later.bodies == ()
    assert later.event_types == {"order.paid"} and len(later.schedule) > 40
    run, whole = traced_whole(later), prepare(scenario, options, tag=TAG)
    assert run.recorded is None and run.feed is None
    assert later.recorded.events == ()  # let go once traced: the run holds only its texts
    with pytest.raises(RuntimeError, match="traced once"):
        traced_whole(later)
    assert list(run.schedule) == list(whole.schedule)
    assert run.bodies == whole.bodies
    assert [(e.id, e.key, e.type, e.occurred_at, dict(e.headers)) for e in run.events] == [
        (e.id, e.key, e.type, e.occurred_at, dict(e.headers)) for e in whole.events
    ]
    assert run.info.settings == whole.info.settings
    assert [run.correlation.attribute_text(e.id) for e in run.events] == [
        whole.correlation.attribute_text(e.id) for e in whole.events
    ]


@pytest.mark.integration
def test_a_bad_line_late_in_a_recording_stops_the_run_before_its_first_delivery(
    tmp_path: Path,
) -> None:
    """Its tracing put off, a recording is still read and checked whole before anything is
    sent: line 3,001 of 3,001 not JSON, exit 2, the target never called."""
    recording = _recording(tmp_path, 3000)
    with recording.open("a") as f:
        f.write('{"id": "evt_late", "payload": \n')
    scenario = tmp_path / "s.scenario.yaml"
    scenario.write_text(
        f"source:\n  recorded:\n    file: {recording.name}\n    over: 30s\n"
        "perturbations: [{duplicate: {rate: 0.3}}]\ndelivery: {signing: none}\n"
    )
    _Recording.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = f"http://127.0.0.1:{server.server_address[1]}/hooks"
        journal = str(tmp_path / "j.db")
        done = harness("run", str(scenario), "--target", target, "--journal", journal)
    finally:
        server.shutdown()
        server.server_close()
    assert done.code == 2, done.out + done.err
    assert "orders.jsonl:3001" in done.err, done.err
    assert _Recording.seen == []
