"""A target that goes away, through the real ``harness`` command: killed mid-run, dead during its
clean baseline run, or answering 500 to everything; exit codes, the JSON report and the console.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from harness.cli._processes import free_port
from harness.history import load_all

from .conftest import REPO, SECRET, Automation, Completed, harness, start_module
from .error_targets import PASSWORD

pytestmark = pytest.mark.integration

# Payments, one an order: 40 over 4 s leave time enough to kill the target in the middle.
PAYMENTS = """
name: payments
description: Forty payments over four seconds.
model: ledger
source:
  synthetic:
    example: {{id: evt_1, type: order.paid, sequence: 1, occurred_at: "2026-01-01T00:00:00Z",
              data: {{order_id: ord_1, customer: {{name: Ada Lovelace, email: ada@example.com}},
                     amount: 1999, currency: usd, note: Gift wrap please}}}}
    events: {events}
    records: {events}
    over: {over}
    id: $.id
    key: $.data.order_id
    type: $.type
    sequence: $.sequence
    time: $.occurred_at
invariants:
  - no_lost_events
  - no_duplicate_effects
{more}
downstreams:
  - name: api
    routes:
      - {{method: POST, path: /payouts, status: 201}}
delivery: {{signing: standard-webhooks, secret_env: HARNESS_SECRET, timeout: 5s}}
settle: {{quiet: 0.5s, deadline: 10s}}
"""


def scenario(tmp_path: Path, over: str = "4s", more: str = "", events: int = 40) -> Path:
    path = tmp_path / "payments.scenario.yaml"
    path.write_text(PAYMENTS.format(over=over, more=more, events=events))
    return path


def verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [run] = report["runs"]
    return {v["invariant"]: v for v in run["verdicts"]}


def test_a_target_killed_mid_run_fails_and_is_never_ready(
    sound: Automation, tmp_path: Path
) -> None:
    journal, report = tmp_path / "run.db", tmp_path / "report.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            # No clean run first: the kill must land in the scenario's own run (a target that
            # dies during the clean run has its own test below).
            str(scenario(tmp_path, more="baseline: false")),
            "--target",
            sound.hook,
            "--downstream",
            f"127.0.0.1:{sound.downstream_port}",
            "--journal",
            str(journal),
            "--report",
            str(report),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HARNESS_SECRET": SECRET, "COLUMNS": "200"},
    )
    answered = 0
    deadline = time.monotonic() + 30
    while answered < 5 and time.monotonic() < deadline:  # a few answered, then the kill
        time.sleep(0.1)
        try:
            answered = sum(d.status is not None for d in load_all(journal)[0].deliveries)
        except Exception:
            continue
    assert answered >= 5, "the run did not get going"
    sound.service.process.kill()  # SIGKILL: no goodbye, as an OOM kill
    out, err = proc.communicate(timeout=60)

    assert proc.returncode == 1, out + err
    doc = json.loads(report.read_text())
    assert doc["ready"] is False and doc["verdict"] == "Not ready"
    available = verdicts(doc)["target_available"]
    assert available["status"] == "fail" and available["class"] == "loud"
    assert "the target stopped answering at " in available["summary"]
    assert "could not connect" in available["summary"]
    assert available["evidence"]["lines"][0].startswith("last answer: delivery dlv_")
    [run] = doc["runs"]
    by_answer = run["counts"]["deliveries_by_answer"]
    assert by_answer["unanswered"] > 0 and by_answer["accepted"] >= 5
    assert sum(by_answer.values()) == run["counts"]["deliveries"] == 40
    assert "✗ target_available [loud]  the target stopped answering at" in out
    assert f"{by_answer['unanswered']} unanswered (no connection, reset, timeout)" in out
    # The events it never answered are not certified: no_lost_events passed on the accepted
    # ones, "never accepted by the target (not counted as lost)", while whether a retry would
    # find it back is not seen.
    # (A fail where the kill fell between an acceptance and its write: that event is lost.)
    lost = verdicts(doc)["no_lost_events"]
    assert lost["status"] in ("inconclusive", "fail"), lost
    assert "got no answer to every delivery" in lost["summary"], lost


def _dying_run(tmp_path: Path, die_after: int, *scenarios: str) -> Completed:
    """``harness run scenarios`` against the gallery's dies_midrun, which exits between
    requests after ``die_after`` events; journal and JSON report in ``tmp_path``."""
    port = free_port()
    service = start_module(
        "dies_midrun",
        "tests.gallery.dies_midrun",
        ["--port", "0", "--downstream", f"http://127.0.0.1:{port}", "--die-after", str(die_after)],
        {},
    )
    try:
        return harness(
            "run",
            *scenarios,
            "--target",
            service.url + "/hooks/orders",
            "--downstream",
            f"127.0.0.1:{port}",
            "--journal",
            str(tmp_path / "run.db"),
            "--report",
            str(tmp_path / "report.json"),
        )
    finally:
        service.stop()


def test_a_target_dead_before_the_next_scenario_keeps_the_verdicts_of_those_before(
    tmp_path: Path,
) -> None:
    """Two scenarios; the target dies after 20 events, within the first: the second's clean
    run and run reach nothing. It ended 'no delivery reached the target … nothing to judge'
    (exit 3) with no verdict printed and no report, the first scenario's judged run lost with
    it (the standard suite on the gallery's dies_midrun). Now the first is reported, the
    second named as where the target was gone, exit 1: target_available fails."""
    done = _dying_run(tmp_path, 20, "duplicate-storm", "bulk-import-burst")
    assert done.code == 1, done.out + done.err
    assert "the target stopped answering in the run of bulk-import-burst — none of its " in (
        done.err
    ), done.err
    assert "nothing to judge" not in done.err, done.err
    doc = json.loads((tmp_path / "report.json").read_text())
    assert [r["scenario"] for r in doc["runs"]] == ["duplicate-storm"]
    assert doc["ready"] is False
    assert verdicts(doc)["target_available"]["status"] == "fail"


def test_a_target_that_dies_during_its_clean_baseline_run_is_judged_not_unreachable(
    tmp_path: Path,
) -> None:
    """The clean run (asked for by final_state_matches_baseline) sends 200 events one after
    the other; the target dies after five (its timer looks every 50 ms), long before the last:
    the perturbed run reaches it no more. Not "could not be completed" (exit 3, for a target
    never reached): judged, target_available fails, exit 1; the others are not passes."""
    scenario_file = scenario(tmp_path, "1s", "  - final_state_matches_baseline", events=200)
    done = _dying_run(tmp_path, 5, str(scenario_file))
    assert done.code == 1, done.out + done.err
    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["ready"] is False
    available = verdicts(doc)["target_available"]
    assert available["status"] == "fail"
    assert available["summary"].startswith(
        "the target answered none of the 200 deliveries (200 could not connect)"
    )
    assert (
        "during the clean baseline run, the target stopped answering at " in (available["summary"])
    )
    # Nothing of the run was accepted: no other check passes (a failure found stands: the final
    # state differs from the clean run's), and the console and the report say the target is not
    # running.
    others = {n: v["status"] for n, v in verdicts(doc).items() if n != "target_available"}
    assert others["no_duplicate_effects"] == "inconclusive" and "pass" not in others.values()
    [run] = doc["runs"]
    assert run["likely_cause"].startswith("nothing answered at http://127.0.0.1:")
    assert "the target is not running" in run["likely_cause"]
    assert "likely cause: nothing answered at " in done.out


def test_an_all_500_run_shows_the_most_common_answer_redacted(tmp_path: Path) -> None:
    done = harness(
        "run",
        str(scenario(tmp_path, over="0.2s")),
        "--target",
        "tests.error_targets:always_500",
        "--downstream",
        f"127.0.0.1:{free_port()}",
        "--journal",
        str(tmp_path / "run.db"),
        "--report",
        str(tmp_path / "report.json"),
        cwd=REPO,
    )
    # Nothing accepted and no invariant failed: the run put nothing to the test (exit 3).
    assert done.code == 3, done.out + done.err
    assert "put nothing to the test" in done.err and "the automation crashed" in done.err
    assert (
        "40 deliveries: 0 accepted (2xx), 0 rejected (4xx), 40 failed (5xx), 0 unanswered"
        in done.out
    )
    assert re.search(
        r'the target accepted no event; most common answer: 500 \{"error": "OperationalError", '
        r'"password": "\[redacted \d+\]", "detail": "could not … \(40 of 40 deliveries\)',
        done.out,
    ), done.out
    assert "? no_lost_events [silent]  the target accepted no event" in done.out
    assert "likely cause: the automation crashed (5xx)" in done.out
    assert "3 inconclusive, 1 held" in done.out
    report = (tmp_path / "report.json").read_text()
    assert PASSWORD not in done.out + done.err + report
    [run] = json.loads(report)["runs"]
    assert run["counts"]["most_common_answer"]["status"] == 500
    # The journal keeps the start of the answer (the report and the console redact it).
    (history,) = load_all(tmp_path / "run.db")
    assert all(d.answer_body and len(d.answer_body.encode()) <= 200 for d in history.deliveries)
