"""`harness locust` of the gallery's automations that drop or shed what they cannot take now,
driven as a user's project (``harness init``, then a built-in hazard under Locust): the
verdicts name the cause the journal shows, not a crash or a dead worker.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import harness_process
from .test_gallery import said
from .test_gallery_round8 import SHOPIFY, project

pytestmark = pytest.mark.integration


def load_test(cwd: Path, hazard: str, env: dict[str, str], events: int) -> dict[str, Any]:
    """``harness locust HAZARD`` of ``events`` events in the project ``cwd``: the run's
    verdicts by invariant."""
    report = cwd / "r.json"
    done = harness_process(
        *("locust", hazard, "--seed", "5", "--events", str(events), "--report", str(report)),
        *("--", "--headless", "--only-summary", "-u", "10", "-r", "100", "-t", "30s"),
        cwd=cwd,
        env=env,
        timeout=90,
    )
    assert report.exists(), f"exit {done.code}\n{done.out}\n{done.err}"
    (run,) = json.loads(report.read_text())["runs"]
    return {v["invariant"]: v for v in run["verdicts"]}


def test_orders_each_refused_429_and_skipped_are_dropped_not_a_dead_worker(
    tmp_path: Path,
) -> None:
    """tests/gallery/throttled_orders under downstream-throttled: every order's one POST
    /orders answered 429 and skipped ("rate limited, skipping"). It was told 'it stopped
    working at the first event … a worker that died'."""
    with project(
        tmp_path, "throttled_orders", "/webhooks/orders", SHOPIFY, "shopify:orders/create"
    ):
        verdicts = load_test(tmp_path, "downstream-throttled", SHOPIFY, 40)
    lost = verdicts["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert "stopped working" not in lost["summary"], said(lost)
    assert "it dropped each after the downstream refused it (" in lost["summary"], said(lost)
    assert "answered 429, Retry-After 1 s) — never retried" in lost["summary"], said(lost)
