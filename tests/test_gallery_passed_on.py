"""no_server_errors on a gallery automation that passes its CRM's outage back to Stripe: which
later acceptance of the event excuses a 5xx (a real process, through the ``harness`` command)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_gallery import SCENARIOS, STRIPE, automation, run, said, verdicts

pytestmark = pytest.mark.integration


def test_a_concurrent_duplicate_answered_200_does_not_excuse_the_500(tmp_path: Path) -> None:
    """seen_first marks each event seen before its CRM calls: of two copies sent together, one
    is answered 200 as a duplicate while the other waits on the CRM and is answered 500. That
    200 was no redelivery after the 500 — Stripe had not heard it yet, and the run sends no
    retry — so every 500 counts (it was left out as 'accepted on a later delivery')."""
    with automation("seen_first", "/webhooks/stripe", STRIPE) as target:
        done, report = run(
            target,
            str(SCENARIOS / "stripe-checkout-crm-down-duplicated.yaml"),
            tmp_path,
            env=STRIPE,
        )
    errors = verdicts(report)["no_server_errors"]
    assert errors["status"] == "fail", said(errors)
    assert "not counted" not in errors["summary"], said(errors)
    head = "4 of 8 deliveries (50%) got a server error: 4 answered 500"
    assert errors["summary"].startswith(head), said(errors)
    assert done.code == 1
