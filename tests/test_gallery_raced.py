"""Duplicates written by copies of one event in flight together, named as the race they are.

``shopify_dedup`` (tests/gallery) handles each ``X-Shopify-Webhook-Id`` once, marking it only
once its deal is written: under the built-in duplicate-storm over a Shopify project, a copy a
second later is skipped, but two copies at the same instant both pass the check and both write.
``no_duplicate_effects`` failed saying only "18 repeated requests (18 POST)", which sends its
author to deduplicate on the webhook id, as it already does (``invariants/_raced_copies``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import harness
from .test_gallery import QUICK, SHOPIFY, automation, said, verdicts

pytestmark = pytest.mark.integration


def test_a_dedup_marked_after_the_work_is_told_its_check_races_copies_in_flight(
    tmp_path: Path,
) -> None:
    with automation("shopify_dedup", "/webhooks/orders", SHOPIFY) as target:
        project = tmp_path / "harness.yaml"
        project.write_text(
            f"target: {target.url}\nprovider: shopify\nsecret_env: SHOPIFY_WEBHOOK_SECRET\n"
            "events:\n  - library: shopify:orders/create\n"
            f"downstreams:\n  - name: crm\n    port: {target.downstream_port}\n"
        )
        report = tmp_path / "report.json"
        done = harness(
            "run", "duplicate-storm", "--project", str(project), "--seed", "5",
            "--report", str(report), "--journal", str(tmp_path / "j.db"), *QUICK, env=SHOPIFY,
        )  # fmt: skip
    assert report.exists(), done.out + done.err
    twice = verdicts(json.loads(report.read_text()))["no_duplicate_effects"]
    assert twice["status"] == "fail", said(twice)
    summary = twice["summary"]
    assert "written by two copies in flight at the same time (e.g. dlv_" in summary, said(twice)
    assert "other events were skipped: the automation deduplicates, but a copy checks the " in (
        summary
    ), said(twice)
    assert "check-then-act" in summary and "does not deduplicate" not in summary
    assert done.code == 1
