"""Flawed automations of the gallery run through a two-month year: each holds in January and
fails in February, the month its flaw meets its life event (docs/year.md) — a signature checked
against one secret meets the rotation, a token fetched once meets the first expiry, a list read
to its first page meets pagination. The unbounded dedup store's latency trend is
tests/test_year_trends.py; the sound demo's year, tests/test_year_runs.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import SECRET, harness_process
from .test_gallery import SCENARIOS, automation

pytestmark = [pytest.mark.integration, pytest.mark.acceptance, pytest.mark.timeout(300)]

NEXT_SECRET = "whsec_bmV4dDBnYWxsZXJ5MHNlY3JldDBub3QwcmVhbA=="


def year_of(name: str, flaw: str, tmp_path: Path) -> tuple[int, str, dict[str, Any]]:
    """``harness run`` the calendar scenario ``name`` against gallery automation ``flaw``:
    the exit code, stderr, and the report's ``year``."""
    env = {"HARNESS_SECRET": SECRET, "HARNESS_SECRET_NEXT": NEXT_SECRET}
    with automation(flaw, "/hooks/orders", {"HARNESS_SECRET": SECRET}) as target:
        done = harness_process(
            "run", str(SCENARIOS / name), "--target", target.url,
            "--downstream", f"127.0.0.1:{target.downstream_port}", "--no-project",
            "--seed", "3", "--report", str(tmp_path / "report.json"),
            cwd=tmp_path, env=env, timeout=240,
        )  # fmt: skip
    assert "Traceback" not in done.err, done.err
    report = json.loads((tmp_path / "report.json").read_text())
    return done.code, done.err, report["year"]


def failed_by_month(year: dict[str, Any]) -> dict[str, list[str]]:
    return {m["label"]: m["failed"] for m in year["months"]}


@pytest.mark.parametrize(
    ("scenario", "flaw", "broken"),
    [
        ("year-secret-rotation.calendar.yaml", "one_secret", "accepts_genuine"),
        ("year-token-expiry.calendar.yaml", "token_once", "no_lost_events"),
        ("year-pagination.calendar.yaml", "first_page", "no_lost_events"),
    ],
)
def test_a_flaw_holds_until_the_month_it_meets_its_life_event(
    scenario: str, flaw: str, broken: str, tmp_path: Path
) -> None:
    code, err, year = year_of(scenario, flaw, tmp_path)
    assert code == 1, err
    failed = failed_by_month(year)
    assert failed["2028-01"] == [], (failed, err)
    assert broken in failed["2028-02"], (failed, err)
    assert year["survived"] is False
    assert "2028-02" in str(year["answer"]), year["answer"]
