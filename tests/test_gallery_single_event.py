"""Payouts naming only their order, each order paid by one event: judged per event.

The gallery's ``payout_by_order`` pays each order ``POST /payouts {"order": …, "amount": …}``:
the order id is the record key, nothing of the event is in the request. Each order has a single
event in the run, so each payout made after it was sent can only be that event's. Before, such
payouts stayed the record's: recovers_after_outage was inconclusive ("none of the 12 effects
names an event: 12 effects name only their record (…; each of the 12 records named had a single
event)"), for the correct automation and for the one that acknowledges every second order
unpaid alike, and no_duplicate_effects was inconclusive on the flawed one. Now the correct one
passes and the flawed one fails, naming the orders it left unpaid; the summaries say the payouts
were taken by their order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core._model import Outcome
from harness.history import load_all

from .test_gallery import QUICK, SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration

SCENARIO = str(SCENARIOS / "orders-paid-by-order-outage.yaml")
TAKEN = "effects naming only their record were taken as its single event's (POST /payouts"


def test_payouts_naming_only_their_order_are_judged_by_its_single_event(tmp_path: Path) -> None:
    with automation("payout_by_order", "/webhook/orders") as target:
        done, report = run(target, SCENARIO, tmp_path, *QUICK)
    found = verdicts(report)
    [h] = load_all(tmp_path / "journal.db")
    assert h.effects and all(not e.event_ids and e.key for e in h.effects)  # as recorded
    refused = [d for d in h.deliveries if d.status == 503]
    assert refused, "the outage met no payout"
    for name in ("recovers_after_outage", "no_lost_events", "no_duplicate_effects"):
        assert found[name]["status"] == "pass", said(found[name])
        assert TAKEN in found[name]["summary"], said(found[name])
    order = found["per_key_order"]
    assert order["status"] == "inconclusive", said(order)
    assert order["summary"].startswith(
        "each of the 12 records got effects of a single event; there was no order to keep"
    ), said(order)
    assert done.code == 1, done.out  # an inconclusive verdict is not a pass


def test_orders_acknowledged_unpaid_are_found_lost(tmp_path: Path) -> None:
    """Every second order handled goes on a review list nobody reads, answered 200: those
    accepted while the payouts API was down never recover, and are named."""
    options = ("--drop-every", "2")
    with automation("payout_by_order", "/webhook/orders", options=options) as target:
        done, report = run(target, SCENARIO, tmp_path, *QUICK)
    found = verdicts(report)
    [h] = load_all(tmp_path / "journal.db")
    paid = {e.key for e in h.effects if e.committed}
    accepted = {d.event_id for d in h.deliveries if d.outcome is Outcome.OK}
    unpaid = {e.id for e in h.events if e.id in accepted and e.key not in paid}
    assert unpaid, "every order accepted was paid"
    recovers = found["recovers_after_outage"]
    refused = {d.event_id for d in h.deliveries if d.outcome is not Outcome.OK}
    if recovers["status"] == "fail":
        assert set(recovers["evidence"]["events"]) <= unpaid, said(recovers)
    else:  # on a loaded machine every order the outage refused may have been a paid one
        assert recovers["status"] == "pass" and not refused & unpaid, said(recovers)
    lost = found["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert set(lost["evidence"]["events"]) <= unpaid, said(lost)
    assert TAKEN in lost["summary"], said(lost)
    # No order was paid twice: it was inconclusive, the orders the clean run left unpaid and
    # this run paid read as "more POST /payouts than the clean run made for the record".
    assert found["no_duplicate_effects"]["status"] == "pass", said(found["no_duplicate_effects"])
    assert done.code == 1, done.out
