"""A year's maintenance window redelivered on the project provider's schedule, as a fault
hazard is: a gallery automation (a real process) run through ``harness run year`` over a
Stripe project (docs/year.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import harness
from .test_explore_project import STRIPE_PROJECT
from .test_gallery import STRIPE, automation

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PROJECT = (
    STRIPE_PROJECT
    + """\
      - {method: POST, path: /contacts, status: 201}
      - {method: POST, path: /deals, status: 201}
calendar:
  start: "2028-01-25"
  months: 1
  events_per_day: 24
  timezone: Europe/Berlin
  day_seconds: 1
  life:
    - {kind: maintenance, date: "2028-01-27", params: {hour: 6, hours: 12}}
"""
)


def test_the_maintenance_windows_refusals_are_redelivered_and_lost_on_stripes_retries(
    tmp_path: Path,
) -> None:
    """seen_first answers 500 while the CRM is down for maintenance, having marked the event
    seen: Stripe's retry after the window is answered 200 as a duplicate, and the checkout
    never gets its contact nor its deal — lost, in the month's count. Without the retries the
    run never redelivered them: never accepted, not counted lost, the 500s counted as crashes."""
    project = tmp_path / "harness.yaml"
    project.write_text(PROJECT, encoding="utf-8")
    with automation("seen_first", "/webhooks/stripe", STRIPE) as target:
        done = harness(
            "run", "year", "--project", str(project), "--target", target.url,
            "--downstream", f"127.0.0.1:{target.downstream_port}", "--seed", "5",
            "--report", str(tmp_path / "report.json"), "--journal", str(tmp_path / "year.db"),
            env=STRIPE,
        )  # fmt: skip
    assert "Traceback" not in done.err, done.err
    report: dict[str, Any] = json.loads((tmp_path / "report.json").read_text())
    [month] = report["year"]["months"]
    [run] = [r for r in report["runs"] if r["scenario"] == "year-2028-01"]
    assert (
        "Stripe redelivers what the target refuses: the run sends all its 8 retries"
        in (run["description"])
    )
    counts = run["counts"]
    assert counts["deliveries"] > counts["events"], counts  # the retries were sent
    verdicts = {v["invariant"]: v for v in run["verdicts"]}
    lost = verdicts["no_lost_events"]
    assert lost["status"] == "fail", lost["summary"]
    refused = counts["deliveries_by_outcome"]["failed"]
    assert lost["summary"].startswith(f"{refused} of {counts['events']} accepted events "), lost
    assert month["lost"] == refused > 0, month
    errors = verdicts["no_server_errors"]
    assert errors["status"] == "pass", errors["summary"]
    assert f"({refused} by the sender's retry;" in errors["summary"], errors["summary"]
    assert done.code == 1, done.err
