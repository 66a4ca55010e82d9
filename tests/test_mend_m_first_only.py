"""A dedup keyed on a value every event shares, learned from a clean run that shares the flaw:
Attio's ``webhook_id`` names the webhook, the same in every delivery, so the receiver logs the
first change and answers every later one 200 "already handled", in the clean run too. With no
``expect:`` block the clean run's silence was taken for design and ``no_lost_events`` passed
"all 12 accepted events made their expected effects" (tests/gallery/attio_changes.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_gallery import SCENARIOS, automation, said, verdicts
from .test_gallery import run as run_scenario
from .test_gallery_round22 import ATTIO

pytestmark = pytest.mark.integration


def unexpected(tmp_path: Path) -> Path:
    """attio-changes-retried.yaml without its ``expect:`` block, beside its recorded file."""
    text = (SCENARIOS / "attio-changes-retried.yaml").read_text()
    text, n = re.subn(r"\nexpect:\n(  .*\n)+", "\n", text)
    assert n == 1
    (tmp_path / "attio-record-changes.jsonl").write_text(
        (SCENARIOS / "attio-record-changes.jsonl").read_text()
    )
    path = tmp_path / "attio-changes-learned.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("dedup", ["webhook-id", "idempotency-key"])
def test_a_clean_run_that_acted_on_its_first_event_only_is_not_learned_as_design(
    tmp_path: Path, dedup: str
) -> None:
    with automation("attio_changes", "/webhooks/attio", {**ATTIO, "DEDUP": dedup}) as target:
        _, report = run_scenario(target, str(unexpected(tmp_path)), tmp_path, env=ATTIO)
    lost = verdicts(report)["no_lost_events"]
    if dedup == "idempotency-key":
        assert lost["status"] == "pass", said(lost)
        return
    assert lost["status"] == "fail", said(lost)
    # The first change's record got its write; the other three records none, in either run.
    assert "3 records short of POST /changes (per record)" in lost["summary"], said(lost)
    assert "a dedup or lookup keyed on a value every event shares" in said(lost), said(lost)
