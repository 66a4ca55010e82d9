"""An automation written for a paged API, run against a double that answers its lists whole.

``harness init`` writes a ``stateful: true`` double (``page_size`` offered in a comment), whose
``GET /contacts`` answers a plain JSON array; ``first_page`` (tests/gallery) reads
``page["data"]`` and answers 500 to every delivery.
The standard suite said only "likely cause: the automation crashed". The cause is the double's
answer to the automation's read of a collection: the verdict names the call and ``page_size:``,
with which the same automation holds (``invariants/_refusal_context.plain_list``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from .conftest import SECRET, harness
from .test_gallery import QUICK, automation, init_project, said, verdicts

pytestmark = pytest.mark.integration

EXAMPLE = {
    "id": "evt_1",
    "type": "contact.updated",
    "timestamp": "2026-01-01T00:00:00.000Z",
    "sequence": 1,
    "data": {
        "contact_id": "con_1",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "company": "Analytical Engines Ltd",
    },
}


def _run(
    tmp_path: Path, paged: bool, hazard: str = "duplicate-storm"
) -> tuple[int, dict[str, Any]]:
    """``harness init`` over the contact example, as a new user runs it — with the
    ``page_size`` it offers in a comment taken up, or not — then ``harness run HAZARD``."""
    example = tmp_path / "contact.json"
    example.write_text(json.dumps(EXAMPLE))
    with automation("first_page", "/hooks/orders") as target:
        api = f"api={target.downstream_port}"
        init_project(
            "standard-webhooks", str(example), target.url, api, tmp_path,
            "--secret-env", "HARNESS_SECRET",
        )  # fmt: skip
        project = tmp_path / "harness.yaml"
        if paged:
            project.write_text(project.read_text().replace("# page_size: 100", "page_size: 20"))
        report = tmp_path / "report.json"
        done = harness(
            "run", hazard, "--seed", "5", "--report", str(report),
            "--journal", str(tmp_path / "j.db"), *QUICK, cwd=tmp_path,
            env={"HARNESS_SECRET": SECRET},
        )  # fmt: skip
    assert report.exists(), done.out + done.err
    return done.code, json.loads(report.read_text())


def test_a_500_after_a_list_answered_whole_names_the_read_and_page_size(tmp_path: Path) -> None:
    code, report = _run(tmp_path, paged=False)
    errors = verdicts(report)["no_server_errors"]
    assert errors["status"] == "fail", said(errors)
    assert (
        "likely cause: the automation answered 500 after reading a list: GET /contacts on api "
        "was answered 200 93 times (the first eff_1), by the downstream double with the whole "
        "collection as a plain JSON array"
    ) in errors["summary"], said(errors)
    assert "set `page_size:` on downstream api in harness.yaml" in errors["summary"]
    [run] = report["runs"]
    assert "500 after GET /contacts was answered a plain list" in json.dumps(run), run.keys()
    assert code == 1


def test_the_same_automation_answers_once_the_double_pages(tmp_path: Path) -> None:
    _, report = _run(tmp_path, paged=True)
    errors = verdicts(report)["no_server_errors"]
    assert errors["status"] == "pass", said(errors)


def test_during_an_outage_the_5xx_no_fault_window_met_are_said_a_plain_list(
    tmp_path: Path,
) -> None:
    # The window explains the 500s whose GET it refused (503); before, the others went
    # unexplained too ("120 of 120 deliveries (100%) got a server error").
    _, report = _run(tmp_path, paged=False, hazard="downstream-outage")
    errors = verdicts(report)["no_server_errors"]
    assert errors["status"] == "fail", said(errors)
    assert re.search(
        r"; likely cause of the \d+ answered while no fault window met their calls: the "
        r"automation answered 500 after reading a list: GET /contacts on api",
        errors["summary"],
    ), said(errors)
    # The run's own cause (the refusal box, accepts_genuine) is counted from the journal: the
    # reads answered whole and those the window refused. It said "the automation crashed" in some
    # runs and "500 while api was failing" in others, by how the flights overlapped.
    [run] = report["runs"]
    assert run["likely_cause"].startswith(
        "the automation answered 500 after reading a list: GET /contacts on api was answered 200 "
    ), run["likely_cause"]
    assert re.search(
        r"\. \d+ more of those reads (was|were) answered by a fault window on api instead",
        run["likely_cause"],
    ), run["likely_cause"]
    genuine = verdicts(report)["accepts_genuine"]
    assert "500 after GET /contacts was answered a plain list" in said(genuine), said(genuine)
