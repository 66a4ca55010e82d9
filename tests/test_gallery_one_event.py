"""Verdicts of a run of one event say one: tests/gallery/first_page.py sent a single contact.

Against a double that answers its list whole, the run's cause read "GET /contacts on api was
answered 200 1 times (the first eff_1) … wrote nothing after most of them"; recovered after an
outage, "all 1 event accepted during 1 fault window … got their expected effects". Each now
agrees with its number (``_facts.plural``, ``_facts.times``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import SECRET
from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration


def _run(tmp_path: Path, scenario: str) -> dict[str, Any]:
    with automation("first_page", "/hooks/orders") as target:
        _, report = run(
            target, str(SCENARIOS / f"{scenario}.yaml"), tmp_path, env={"HARNESS_SECRET": SECRET}
        )
    return report


def test_one_list_read_is_said_once(tmp_path: Path) -> None:
    report = _run(tmp_path, "contact-once-unpaged")
    [only] = report["runs"]
    assert only["likely_cause"].startswith(
        "the automation answered 500 after reading a list: GET /contacts on api was answered "
        "200 once (eff_1), by the downstream double with the whole collection as a plain JSON "
        "array, and the automation wrote nothing after it. "
    ), only["likely_cause"]
    errors = verdicts(report)["no_server_errors"]
    assert "was answered 200 once (eff_1)" in errors["summary"], said(errors)


def test_one_event_recovered_after_an_outage_is_said_one(tmp_path: Path) -> None:
    recovered = verdicts(_run(tmp_path, "contact-once-outage"))["recovers_after_outage"]
    assert recovered["status"] == "pass", said(recovered)
    assert recovered["summary"].startswith(
        "the 1 event accepted during 1 fault window or after (1 refused while it was open, "
        "accepted once closed) got its expected effects within 300 s of the window closing"
    ), said(recovered)
