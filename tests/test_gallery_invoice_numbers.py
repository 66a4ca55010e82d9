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

from .test_gallery import QUICK, SCENARIOS, STRIPE, automation, run, said, verdicts
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

NUMBER = re.compile(r"[0-9A-Z]{3,12}-\d{4,}")  # Stripe's: the invoice prefix, then a sequence


@pytest.mark.parametrize(
    "scenario", ["stripe-invoices-by-number.yaml", "stripe-invoices-recorded-by-number.yaml"]
)
def test_a_sync_booking_invoices_by_their_number_books_each_once(
    tmp_path: Path, scenario: str
) -> None:
    with automation("invoice_numbers", "/webhooks/stripe", STRIPE) as target:
        done, report = run(target, str(SCENARIOS / scenario), tmp_path, *QUICK, env=STRIPE)
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


def test_a_ledger_booking_by_number_is_judged_per_invoice_through_an_outage_and_a_reorder(
    tmp_path: Path,
) -> None:
    """``harness init --events stripe:invoice.paid`` and the hazards that need each write's
    event. The sync's entries name their invoice by its number alone (and their record by the
    customer), which the run makes its own and follows: before, every entry named only its
    record and per_key_order, recovers_after_outage and backs_off said "add a correlate:
    rule". Through the outage the sync answers 500 and Stripe's retry books the invoice, so it
    recovers; a customer's invoice refused then is booked after a later one of the customer,
    the order a retry gives, which a ledger's order does not allow (and the note says why)."""
    with project(tmp_path, "invoice_numbers", "/webhooks/stripe", STRIPE, "stripe:invoice.paid"):
        _, found = hazards(tmp_path, "downstream-outage", "out-of-order", *QUICK, env=STRIPE)
    outage, reordered = found["downstream-outage"], found["out-of-order"]
    # Each invoice's number its own, followed (a streamed run's counted as it stops).
    [journal] = (tmp_path / "harness-runs").glob("*.db")
    for h in load_all(journal):
        assert h.info.settings["tracer"]["numbers"] == len(h.events) > 0, h.info.settings
    for judged in (outage, reordered):
        for v in judged.values():
            assert "correlate:" not in said(v), said(v)
    recovered = outage["recovers_after_outage"]
    assert recovered["status"] == "pass", said(recovered)
    refused = re.search(
        r"\((\d+) refused while it was open, accepted once closed\)", said(recovered)
    )
    assert refused is not None and int(refused[1]) >= 10, said(recovered)
    assert outage["backs_off"]["status"] == "pass", said(outage["backs_off"])
    order = outage["per_key_order"]
    assert order["status"] == "fail", said(order)
    violations = re.match(
        r"(\d+) of 20 records had effects applied out of event order", order["summary"]
    )
    assert violations is not None, said(order)
    assert (
        f"on {violations[1]} of these records the older event was written after the newer "
        "because the target refused its first delivery (5xx or no answer) and the sender "
        "delivered it again" in order["summary"]
    ), said(order)
    assert re.search(r"seq \d+ \(evt_\w+, eff_\d+\) at [\d.]+ s after seq \d+", said(order))
    # Arrived out of order, booked as they came: nothing the sync could have known.
    assert reordered["per_key_order"]["status"] == "pass", said(reordered["per_key_order"])
    for name in ("no_lost_events", "no_duplicate_effects"):
        for judged in (outage, reordered):
            assert judged[name]["status"] == "pass", said(judged[name])
            assert "name only their record" not in said(judged[name]), said(judged[name])
