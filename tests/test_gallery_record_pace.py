"""Orders acknowledged unpaid by an automation that pays before it answers, its payouts naming
only the order (tests/gallery/payout_by_order with ``--drop-every 2``), each order paid by two
events: told "raise the settle quiet" though every payout came while a delivery of its order's
events was in flight. Now: dropped, not slow (``invariants/_after_answers.record_pace``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_gallery import QUICK, SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration


def test_orders_acknowledged_unpaid_inline_are_said_dropped_not_maybe_late(
    tmp_path: Path,
) -> None:
    with automation("payout_by_order", "/webhook/orders", options=("--drop-every", "2")) as target:
        done, report = run(
            target, str(SCENARIOS / "orders-paid-by-order-twice.yaml"), tmp_path, *QUICK
        )
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert "records short of POST /payouts (per record)" in lost["summary"], said(lost)
    assert (
        "every call of this run naming only its record came while a delivery of an event of "
        "that record was in flight: the target does its work before it answers"
    ) in lost["summary"], said(lost)
    assert "settle quiet" not in lost["summary"], said(lost)
    assert done.code == 1
