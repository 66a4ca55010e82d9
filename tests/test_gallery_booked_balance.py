"""A customer's running balance written once, its refusal dropped (tests/gallery/booked_balance.py).

Under a short outage over the fourth customer's last invoice (tests/gallery/scenarios/
invoices-balance-last-refused.yaml), that balance write is refused and never made again: the
customer is one ``PUT /customers/{id}/balance`` short of its clean twin, and the write names
only the customer. ``recovers_after_outage`` cannot say which of its events lacks it — not every
one met the outage — and advised "a correlate: rule tying PUT /customers/{id}/balance to its
event", which no value of a balance (a sum, in dollars) and the currency could ever match. It
now says so, and what judges those writes per record.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0booked0balance0not0real"}  # the test's own


def test_a_balance_short_after_an_outage_is_not_told_to_add_a_rule_no_value_matches(
    tmp_path: Path,
) -> None:
    scenario = str(SCENARIOS / "invoices-balance-last-refused.yaml")
    with automation("booked_balance", "/webhooks/stripe", STRIPE) as target:
        _, report = run(target, scenario, tmp_path, env=STRIPE)
    found = verdicts(report)
    lost = found["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert "1 record short of PUT /customers/{id}/balance (per record)" in lost["summary"]
    recovered = found["recovers_after_outage"]
    assert recovered["status"] == "inconclusive", said(recovered)
    summary = recovered["summary"]
    assert "fell short of PUT /customers/{id}/balance (per record" in summary, summary
    assert (
        "no value in the bodies of PUT /customers/{id}/balance ($.balance, $.currency) is one "
        "that tells its record's events apart — derived (a balance, a sum) or the same for all "
        "of them — so no correlate: rule can name their event: no_lost_events compares each "
        "record's writes with what its events owe, per record"
    ) in summary, summary
    assert "correlate: rule tying" not in summary, summary
