"""`harness locust` of the gallery's automations that drop or shed what they cannot take now,
driven as a user's project (``harness init``, then a built-in hazard under Locust): the
verdicts name the cause the journal shows, not a crash or a dead worker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import harness
from .test_gallery import said
from .test_gallery_round8 import SHOPIFY, STRIPE, project
from .test_locust import forked_locust  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("forked_locust")]


def load_test(cwd: Path, hazard: str, env: dict[str, str], events: int) -> dict[str, Any]:
    """``harness locust HAZARD`` of ``events`` events in the project ``cwd``: the run's
    verdicts by invariant."""
    report = cwd / "r.json"
    # In this process (its Locust a child all the same): only the report is read.
    done = harness(
        *("locust", hazard, "--seed", "5", "--events", str(events), "--report", str(report)),
        *("--", "--headless", "--only-summary", "-u", "10", "-r", "100", "-t", "30s"),
        cwd=cwd,
        env=env,
    )
    assert report.exists(), f"exit {done.code}\n{done.out}\n{done.err}"
    (run,) = json.loads(report.read_text())["runs"]
    return {v["invariant"]: v for v in run["verdicts"]}


def test_orders_each_refused_429_and_skipped_are_dropped_not_a_dead_worker(
    tmp_path: Path,
) -> None:
    """tests/gallery/throttled_orders under downstream-throttled: every order's one POST
    /orders answered 429 and skipped ("rate limited, skipping"). It was told 'it stopped
    working at the first event … a worker that died'. Three hundred orders: the window opens
    0.1 s into the run, and forty were all sent and written before it."""
    with project(
        tmp_path, "throttled_orders", "/webhooks/orders", SHOPIFY, "shopify:orders/create"
    ):
        verdicts = load_test(tmp_path, "downstream-throttled", SHOPIFY, 300)
    lost = verdicts["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert "stopped working" not in lost["summary"], said(lost)
    assert "it drops an event's work when the downstream refuses its call" in lost["summary"], said(
        lost
    )
    assert "answered 429, Retry-After 1 s), none made again in the" in lost["summary"], said(lost)


def test_checkouts_a_full_queue_refuses_503_are_load_shed_not_a_crash(tmp_path: Path) -> None:
    """tests/gallery/worker_pool with WHEN_FULL=refuse under bulk-import-burst: most
    checkouts answered 503 at once while its four workers were busy. no_server_errors still
    fails (a 5xx is a 5xx to Stripe), now naming the cause; it named none, and the refusal box
    said 'the automation crashed (5xx)'."""
    env = {**STRIPE, "WHEN_FULL": "refuse"}
    checkouts = "stripe:checkout.session.completed"
    with project(tmp_path, "worker_pool", "/webhooks/stripe", env, checkouts):
        verdicts = load_test(tmp_path, "bulk-import-burst", STRIPE, 100)
    errors = verdicts["no_server_errors"]
    assert errors["status"] == "fail", said(errors)
    assert "; likely cause: the automation answered 503 at once (" in errors["summary"]
    assert "it sheds load when full" in errors["summary"], said(errors)
    assert "Stripe redelivers what is answered 5xx" in errors["summary"], said(errors)
    assert "this run sent none of them (a load test never does)" in errors["summary"]


HUBSPOT = {"HUBSPOT_CLIENT_SECRET": "locust0hubspot0batches0not0real"}  # the test's own


def test_hubspot_events_under_locust_are_batches_of_one(tmp_path: Path) -> None:
    """tests/gallery/member_sync reads each HubSpot delivery's body as the list HubSpot sends.
    Under Locust each event was posted bare, an object: all 300 answered 500, no_server_errors
    failed, and the cause blamed the receiver ("written for one event a request"). Each is now
    a batch of one, signed over the array."""
    changes = "hubspot:contact.propertyChange"
    with project(tmp_path, "member_sync", "/hubspot/webhook", HUBSPOT, changes):
        verdicts = load_test(tmp_path, "bulk-import-burst", HUBSPOT, 60)
    for name in ("no_server_errors", "accepts_genuine", "no_lost_events"):
        assert verdicts[name]["status"] == "pass", said(verdicts[name])
