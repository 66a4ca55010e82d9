"""The scans made as numpy arrays (``history.delivery_numbers``) judge a run read back from its
journal — its times an array of reals, its answers' times and statuses lists with None — as
they judge the same run in memory, where each field is read from the Delivery objects."""

from __future__ import annotations

from pathlib import Path

from harness.core._model import Outcome, Status
from harness.history import load

from .test_deferred_events import burst
from .test_invariants import delivery, event, history, one
from .test_report import _journal as journal


def test_over_budget_timed_out_and_unanswered_deliveries_read_back_judge_the_same(
    tmp_path: Path,
) -> None:
    h = history(
        [event(1), event(2), event(3)],
        [
            delivery("dlv_1", "evt_1", latency=0.1),
            delivery("dlv_2", "evt_1", latency=3.45, attempt=2),
            delivery("dlv_3", "evt_2", Outcome.INDETERMINATE, latency=None, status=None, sent=1.2),
            delivery("dlv_4", "evt_2", Outcome.FAILED, latency=None, status=None),
            delivery("dlv_5", "evt_3", latency=2.5, sent=2.0),
        ],
        [],
    )
    loaded = load(journal(tmp_path / "j.db", h), h.info.run_id)
    v = one(loaded, "ack_within")
    assert v == one(h, "ack_within")
    assert v.status is Status.FAIL
    assert v.summary.startswith("3 of 4 deliveries over the 2 s budget (2 slow answers, 1 timed")
    assert v.evidence.delivery_ids == ("dlv_3", "dlv_2", "dlv_5")


def test_deferred_answers_read_back_judge_the_same(tmp_path: Path) -> None:
    h = burst(503, 500, 429)
    loaded = load(journal(tmp_path / "j.db", h), h.info.run_id)
    v = one(loaded, "no_lost_events")
    assert v == one(h, "no_lost_events")
    assert v.status is Status.INCONCLUSIVE
    # The 500 too: whether a retry takes it is not seen either.
    assert "not judged: 3 events the target refused (answered 503 or 500 or 429" in v.summary
