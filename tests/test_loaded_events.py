"""A run read back from its journal keeps its events as columns (``history.Events``): judged, it
makes an Event only for those a verdict names, and judges as the same run in memory, where
every event is an object — lost, refused, out of order, with headers, in a register, declared
and learned from a clean run."""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path

from harness.core._model import Event, Model, Outcome, Status
from harness.history import History, load
from harness.invariants import judge
from harness.report._redact import Redactor

from .test_invariants import delivery, effect, history
from .test_report import _journal as journal


def _alive_events() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Event))


def _orders(n: int) -> History:
    """``n`` events over ``n // 10`` records, each delivered once: the last ten refused (503),
    the ten before accepted and never written (lost), every seventieth of the others after 300
    written before its record's event 200 seqs older (out of order)."""
    events = [
        Event(f"evt_{i}", f"ord_{i % (n // 10)}", i, "order.created", 0.0, {"sequence": i})
        for i in range(n)
    ]
    refused = {e.id for e in events[-10:]}
    lost = {e.id for e in events[-20:-10]}
    deliveries = [
        delivery(f"dlv_{i}", e.id, sent=float(i))
        if e.id not in refused
        else delivery(f"dlv_{i}", e.id, Outcome.FAILED, sent=float(i), status=503)
        for i, e in enumerate(events)
    ]
    effects = [
        effect(f"eff_{i}", [e.id], i + 0.5 - (250 if i % 70 == 1 and i > 300 else 0))
        for i, e in enumerate(events)
        if e.id not in refused and e.id not in lost
    ]
    return history(events, deliveries, sorted(effects, key=lambda e: e.at))


def test_a_loaded_run_judged_makes_only_the_events_its_verdicts_name(tmp_path: Path) -> None:
    gc.collect()
    left = _alive_events()  # those earlier tests of this worker left alive
    h = _orders(2_000)
    path, run_id, expected = journal(tmp_path / "j.db", h), h.info.run_id, judge(h)
    statuses = {v.invariant: v.status for v in expected}
    assert statuses["no_lost_events"] is Status.FAIL
    assert statuses["per_key_order"] is Status.FAIL
    del h
    gc.collect()
    assert _alive_events() == left  # none of this test's alive
    loaded = load(path, run_id)
    verdicts = judge(loaded)
    assert verdicts == expected
    # The witnesses' events (lost, refused, out of order and the newer ones: 68), not 2,000.
    assert _alive_events() - left <= 100
    assert len(loaded.events) == 2_000 and loaded.events[5] is loaded.events[5]
    assert loaded.events[-1] is loaded.events[1_999]
    assert len(list(loaded.events)) == _alive_events() - left == 2_000  # all, when all are read


def _shapes() -> History:
    signed = {"Authorization": "Bearer sk_live_0123456789abcdef"}
    events = [
        Event(
            f"evt_{i}",
            f"ord_{i % 3}",
            i,
            "order.created" if i % 2 else "order.paid",
            float(i),
            {"sequence": i, "note": "n" * i},
            signed if i == 4 else {},
        )
        for i in range(1, 12)
    ]
    effects = [
        effect(f"eff_{e.seq}", [e.id], e.seq + (0.0 if e.seq != 6 else -3.5))
        for e in events
        if e.seq != 9
    ]
    deliveries = [delivery(f"dlv_{i}", e.id, sent=float(i) / 10) for i, e in enumerate(events)]
    deliveries.append(delivery("dlv_x", "evt_404", sent=2.0))  # of no event of the run
    return history(events, deliveries, effects)


def test_loaded_events_of_every_shape_judge_as_in_memory(tmp_path: Path) -> None:
    h = _shapes()
    loaded = load(journal(tmp_path / "j.db", h), h.info.run_id)
    assert loaded.events == h.events and list(loaded.events) == h.events
    assert loaded.deliveries == h.deliveries
    assert list(loaded.effects) == sorted(h.effects, key=lambda e: e.at)
    verdicts = judge(loaded)
    assert verdicts == judge(h)
    assert {v.invariant: v.status for v in verdicts}["per_key_order"] is Status.FAIL
    # The headers' credential is hidden as it is for the run in memory.
    token = "sk_live_0123456789abcdef"
    for run in (h, load(journal(tmp_path / "again.db", h), h.info.run_id)):
        assert token not in Redactor.for_runs([run], {}).text(f"said {token}")
    register = replace(h, info=replace(h.info, model=Model.REGISTER))
    again = load(journal(tmp_path / "register.db", register), register.info.run_id)
    assert judge(again) == judge(register)
    # A type declared (expect:), the other left to any effect.
    declared = {
        **h.info.settings,
        "expect": {"order.paid": [{"method": "POST", "path": "/payouts"}]},
    }
    expecting = replace(h, info=replace(h.info, settings=declared))
    read = load(journal(tmp_path / "declared.db", expecting), expecting.info.run_id)
    assert judge(read) == judge(expecting)


def test_a_loaded_run_learns_from_its_loaded_clean_run(tmp_path: Path) -> None:
    clean = _shapes()
    clean = replace(
        clean,
        info=replace(
            clean.info, run_id="run_0", settings={**clean.info.settings, "baseline_of": "run_1"}
        ),
        effects=[replace(e, id=f"c_{e.id}") for e in clean.effects],
    )
    run = _shapes()
    run = replace(run, info=replace(run.info, settings={**run.info.settings, "baseline": "run_0"}))
    path = journal(tmp_path / "j.db", clean, run)
    loaded = load(path, "run_1")
    assert loaded.baseline is not None
    run.baseline = load(path, "run_0")
    assert judge(loaded) == judge(run)
