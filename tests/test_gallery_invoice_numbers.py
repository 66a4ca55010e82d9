"""An accounting sync booking Stripe invoices by their number (tests/gallery/invoice_numbers.py).

Every synthetic ``invoice.paid`` event carried the library example's ``number`` "6C2E1A3B-0002":
the sync took the run's second to twelfth invoices for its first and skipped them, and its
clean run's for the same invoice again. Each synthetic invoice has a number of its own now, in
the example's shape (a prefix, a dash, a sequence of four digits or more), and each run's are its
own: twelve invoices, twelve numbers, none the clean run's. A recording's numbers are replayed
as recorded but for their prefixes, each run's own as the recording's ids are (a recording
replayed twice met the sync with the same numbers: the second run's invoices all "lost")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.history import load_all

from .test_gallery import SCENARIOS, STRIPE, automation, run, said, verdicts

pytestmark = pytest.mark.integration

NUMBER = re.compile(r"[0-9A-Z]{3,12}-\d{4,}")  # Stripe's: the invoice prefix, then a sequence


@pytest.mark.parametrize(
    "scenario", ["stripe-invoices-by-number.yaml", "stripe-invoices-recorded-by-number.yaml"]
)
def test_a_sync_booking_invoices_by_their_number_books_each_once(
    tmp_path: Path, scenario: str
) -> None:
    with automation("invoice_numbers", "/webhooks/stripe", STRIPE) as target:
        done, report = run(target, str(SCENARIOS / scenario), tmp_path, env=STRIPE)
    own = verdicts(report)
    for name in ("no_lost_events", "no_duplicate_effects", "final_state_matches_baseline"):
        assert own[name]["status"] == "pass", said(own[name])
    assert report["runs"][0]["counts"]["effects"] == 12, report["runs"][0]["counts"]
    assert done.code == 0, done.out + done.err
    [h] = load_all(tmp_path / "journal.db")
    assert h.baseline is not None
    numbers = []
    for run_events in (h.events, h.baseline.events):
        found = {e.payload["data"]["object"]["number"] for e in run_events}
        assert len(found) == 12, found
        assert all(NUMBER.fullmatch(n) for n in found), found
        numbers.append(found)
    assert not numbers[0] & numbers[1], numbers
