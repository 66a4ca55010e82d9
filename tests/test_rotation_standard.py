"""``secret-rotation`` in the ``standard`` suite: where the next secret's variable is unset the
hazard is not tried (as deploy-restart without a restart:), and a run, its report (JSON,
Markdown, HTML, JUnit) and ``harness check`` of its journal say so and never read as Ready;
accepts_genuine's failure counts the refused deliveries by the rotation's phase and dates the
rotation at its start."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.core._model import Status
from harness.scenario._load import resolve

from .conftest import Automation, harness
from .test_accepts_genuine import ROTATION, run, verdict

NOT_TRIED = (
    "secret-rotation not tried: set $HARNESS_SECRET_NEXT to a second secret "
    "(docs/providers.md#secret-rotation)"
)
NO_RESTART = (
    "deploy-restart not tried: give harness.yaml a restart: {command: [...]} that restarts the "
    "automation as your deploy does (docs/project.md#restart)"
)


def test_standard_holds_secret_rotation() -> None:
    assert "secret-rotation" in [s.name for s in resolve(["standard"])]


def test_a_refusal_after_the_overlap_counts_the_refused_by_phase_and_dates_the_rotation() -> None:
    """dlv_1..3 signed with the old secret, dlv_4..5 both, dlv_6..8 the new one alone; the
    last three refused. The summary gave every delivery's phase after "were refused" (3, 2,
    3) and dated the rotation at the overlap's end (1.50 s)."""
    v = verdict(run([200, 200, 200, 200, 200, 401, 401, 401], rotation=ROTATION))
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "3 of the 8 genuine deliveries were refused (0 signed with the old secret alone, 0 with "
        "both, 3 with the new one alone), from 1.50 s on (dlv_6, dlv_7, dlv_8); likely cause: "
        "refused from 1.50 s on (the rotation began at 1.00 s, both secrets signing until "
        "1.50 s), signed with the new secret (in $STRIPE_WEBHOOK_SECRET_NEXT) alone"
    ), v.summary


def test_refusals_in_the_overlap_and_after_are_counted_in_each_phase() -> None:
    v = verdict(run([200, 200, 200, 400, 400, 401, 401, 401], rotation=ROTATION))
    assert v.status is Status.FAIL
    assert "were refused (0 signed with the old secret alone, 2 with both, 3 with the new one " in (
        v.summary
    )
    assert "refused from the rotation at 1.00 s on, while each delivery carried two" in v.summary


def test_a_one_signature_switch_is_dated_at_the_rotation() -> None:
    """No overlap (GitHub, Shopify...): the new secret alone from the rotation on."""
    switch = {**ROTATION, "end": ROTATION["start"]}
    v = verdict(run([200, 200, 200, 401, 401], rotation=switch))
    assert "were refused (0 signed with the old secret alone, 0 with both, 2 with" in v.summary
    assert "likely cause: refused from the rotation at 1.00 s on, signed with the new" in v.summary


@pytest.mark.integration
def test_a_rotation_not_tried_keeps_the_report_from_ready(
    tmp_path: Path, sound: Automation, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HARNESS_SECRET_NEXT unset and no restart: the sound automation holds duplicate-storm,
    and secret-rotation and deploy-restart (both in standard) are not tried. Before, the report
    read "Ready" (those hazards "skipped", as another provider's retry storm is) and `harness
    check` of the journal never named them."""
    monkeypatch.delenv("HARNESS_SECRET_NEXT", raising=False)
    journal = tmp_path / "journal.db"
    flags = ["--target", sound.hook, "--downstream", f"127.0.0.1:{sound.downstream_port}"]
    done = harness(
        "run", "duplicate-storm", "secret-rotation", "deploy-restart", *flags, "--seed", "3",
        "--journal", str(journal), "--report", str(tmp_path / "report.json"), cwd=tmp_path,
    )  # fmt: skip
    assert done.code == 0, done.out + done.err
    assert NOT_TRIED in done.err, done.err  # the run's header
    assert "secret-rotation ○ not tried: set $HARNESS_SECRET_NEXT" in done.out, done.out
    assert "2 hazards not tried" in done.out, done.out
    doc = json.loads((tmp_path / "report.json").read_text())
    assert all(run["passed"] for run in doc["runs"]), doc["runs"]
    assert (doc["ready"], doc["verdict"]) == (False, "Not ready")
    assert NOT_TRIED in doc["headline"] and NO_RESTART in doc["headline"], doc["headline"]
    assert [(s["scenario"], s["not_tried"]) for s in doc["skipped"]] == [
        ("secret-rotation", True),
        ("deploy-restart", True),
    ]

    checked = harness("check", str(journal), "--report", str(tmp_path / "check.md"), cwd=tmp_path)
    assert checked.code == 0, checked.out + checked.err
    assert "secret-rotation ○ not tried: set $HARNESS_SECRET_NEXT" in checked.out, checked.out
    markdown = (tmp_path / "check.md").read_text()
    assert markdown.startswith("# Production readiness: Not ready"), markdown[:200]
    assert f"- {NOT_TRIED}" in markdown.replace("\\", ""), markdown
    assert "deploy-restart not tried: give harness.yaml" in markdown, markdown
    for fmt in ("html", "xml"):
        path = tmp_path / f"report.{fmt}"
        again = harness("report", str(journal), "-o", str(path), cwd=tmp_path)
        assert again.code == 0, again.out + again.err
        assert "Not ready" in again.err, again.err
    assert "<h1>Not ready</h1>" in (tmp_path / "report.html").read_text()
    junit = ET.parse(tmp_path / "report.xml").getroot()
    messages = [s.get("message", "") for s in junit.iter("skipped")]
    assert any(m.startswith(NOT_TRIED) for m in messages), messages
