"""per_key_order on a ledger whose older event was written late because the target refused its
first delivery and the sender delivered it again: the failure stands (the ledger says order
matters), and says why it happened and what to do either way. Found on
tests/gallery/shopify_dedup.py under downstream-outage (harness init with
shopify:orders/create, a ledger): it answers 500 while the CRM is down and Shopify's retry
writes each order's deal after newer orders' — "11 of 20 records had effects applied out of
event order" and no word that the order was the retry's, or that the order of deals per order
is no one's to keep."""

from __future__ import annotations

from harness.core._model import Outcome, Status

from .test_invariants import delivery, effect, event, history, one


def test_an_older_event_written_after_its_retry_says_so() -> None:
    h = history(
        [event(1, "cus_1"), event(2, "cus_1")],
        [
            delivery("dlv_1", "evt_1", Outcome.FAILED, status=500),
            delivery("dlv_2", "evt_2", sent=0.5),
            delivery("dlv_1.r1", "evt_1", sent=1.0, attempt=2),
        ],
        [effect("eff_2", ["evt_2"], 0.6), effect("eff_1", ["evt_1"], 1.1)],
    )
    v = one(h, "per_key_order")
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "1 of 1 record had effects applied out of event order (1 violation); on 1 of these "
        "records the older event was written after the newer because the target refused its "
        "first delivery (5xx or no answer) and the sender delivered it again — the order a "
        "retry gives: "
    ), v.summary
    # Not `model: register` for independent lines: only each record's newest event would be
    # owed its effects, and a lost older order would pass.
    assert "leave per_key_order out (`leave_out: {per_key_order: <why>}`" in v.summary


def test_an_older_event_written_late_on_its_first_delivery_says_nothing_of_retries() -> None:
    h = history(
        [event(1, "cus_1"), event(2, "cus_1")],
        [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_2", sent=0.5)],
        [effect("eff_2", ["evt_2"], 0.6), effect("eff_1", ["evt_1"], 1.1)],
    )
    v = one(h, "per_key_order")
    assert v.summary.startswith(
        "1 of 1 record had effects applied out of event order (1 violation)"
    ), v.summary
    # Each delivered once, both answered before either's write: in hand together, not retried.
    assert "the order a retry gives" not in v.summary, v.summary
    assert "worked at the same time by more than one worker" in v.summary, v.summary
