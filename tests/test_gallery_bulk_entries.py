"""A ledger's batch items are its entries: ``final_state_matches_baseline`` against the real
``bulk_writer`` (tests/gallery: payouts buffered and posted in bulk every quarter second).

The standard suite's ``simultaneous-same-record`` on it failed "2 of 12 records end in another
state … amount: 1360 (baseline 532)": each order's last item in the bulk call was taken for its
state, as an upsert's, and the three payments of an order delivered at one instant reached the
call in another order than the clean run's. Nothing was lost nor paid twice; a ledger's state is
its entries, counted, in any order (``invariants/_batch_items``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration


def test_payments_of_one_order_in_another_order_in_the_bulk_call_end_the_same(
    tmp_path: Path,
) -> None:
    with automation("bulk_writer", "/webhook/orders") as target:
        done, report = run(target, str(SCENARIOS / "orders-bulk-simultaneous.yaml"), tmp_path)
    found = verdicts(report)
    final = found["final_state_matches_baseline"]
    assert final["status"] == "pass", said(final)
    assert "(the final state); 12 records compared" in final["summary"], said(final)
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    assert done.code == 0, done.out
