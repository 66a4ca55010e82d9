"""A fetch-on-receipt Attio sync whose find-or-create races (tests/gallery/fetch_upsert):
changes of one record arriving together each create the customer where the clean run created
it once and updated it after. Its writes name the record only.

Before, no_lost_events failed "2 records short of PATCH /customers/{id}" — a loss — where each
change had written the customer, by creating it: a race, or an update lost with another
change's creation in its place, which the writes cannot tell. The copies are
final_state_matches_baseline's to fail, and no_duplicate_effects' (a customer created twice,
whichever change created it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration

SCENARIO = str(SCENARIOS / "attio-records-simultaneous.yaml")


def test_a_racing_find_or_create_is_not_called_lost(tmp_path: Path) -> None:
    with automation("fetch_upsert", "/webhooks/attio") as target:
        done, report = run(target, SCENARIO, tmp_path)
    found = verdicts(report)
    lost = found["no_lost_events"]
    assert lost["status"] == "inconclusive", said(lost)
    made = re.search(
        r"^not judged: (\d+) records? got no PATCH /customers/\{id\} where their clean twin "
        r"made some, but as many writes of the item as it by creating it anew \(record \S+: "
        r"(\d+) POST /customers and 0 other writes of the item, where its clean twin made "
        r"(\d+) and (\d+)\)",
        lost["summary"],
    )
    assert made is not None, said(lost)
    assert int(made[2]) >= int(made[3]) + int(made[4]) and int(made[2]) > int(made[3])
    assert "those writes name their record, not their event" in lost["summary"]
    # Whichever change made it, a customer created twice is a duplicate: created 201 each.
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "fail", said(dup)
    assert re.match(
        r"\d+ records? got more resources created by POST /customers than the clean run \S+ "
        r"created for the same events, all accepted \(record \S+: [23] created, where its clean "
        r"twin got 1\): a resource made twice",
        dup["summary"],
    ), said(dup)
    state = found["final_state_matches_baseline"]
    assert state["status"] == "fail", said(state)
    assert "where the baseline has 1" in said(state)
    assert done.code == 1


def test_a_debounce_that_drops_the_latest_change_is_still_lost(tmp_path: Path) -> None:
    """``SKIP_BUSY=1``: the changes that arrive while their record is syncing are dropped,
    and the record gets fewer writes than its clean twin — a loss, creations or not."""
    with automation("fetch_upsert", "/webhooks/attio", {"SKIP_BUSY": "1"}) as target:
        done, report = run(target, SCENARIO, tmp_path)
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert re.search(r"\d+ records? short of PATCH /customers/\{id\}", lost["summary"]), said(lost)
    assert "creating it anew" not in lost["summary"]
    assert done.code == 1
