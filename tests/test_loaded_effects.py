"""A run read back from its journal keeps its effects as columns (``history.Effects``): judged,
it makes an Effect only for those a verdict names, and judges as the same run in memory, where
every effect is an object — out of time order as stored, naming several events, an event of
no run or none, read by GraphQL, repeated with and without an Idempotency-Key."""

from __future__ import annotations

import gc
from dataclasses import replace
from pathlib import Path

from harness.core._model import Effect, Event, Model, Status
from harness.history import History, load
from harness.invariants import judge

from .test_invariants import delivery, effect, history
from .test_report import _journal as journal


def _alive_effects() -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, Effect))


def _orders(n: int, repeated: int) -> History:
    """``n`` events over ``n // 10`` records, each delivered and written once, in order; the
    first ``repeated`` written twice, the same POST (a duplicate each); recorded in batches
    out of time order, as a double's workers write them."""
    events = [
        Event(f"evt_{i}", f"ord_{i % (n // 10)}", i, "order.created", 0.0, {}) for i in range(n)
    ]
    effects = [
        effect(f"eff_{i}", [e.id], i + 0.5, path=f"/payouts/{e.key}") for i, e in enumerate(events)
    ]
    effects += [
        effect(f"eff_{i}_d", [e.id], i + 0.7, path=f"/payouts/{e.key}")
        for i, e in enumerate(events[:repeated])
    ]
    recorded = sorted(effects, key=lambda e: (int(e.at) // 7, -e.at))  # late in each batch
    return history(
        events, [delivery(f"dlv_{i}", e.id, sent=float(i)) for i, e in enumerate(events)], recorded
    )


def test_a_loaded_run_judged_makes_only_the_effects_its_verdicts_name(tmp_path: Path) -> None:
    gc.collect()
    left = _alive_effects()  # those earlier tests of this worker left alive
    h = _orders(2_000, 300)
    path, run_id, expected = journal(tmp_path / "j.db", h), h.info.run_id, judge(h)
    del h
    gc.collect()
    assert _alive_effects() == left  # none of this test's alive
    loaded = load(path, run_id)
    verdicts = judge(loaded)
    assert verdicts == expected
    by_name = {v.invariant: v for v in verdicts}
    assert by_name["no_duplicate_effects"].status is Status.FAIL
    assert by_name["no_duplicate_effects"].summary.startswith("300 of 2,000 events produced")
    assert by_name["per_key_order"].status is Status.PASS
    assert by_name["no_lost_events"].status is Status.PASS
    # The duplicates' witnesses (ten events, two writes each), not 2,300 effects.
    assert _alive_effects() - left <= 2 * 10
    assert len(loaded.effects) == 2_300 and loaded.effects[5] is loaded.effects[5]
    assert len(list(loaded.effects)) == _alive_effects() - left == 2_300  # all, when all are read


def _shapes() -> History:
    events = [Event(f"evt_{i}", f"ord_{i % 3}", i, "order.created", 0.0, {}) for i in range(1, 12)]
    keyed = {"Idempotency-Key": "k-1"}
    effects = [
        effect("eff_1", ["evt_1"], 1.0),
        effect("eff_1b", ["evt_1"], 1.0),  # a tie, recorded after
        effect("eff_2", ["evt_2", "evt_3"], 0.5),  # a batch call, recorded late
        effect("eff_3", ["evt_3"], 2.0, method="PUT", path="/orders/3"),
        effect("eff_3b", ["evt_3"], 2.1, method="PUT", path="/orders/3"),
        effect("eff_4", ["evt_4"], 2.5, headers=keyed),
        effect("eff_4b", ["evt_4"], 2.6, headers=keyed),
        effect("eff_5", ["evt_5"], 3.0, body='{"a": 1}'),
        effect("eff_5b", ["evt_5"], 3.1, body='{"a": 2}'),
        effect("eff_5c", ["evt_5"], 3.2, body='{"a": 1}'),
        effect("eff_6", ["evt_404"], 3.5),  # no event of the run
        effect("eff_7", [], 3.6, path="/audit"),  # none
        effect("eff_8", ["evt_8"], 3.7, body='{"query": "query { orders { id } }"}'),
        effect("eff_9", ["evt_9"], 0.2, method="GET", path="/orders/9"),
        effect("eff_9b", ["evt_9"], 4.0, status=503),
        effect("eff_7", ["evt_7"], 0.3),  # before its record's older events': out of order
        effect("eff_6b", ["evt_6"], 3.9),
        effect("eff_6c", ["evt_6"], 3.8),  # recorded after a later write
        effect("eff_10", ["evt_10"], 4.2, body='{"query": "mutation { pay }"}'),
        effect("eff_10b", ["evt_10"], 4.3, body='{"query": "mutation { pay }"}'),
        effect("eff_11", ["evt_11"], 4.4, headers={"X-Tög": "1"}),  # an escape in its JSON
        effect("eff_11b", ["evt_11"], 4.5, headers={"X-Tög": "1"}),
    ]
    effects[-4] = replace(effects[-4], committed=False)  # refused 503: no write
    return history(
        events,
        [delivery(f"dlv_{i}", e.id, sent=float(i) / 10) for i, e in enumerate(events)],
        effects,
    )


def test_loaded_effects_of_every_shape_judge_as_in_memory(tmp_path: Path) -> None:
    h = _shapes()
    loaded = load(journal(tmp_path / "j.db", h), h.info.run_id)
    assert list(loaded.effects) == sorted(h.effects, key=lambda e: e.at)
    verdicts = judge(loaded)
    assert verdicts == judge(h)
    assert {v.invariant: v.status for v in verdicts}["per_key_order"] is Status.FAIL
    assert {v.invariant: v.status for v in verdicts}["no_duplicate_effects"] is Status.FAIL
    live = replace(h, info=replace(h.info, model=Model.REGISTER))
    again = load(journal(tmp_path / "register.db", live), live.info.run_id)
    assert judge(again) == judge(live)
