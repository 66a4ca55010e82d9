"""A Shopify receiver keeping orders by their name (tests/gallery/shopify_order_names.py).

Before, every synthetic ``orders/create`` event carried the library example's ``order_number``
1001 and ``name`` "#1001": the receiver took the run's second to twelfth orders for its first
and skipped them — "11 of 12 accepted events produced no effect (lost)" — and its clean run's
for the same order again. Each synthetic order is counted now (``_vary.COUNTED``: the
example's number plus the orders before it), the name written from it, and each run renumbers
it as an id, the name following: twelve orders, twelve names, none the clean run's."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.history import load_all

from .test_gallery import QUICK, SCENARIOS, automation, run, said, verdicts
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

SHOPIFY = {"SHOPIFY_WEBHOOK_SECRET": "shpss_gallery0test0secret"}


def test_a_receiver_keeping_orders_by_their_name_meets_each_order_once(tmp_path: Path) -> None:
    with automation("shopify_order_names", "/webhooks/orders", SHOPIFY) as target:
        done, report = run(
            target, str(SCENARIOS / "shopify-orders-by-name.yaml"), tmp_path, *QUICK, env=SHOPIFY
        )
    own = verdicts(report)
    for name in ("no_lost_events", "no_duplicate_effects", "final_state_matches_baseline"):
        assert own[name]["status"] == "pass", said(own[name])
    assert report["runs"][0]["counts"]["effects"] == 12, report["runs"][0]["counts"]
    assert done.code == 0, done.out + done.err
    [h] = load_all(tmp_path / "journal.db")
    assert h.baseline is not None
    names = []
    for run_events in (h.events, h.baseline.events):
        found = {e.payload["name"] for e in run_events}
        assert len(found) == 12, found
        for e in run_events:
            assert e.payload["name"] == f"#{e.payload['order_number']}"
        names.append(found)
    assert not names[0] & names[1], names


def test_a_receiver_keeping_orders_by_their_name_is_judged_per_order_through_an_outage(
    tmp_path: Path,
) -> None:
    """Its slips name their order by its name alone ("#1001", written from the order's
    ``order_number``, which the run renumbers as its own) and their customer by an email:
    followed as a document number, each slip is its order's. Before, every slip named only its
    customer, and per_key_order, recovers_after_outage and backs_off said "add a correlate:
    rule". The receiver answers 500 while the slips service is down, and Shopify's retry makes
    the slip: it recovers, in the order a retry gives."""
    hook = "/webhooks/orders"
    with project(tmp_path, "shopify_order_names", hook, SHOPIFY, "shopify:orders/create"):
        _, found = hazards(tmp_path, "downstream-outage", *QUICK, env=SHOPIFY)
    outage = found["downstream-outage"]
    for v in outage.values():
        assert "correlate:" not in said(v), said(v)
    for name in ("recovers_after_outage", "backs_off", "no_lost_events", "no_duplicate_effects"):
        assert outage[name]["status"] == "pass", said(outage[name])
    order = outage["per_key_order"]
    assert order["status"] == "fail", said(order)
    assert "because the target refused its first delivery" in order["summary"], said(order)
