"""``leave_out:`` in harness.yaml: an invariant that cannot apply to the automation, left out of
every built-in hazard with the project's reason. A correct Stripe ``invoice.paid`` receiver (the
sound demo) was inconclusive in per_key_order — each invoice event is about its own invoice, so
no order was shown kept — and inconclusive exits 1; left out, the run exits 0 and every report
says per_key_order was left out, and why, instead of passing it."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.core._model import Status
from harness.core._scenario import Skipped
from harness.scenario._hazards import resolve_hazards
from harness.scenario._project import load_project

from .conftest import ON_TIME, SECRET, Automation, harness, late_by_the_machine
from .test_invariants import delivery, effect, event, history, one
from .test_project import pytest_project

pytest_plugins = ["pytester"]

REASON = "each invoice event is about its own invoice"
ADVICE = (
    "if order cannot apply to this automation, leave per_key_order out in harness.yaml with the "
    "reason (docs/project.md#leave-out)"
)


def write(folder: Path, text: str) -> Path:
    path = folder / "harness.yaml"
    path.write_text("provider: stripe\nevents:\n  - library: stripe:invoice.paid\n" + text)
    return path


# --- the file (its bad values: test_project.BAD) -------------------------------------------


def test_a_bad_leave_out_exits_2_before_anything_is_sent(tmp_path: Path) -> None:
    write(tmp_path, "leave_out: {per_key_ordr: x}\n")
    done = harness("run", "--target", "http://127.0.0.1:1/", cwd=tmp_path)
    assert done.code == 2, done.out + done.err
    assert "harness.yaml:4: leave_out: key 'per_key_ordr' is not allowed" in done.err
    assert "Traceback" not in done.err and "running" not in done.err


def test_left_out_invariants_leave_the_hazards_that_judge_them(tmp_path: Path) -> None:
    text = f"leave_out:\n  per_key_order: {REASON}\n  rejects_forged: a gateway checks them\n"
    project = load_project(write(tmp_path, text))
    assert project.leave_out == (
        ("per_key_order", REASON),
        ("rejects_forged", "a gateway checks them"),
    )
    hazards = resolve_hazards(["duplicate-storm", "forged-signature", "missing-field"], project)
    runs = {s.name: s for s in hazards.scenarios}
    assert [i.name for i in runs["duplicate-storm"].invariants] == [
        "no_lost_events", "no_duplicate_effects", "ack_within", "no_server_errors",
        "accepts_genuine",
    ]  # fmt: skip
    assert runs["duplicate-storm"].left_out == (("per_key_order", REASON),)
    assert runs["forged-signature"].left_out == (("rejects_forged", "a gateway checks them"),)
    # A hazard that judges neither is as it was: nothing of it is left out.
    assert runs["missing-field"].left_out == ()
    assert "per_key_order" not in [i.name for i in runs["missing-field"].invariants]


def test_a_project_that_gives_only_leave_out_still_leaves_it_out(tmp_path: Path) -> None:
    path = tmp_path / "harness.yaml"
    path.write_text(f"leave_out: {{per_key_order: {REASON}}}\n")
    (scenario,) = resolve_hazards(["duplicate-storm"], load_project(path)).scenarios
    assert scenario.left_out == (("per_key_order", REASON),)


def test_a_hazard_with_every_invariant_left_out_is_skipped_with_why(tmp_path: Path) -> None:
    text = (
        "leave_out:\n  no_lost_events: a\n  no_duplicate_effects: b\n  per_key_order: c\n"
        "  ack_within: d\n  no_server_errors: e\n"
    )
    hazards = resolve_hazards(["duplicate-storm"], load_project(write(tmp_path, text)))
    assert hazards.scenarios == ()
    assert hazards.skipped == (
        Skipped(
            "duplicate-storm",
            "every invariant it judges is left out by the project: no_lost_events (a); "
            "no_duplicate_effects (b); per_key_order (c); ack_within (d); no_server_errors (e)",
            hazards.skipped[0].origin,
        ),
    )


def test_the_file_init_writes_shows_leave_out_and_takes_it_uncommented(tmp_path: Path) -> None:
    done = harness(
        "init", "--provider", "stripe", "--events", "stripe:invoice.paid",
        "--target", "http://127.0.0.1:8000/hooks/stripe", "--yes", cwd=tmp_path,
    )  # fmt: skip
    assert done.code == 0, done.err
    path = tmp_path / "harness.yaml"
    text = path.read_text()
    assert "# leave_out:\n#   per_key_order: " + REASON in text
    path.write_text(
        text.replace("# leave_out:", "leave_out:").replace("#   per_key_order", "  per_key_order")
    )
    assert load_project(path).leave_out == (("per_key_order", REASON),)


# --- the advice -----------------------------------------------------------------------------


def test_nothing_to_order_says_the_project_can_leave_it_out() -> None:
    """An automation that only reads for its event. Before, the verdict ended at 'nothing to
    order': nothing said what a project whose automation has no order to keep can do."""
    h = history([event(1)], [delivery("dlv_1", "evt_1")], [effect("e", ["evt_1"], 0.5, "GET")])
    v = one(h, "per_key_order")
    assert v.status is Status.INCONCLUSIVE
    assert v.summary.endswith("; " + ADVICE), v.summary


# --- a real run -----------------------------------------------------------------------------


def stripe_project(sound: Automation, more: str = "") -> str:
    return (
        f"target: {sound.service.url}/hooks/stripe\n"
        "provider: stripe\n"
        "secret_env: HARNESS_SECRET\n"
        "events:\n  - library: stripe:invoice.paid\n"
        f"downstreams:\n  - {{name: api, port: {sound.downstream_port}, stateful: true}}\n"
        "hazards: [duplicate-storm]\n" + more
    )


def _unmet(report: dict[str, object]) -> list[tuple[str, str]]:
    """Verdicts that did not pass, but an ack_within a loaded machine left inconclusive."""
    runs = report["runs"]
    assert isinstance(runs, list)
    return [
        (v["invariant"], v["summary"])
        for r in runs
        for v in r["verdicts"]
        if v["status"] != "pass"
        and not (v["invariant"] == ON_TIME and late_by_the_machine(v["status"], v["summary"]))
    ]


@pytest.mark.integration
def test_a_correct_invoice_receiver_exits_0_with_per_key_order_left_out(
    sound: Automation, tmp_path: Path
) -> None:
    (tmp_path / "harness.yaml").write_text(stripe_project(sound))
    args = ("run", "--time-scale", "0.05", "--report", "before.json", "--journal", "before.db")
    before = harness(*args, cwd=tmp_path)
    unmet = _unmet(json.loads((tmp_path / "before.json").read_text()))
    assert [name for name, _ in unmet] == ["per_key_order"], before.out + before.err
    assert ADVICE in unmet[0][1]
    assert before.code == 1

    (tmp_path / "harness.yaml").write_text(
        stripe_project(sound, f"leave_out:\n  per_key_order: {REASON}\n")
    )
    summary = tmp_path / "summary.md"  # the CI job summary, as GitHub Actions names it
    done = harness("run", "--time-scale", "0.05", "--report", "r.json", "--journal", "j.db",
                   cwd=tmp_path, env={"GITHUB_STEP_SUMMARY": str(summary)})  # fmt: skip
    report = json.loads((tmp_path / "r.json").read_text())
    assert _unmet(report) == [], done.out + done.err
    late = any(v["status"] != "pass" for r in report["runs"] for v in r["verdicts"])
    assert done.code == (1 if late else 0), done.out + done.err
    (run,) = report["runs"]
    assert "per_key_order" not in [v["invariant"] for v in run["verdicts"]]
    said = f"per_key_order left out by the project: {REASON}; not judged in duplicate-storm"
    assert said in done.out
    assert "1 invariant left out by the project (per_key_order)" in done.out
    assert report["left_out"] == [
        {"invariant": "per_key_order", "reason": REASON, "scenarios": ["duplicate-storm"]}
    ]
    assert report["headline"].endswith(
        " Not judged: 1 invariant left out by the project (per_key_order)."
    )
    # Each report re-judged from the journal says it too: the reason is kept in the run.
    for name in ("r.html", "r.md", "r.xml"):
        again = harness("report", "j.db", "-o", name, cwd=tmp_path)
        assert again.code == done.code, again.err
        assert "1 invariant left out by the project (per_key_order)" in again.err
    html = (tmp_path / "r.html").read_text()
    assert "<code>per_key_order</code> left out by the project, not judged" in html
    assert REASON in html
    markdown = (tmp_path / "r.md").read_text()
    said = "- ○ `per_key_order` left out by the project, not judged (neither held nor failed): "
    said += REASON
    assert said in markdown
    assert said in summary.read_text()
    case = (
        ET.parse(tmp_path / "r.xml")
        .getroot()
        .find("testsuite[@name='left out by the project']/testcase[@name='per_key_order']/skipped")
    )
    assert case is not None and REASON in case.attrib["message"]


@pytest.mark.integration
def test_pytest_skips_a_left_out_invariant_with_its_reason(
    sound: Automation, pytester: pytest.Pytester
) -> None:
    (pytester.path / "harness.yaml").write_text(
        stripe_project(sound, f"leave_out:\n  per_key_order: {REASON}\n")
    )
    proc = pytest_project(pytester, {"HARNESS_SECRET": SECRET})
    # ack_within, one item of the six judged (accepts_genuine too: the deliveries are signed),
    # may be left inconclusive by a loaded machine.
    late = "over the budget not counted" in proc.out
    assert proc.code == (1 if late else 0), proc.out + proc.err
    assert ("5 passed, 1 failed, 1 skipped" if late else "6 passed, 1 skipped") in proc.out
    assert f"per_key_order left out by the project: {REASON}" in proc.out
    assert "; left out by the project: per_key_order" in proc.out  # the readiness total
