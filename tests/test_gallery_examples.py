"""Gallery automations driven as a new user drives theirs: ``harness init`` with an example
payload of their own (signed as Standard Webhooks), then ``harness run`` of one hazard of the
standard suite.

- tests/gallery/activity_log.py updates the order its event names (``PATCH /orders/{id}``),
  which the real API holds before the event comes (an order the shop made). Init's double is
  stateful and starts empty: every update was answered 404 and the automation answered 503 to
  every delivery. The likely cause said it updates "what an earlier run created", found again
  by a value a recording sends as it was, and advised tracing the recording — wrong for a
  synthetic run whose paths carry this run's own tokens: what to do is stub the route.
- tests/gallery/arrival_wins.py writes every update as it comes. Under duplicate-storm an older
  update, accepted and written before the newer one, came again as the sender's copy after the
  newer's write and was written again: per_key_order failed right but named no cause
  (``_stale_causes`` knew a retry, the sender's order, an ambiguous acknowledgement and both in
  flight together, none of which this is).
- tests/gallery/background_queue.py works its queue off in one task, 300 ms an event; the
  first event without ``customer.email`` (renamed-field) ends that task, and every event after
  it is lost. drift_is_loud said the target stopped there "(no_lost_events' note says where it
  stopped)"; no_lost_events said only to raise the settle quiet, its pace (calls long after
  their answers) leaving open that it was still at them.
- tests/gallery/buffered_upsert.py skips an update whose top-level ``sequence`` is not newer
  than its contact's. Init did not read that field, nor could harness.yaml name it: every event
  the hazards made carried the example's ``sequence: 1``, the automation kept each contact's
  first update only, and no_lost_events failed 11 of 12 contacts under simultaneous-same-record
  for updates it skipped as not newer — rightly, by the numbers it was sent.
- background_queue again: under ambiguous-commit a payout the API applied and answered 502 was
  queued again and made twice. no_duplicate_effects named that retry, then said too that "its
  record of the events it handled does not reach every copy — one per process …": a second,
  wrong cause for the same writes (it marks an event done only once its write succeeds).
- tests/gallery/bulk_writer.py buffers every delivery and posts the buffer in bulk: under
  duplicate-storm copies of an event went out as two items of one call. no_duplicate_effects
  counted those (repeated within one call), but also took their events for copies skipped —
  "it wrote 19 other events once however many copies it accepted: it deduplicates" — of an
  automation that deduplicates nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Completed, harness
from .test_gallery import QUICK, automation, init_project
from .test_gallery_model import EXAMPLE as CONTACT

pytestmark = pytest.mark.integration

SECRET = {"HARNESS_SECRET": "c2VjcmV0MGdhbGxlcnkwZXhhbXBsZXM="}  # the test's own
ORDER = {
    "id": "evt_1",
    "type": "order.paid",
    "occurred_at": "2026-01-01T00:00:00Z",
    "data": {
        "order_id": "ord_1",
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com"},
        "amount": 1999,
        "currency": "usd",
    },
}


def hazard(
    tmp_path: Path,
    app: str,
    hook: str,
    example: dict[str, Any] | str,
    name: str,
    stub: str = "",
    *,
    settle: tuple[str, ...] = (),
) -> tuple[Completed, dict[str, dict[str, Any]]]:
    """``tests.gallery.<app>`` on loopback, ``harness init`` over ``example`` (a payload, or a
    library payload's name: its provider's), ``stub`` a route of its double's, and ``harness
    run NAME --seed 5 *settle``: its exit and output, and the run's verdicts by invariant."""
    if isinstance(example, str):
        events, provider = example, example.partition(":")[0]
    else:
        events, provider = str(tmp_path / "example.json"), "standard-webhooks"
        Path(events).write_text(json.dumps(example))
    report = tmp_path / "report.json"
    # A Stripe receiver verifies with the same secret the harness signs with.
    with automation(app, hook, {"STRIPE_WEBHOOK_SECRET": SECRET["HARNESS_SECRET"]}) as target:
        api = f"api={target.downstream_port}"
        init_project(
            provider, events, target.url, api, tmp_path,
            "--secret-env", "HARNESS_SECRET",
        )  # fmt: skip
        if stub:  # what the real API holds before the events come, as a user stubs it
            project = tmp_path / "harness.yaml"
            text = project.read_text().replace(
                "    stateful: true", f"    routes: [{stub}]\n    stateful: true"
            )
            project.write_text(text)
        ran = harness(
            "run", name, "--seed", "5", "--report", str(report), *settle, cwd=tmp_path, env=SECRET
        )  # fmt: skip
    [judged] = json.loads(report.read_text())["runs"]
    return ran, {v["invariant"]: v for v in judged["verdicts"]}


def failed(
    tmp_path: Path,
    app: str,
    hook: str,
    example: dict[str, Any] | str,
    name: str,
    settle: tuple[str, ...] = (),
) -> dict[str, str]:
    """``hazard``'s run, which must fail: the summaries of its failed verdicts by invariant."""
    ran, found = hazard(tmp_path, app, hook, example, name, settle=settle)
    assert ran.code == 1, ran.out
    return {k: v["summary"] for k, v in found.items() if v["status"] == "fail"}


def test_a_patch_of_the_order_its_event_names_wants_a_stub_not_a_traced_recording(
    tmp_path: Path,
) -> None:
    ran, _ = hazard(
        tmp_path, "activity_log", "/hooks/orders", ORDER, "duplicate-storm", settle=QUICK
    )
    assert "the target accepted no event" in ran.out, ran.out
    assert "likely cause: 503 after PATCH /orders/{id} answered 404" in ran.out, ran.out
    assert "each to the record its event names" in ran.out, ran.out
    assert '{method: PATCH, path: "/orders/{id}", status: 200}' in ran.out, ran.out
    assert "earlier run" not in ran.out and "Trace the recording" not in ran.out, ran.out


def test_a_sequence_field_of_the_example_is_numbered_per_record_in_the_hazards(
    tmp_path: Path,
) -> None:
    example = {**CONTACT, "sequence": 1}
    ran, found = hazard(
        tmp_path, "buffered_upsert", "/webhook/contacts", example, "simultaneous-same-record"
    )
    assert "sequence: $.sequence" in (tmp_path / "harness.yaml").read_text()
    assert found["no_lost_events"]["status"] == "pass", found["no_lost_events"]
    assert found["final_state_matches_baseline"]["status"] == "pass", found
    assert ran.code == 0, ran.out


@pytest.mark.parametrize(
    ("app", "name", "told", "not_told"),
    [
        (
            "background_queue",
            "ambiguous-commit",
            "a write the API had applied but answered 502",
            "does not reach every copy",
        ),
        (
            "bulk_writer",
            "duplicate-storm",
            "repeated their item within one call",
            "it deduplicates",
        ),
    ],
    ids=["redone-after-502", "twice-in-one-call"],
)
def test_duplicates_another_cause_explains_are_not_blamed_on_an_unshared_dedup(
    tmp_path: Path, app: str, name: str, told: str, not_told: str
) -> None:
    twice = failed(tmp_path, app, "/webhook/orders", ORDER, name)["no_duplicate_effects"]
    assert told in twice and not_told not in twice, twice


@pytest.mark.parametrize(
    ("app", "hook", "example", "name", "invariant", "cause"),
    [
        (
            "arrival_wins",
            "/webhooks/contacts",
            CONTACT,
            "duplicate-storm",
            "per_key_order",
            "the sender's copy of it, delivered after, was written again",
        ),
        (
            "background_queue",
            "/webhook/orders",
            ORDER,
            "renamed-field",
            "no_lost_events",
            "on are lost, none before: it stopped working then",
        ),
        (
            "circuit_breaker",
            "/webhooks/orders",
            "shopify:orders/create",
            "import-run-twice",
            "no_duplicate_effects",
            "nothing in this run shows that the automation deduplicates",
        ),
        (
            "contact_sync",
            "/hooks/orders",
            {**ORDER, "sequence": 1},  # numbered: the orders' own order, where times tie
            "simultaneous-same-record",
            "per_key_order",
            "both events were in flight at once (each sent before the other was answered) and "
            "the target worked them at the same time",
        ),
        (
            "huey_checkouts",
            "/webhooks/stripe",
            "stripe:checkout.session.completed",
            "duplicate-storm",
            "no_duplicate_effects",
            "written by two copies in flight at the same time",
        ),
    ],
    ids=["stale-copy", "worker-stopped", "not-deduplicated", "worked-at-once", "raced-acked"],
)
def test_a_failure_names_the_cause_the_run_shows(
    tmp_path: Path,
    app: str,
    hook: str,
    example: dict[str, Any] | str,
    name: str,
    invariant: str,
    cause: str,
) -> None:
    found = failed(tmp_path, app, hook, example, name)
    assert cause in found.get(invariant, ""), found


def test_ids_rounded_alike_in_both_runs_are_twins_in_the_final_state(tmp_path: Path) -> None:
    invoice = {
        "id": "evt_1",
        "type": "invoice.paid",
        "occurred_at": "2026-01-01T00:00:00Z",
        "data": {
            "invoice_id": "inv_1",
            "account_id": 9007199254740993,  # 2**53 + 1: no double holds it
            "amount": 1999,
            "currency": "usd",
            "email": "ada@example.com",
        },
    }
    _, found = hazard(
        tmp_path, "float_ids", "/hooks/invoices", invoice, "out-of-order", settle=QUICK
    )
    final = found["final_state_matches_baseline"]
    assert final["status"] == "pass", final


def test_collections_named_by_derived_ids_are_compared_by_route_not_by_path(
    tmp_path: Path,
) -> None:
    stub = '{method: PATCH, path: "/orders/{id}", status: 200}'
    _, found = hazard(
        tmp_path, "activity_log", "/hooks/orders", ORDER, "out-of-order", stub, settle=QUICK
    )
    final = found["final_state_matches_baseline"]
    assert final["status"] == "inconclusive", final
    assert "hold as many per collection as the baseline's" in final["summary"], final


def test_drifted_events_alone_after_a_stop_are_not_excused_by_it(tmp_path: Path) -> None:
    found = failed(
        tmp_path,
        "graphql_customers",
        "/webhooks/stripe",
        "stripe:checkout.session.completed",
        "renamed-field",
        QUICK,
    )
    drift = found["drift_is_loud"]
    assert drift.startswith("20 drifted events of 20 reached a downstream"), drift
    assert "stopped" not in drift, drift


def test_an_automation_that_reads_one_event_a_request_is_told_its_provider_batches(
    tmp_path: Path,
) -> None:
    ran, _ = hazard(
        tmp_path,
        "hubspot_contacts",
        "/hooks/hubspot",
        "hubspot:contact.propertyChange",
        "duplicate-storm",
        settle=QUICK,
    )
    assert "HubSpot sends its events in batches" in ran.out, ran.out
    assert "the automation crashed" not in ran.out, ran.out
