"""A run read back from its journal is reported off its columns (``report._stats``,
``_content._counts``, ``_describe``): building its report makes a Delivery or an Effect only for
what the report shows one of (a witness, an effect naming no event), not one for each of the
run's — a million of them were 300 MB over ``harness check``'s own peak — and the report is the
one the same run in memory gets."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from harness.core._model import Delivery, Effect, Outcome, Status, Verdict
from harness.history import History, load
from harness.invariants import judge
from harness.report._content import RunInput, build_report

from .test_invariants import delivery, effect
from .test_loaded_events import _orders
from .test_report import _journal as journal


def _alive(kind: type) -> int:
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


def _shaped(n: int, *, batch: bool = False) -> History:
    """``_orders`` with its shapes of deliveries and effects: a timeout, a reset, a 500, an
    effect refused 503, an effect naming no event; ``batch``: one naming two events too
    (per_key_order then reads every effect, ``_batch_items``)."""
    h = _orders(n)
    first, second = h.events[0].id, h.events[1].id
    deliveries = [
        *h.deliveries,
        delivery("dlv_timeout", first, Outcome.INDETERMINATE, sent=1.5, latency=None, status=None),
        delivery(
            "dlv_reset",
            first,
            Outcome.INDETERMINATE,
            sent=1.6,
            latency=None,
            status=None,
            error="connection broke",
        ),
        delivery("dlv_500", second, Outcome.FAILED, sent=2.5, status=500),
    ]
    effects = [
        *h.effects,
        effect("eff_nameless", [], 3.0),
        effect("eff_refused", [first], 3.5, status=503),
    ]
    if batch:
        effects.append(effect("eff_both", [first, second], 4.0))
    return History(h.info, h.events, deliveries, sorted(effects, key=lambda e: e.at))


def _loaded(tmp_path: Path, h: History) -> tuple[History, list[Verdict]]:
    """``h`` written to a journal and read back, judged."""
    loaded = load(journal(tmp_path / "j.db", h), h.info.run_id)
    return loaded, judge(loaded)


@pytest.mark.parametrize("batch", [False, True])
def test_a_loaded_run_is_reported_as_the_same_run_in_memory(tmp_path: Path, batch: bool) -> None:
    h = _shaped(2_000, batch=batch)
    expected = build_report([RunInput(h, judge(h))], environ={})
    assert any(v.status == Status.FAIL.value for s in expected.scenarios for v in s.verdicts)
    assert build_report([RunInput(*_loaded(tmp_path, h))], environ={}) == expected


def test_a_loaded_runs_report_makes_only_the_objects_it_shows(tmp_path: Path) -> None:
    loaded, verdicts = _loaded(tmp_path, _shaped(2_000))
    gc.collect()
    before = _alive(Delivery), _alive(Effect)  # judging made its own few (test_loaded_events)
    build_report([RunInput(loaded, verdicts)], environ={})
    made = _alive(Delivery) - before[0], _alive(Effect) - before[1]
    # The requests the verdicts show and the effects naming no event (a few), not 2,000 each.
    assert made[0] <= 20 and made[1] <= 20, made
    assert len(loaded.deliveries) > 2_000 and len(loaded.effects) > 1_900  # all there
