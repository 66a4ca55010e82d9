"""A target that refuses every delivery (#13): never a pass, never Ready, and the console, the
report and the CI job summary say what it answered and the likely cause.

Each case is a real receiver on loopback (``tests.refusing_target``) driven by the real
``harness`` command: 401 (a signature checked another way), 404 (the wrong path), 400 (a payload
shaped differently), 500 (a crash); and one that accepts only 3 deliveries, whose refusals show
beside verdicts that still judge what was accepted. The not-running target is covered where it
dies during its clean run (test_target_available_runs) and where nothing listens (test_cli).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cli._processes import Service, free_port

from .conftest import REPO, SECRET, Completed, harness, start_module

pytestmark = pytest.mark.integration

VARIABLE = "STRIPE_WEBHOOK_SECRET"
PAYMENTS = """
name: payments
description: Twelve payments, a few delivered twice.
model: ledger
provider: {{name: stripe, retries: 0}}
source:
  synthetic:
    example: {{id: evt_1, type: order.paid, occurred_at: "2026-01-01T00:00:00Z",
              data: {{order_id: ord_1, amount: 1999, currency: usd}}}}
    events: 12
    records: 12
    over: 0.3s
    id: $.id
    key: $.data.order_id
    type: $.type
    time: $.occurred_at
perturbations:
  - duplicate: {{rate: 0.5, copies: 2, spread: 0}}
invariants:
  - no_lost_events
  - no_duplicate_effects
  - ack_within
  - no_server_errors
downstreams:
  - name: api
    routes:
      - {{method: POST, path: /payouts, status: 201}}
delivery: {{secret_env: {variable}, timeout: 5s}}
settle: {{quiet: 0.3s, deadline: 10s}}
baseline: false
"""


def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "payments.scenario.yaml"
    path.write_text(PAYMENTS.format(variable=VARIABLE))
    return path


def target(status: int, accept: int = 0, downstream: int = 0) -> Service:
    return start_module(
        f"refusing {status}",
        "tests.refusing_target",
        [
            "--status",
            str(status),
            "--accept",
            str(accept),
            "--downstream",
            f"http://127.0.0.1:{downstream}",
        ],
        {},
    )


@pytest.fixture
def summary(tmp_path: Path) -> Path:
    """A job summary file with a step's earlier output in it: appended to, never replaced."""
    path = tmp_path / "step-summary.md"
    path.write_text("earlier step output\n", encoding="utf-8")
    return path


def run(tmp_path: Path, service: Service, summary: Path, port: int | None = None) -> Completed:
    return harness(
        "run",
        str(scenario(tmp_path)),
        "--target",
        service.url + "/hooks/stripe",
        "--downstream",
        f"127.0.0.1:{port or free_port()}",
        "--seed",
        "7",
        "--journal",
        str(tmp_path / "run.db"),
        "--report",
        str(tmp_path / "report.json"),
        cwd=REPO,
        env={VARIABLE: SECRET, "GITHUB_STEP_SUMMARY": str(summary)},
    )


@pytest.fixture
def refusing(request: pytest.FixtureRequest) -> Iterator[Service]:
    service = target(request.param)
    yield service
    service.stop()


def verdicts(path: Path) -> dict[str, dict[str, Any]]:
    [run] = json.loads(path.read_text())["runs"]
    return {v["invariant"]: v for v in run["verdicts"]}


# status -> the answer's start, then what the likely cause must name
CASES = {
    401: (
        '401 {"error": "invalid signature"',
        [
            "the signature scheme or the secret",
            "signed the stripe way (stripe scheme)",
            f"the secret in ${VARIABLE}",
        ],
    ),
    404: ('404 {"error": "Not Found"}', ["the path or the method", "a POST to http://"]),
    400: (
        '400 {"error": "payload invalid"',
        [
            "the payload's shape",
            "the event id at $.id, the record key at $.data.order_id, the event type at $.type",
        ],
    ),
    500: ('500 {"error": "KeyError"', ["the automation crashed (5xx)"]),
}


@pytest.mark.parametrize("refusing", list(CASES), indirect=True, ids=str)
def test_a_target_that_refuses_everything_is_never_a_pass(
    refusing: Service, tmp_path: Path, summary: Path
) -> None:
    status = int(refusing.name.split()[1])
    answer, cause = CASES[status]
    done = run(tmp_path, refusing, summary)
    everything = done.out + done.err + summary.read_text() + (tmp_path / "report.json").read_text()
    assert SECRET not in everything

    found = verdicts(tmp_path / "report.json")
    # A server error is a failure found (exit 1); otherwise nothing was put to the test (exit 3).
    assert done.code == (1 if status == 500 else 3), done.out + done.err
    assert found["target_available"]["status"] == "pass"
    for name in ("no_duplicate_effects", "ack_within"):
        assert found[name]["status"] == "inconclusive", found[name]
        assert re.match(
            rf"not judged: the target accepted none of the (\d+) deliveries; \1 answered "
            rf"{status} \(likely cause: ",
            found[name]["summary"],
        ), found[name]["summary"]
        assert f"? {name} [" in done.out
    assert found["no_server_errors"]["status"] == ("fail" if status == 500 else "inconclusive")
    assert "✓ no_duplicate_effects" not in done.out

    assert f"the target accepted no event; most common answer: {answer}" in done.out
    line = next(x for x in done.out.splitlines() if x.startswith("  likely cause: "))
    for words in cause:
        assert words in line, line
    if status != 500:
        assert "put nothing to the test" in done.err

    doc = json.loads((tmp_path / "report.json").read_text())
    assert doc["ready"] is False
    [report_run] = doc["runs"]
    assert report_run["refused"].startswith("the target accepted no event; most common answer: ")
    assert all(words in report_run["likely_cause"] for words in cause)

    # The CI job summary: appended, with the matrix, the refusal and its cause.
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step output\n## harness: Not ready\n")
    assert (
        "| scenario | no_lost_events | no_duplicate_effects | ack_within | no_server_errors "
        "| accepts_genuine | target_available |" in text
    )
    assert re.search(r"\| payments ⚠ accepted 0 of \d+ deliveries \(most ", text), text
    assert f"(most {status}) | ? | ? | ? |" in text
    assert "- ⚠ **payments**: The target accepted no event; most common answer: " in text
    assert "Likely cause: " + cause[0] in text


def test_the_report_of_a_refused_run_shows_the_cause_and_the_matrix(
    tmp_path: Path, summary: Path
) -> None:
    service = target(401)
    try:
        assert run(tmp_path, service, summary).code == 3
    finally:
        service.stop()
    journal = tmp_path / "run.db"
    md, html = tmp_path / "report.md", tmp_path / "report.html"
    env = {VARIABLE: SECRET}
    assert harness("report", str(journal), "-o", str(md), env=env).code == 3
    assert harness("report", str(journal), "-o", str(html), env=env).code == 3
    checked = harness("check", str(journal), env=env)
    assert checked.code == 3 and "likely cause: the signature scheme or the secret" in checked.out

    text = md.read_text(encoding="utf-8")
    assert text.startswith("# Production readiness: Not ready\n")
    assert "the target accepted no event in 1 run (likely cause: signature scheme or secret)" in (
        text
    )
    assert "[?](#run-1-payments-no_duplicate_effects)" in text
    assert '<a id="run-1-payments-no_duplicate_effects"></a>?' in text
    assert "> Likely cause: the signature scheme or the secret" in text
    page = html.read_text(encoding="utf-8")
    assert 'id="run-1-payments-no_duplicate_effects"' in page
    assert '<a href="#run-1-payments-no_duplicate_effects"' in page
    assert "<strong>Likely cause:</strong> the signature scheme or the secret" in page
    assert SECRET not in text + page


def test_a_small_accepted_share_is_judged_with_the_refusals_beside_it(
    tmp_path: Path, summary: Path
) -> None:
    port = free_port()
    service = target(401, accept=3, downstream=port)
    try:
        done = run(tmp_path, service, summary, port)
    finally:
        service.stop()
    found = verdicts(tmp_path / "report.json")
    # What was accepted is judged: no verdict turned inconclusive for the refusals; and the
    # genuine deliveries refused fail accepts_genuine, judged in every signed run (it passed).
    assert found["no_duplicate_effects"]["status"] == "pass", found["no_duplicate_effects"]
    assert found["no_lost_events"]["status"] == "pass", found["no_lost_events"]
    assert found["accepts_genuine"]["status"] == "fail", found["accepts_genuine"]
    assert done.code == 1, done.out + done.err
    assert re.search(
        r"the target accepted only 3 of the \d+ deliveries: the verdicts judge those; most ",
        done.out,
    ), done.out
    assert "most common refusal: 401 " in done.out
    assert "  likely cause: the signature scheme or the secret" in done.out
    assert "put nothing to the test" not in done.err
    text = summary.read_text(encoding="utf-8")
    assert re.search(r"\| payments ⚠ accepted 3 of \d+ deliveries \(most 401\) \|", text)


def test_a_job_summary_that_cannot_be_written_is_a_warning(tmp_path: Path) -> None:
    service = target(401)
    try:
        done = run(tmp_path, service, tmp_path)  # a directory: cannot be appended to
    finally:
        service.stop()
    assert done.code == 3, done.out + done.err
    assert f"warning: could not append the job summary to {tmp_path}" in done.err
