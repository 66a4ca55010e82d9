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

from .conftest import harness
from .test_gallery import QUICK, SCENARIOS, automation, init_project, run, said, verdicts

pytestmark = pytest.mark.integration

SCENARIO = str(SCENARIOS / "attio-records-simultaneous.yaml")


def test_a_racing_find_or_create_is_not_called_lost(tmp_path: Path) -> None:
    with automation("fetch_upsert", "/webhooks/attio") as target:
        done, report = run(target, SCENARIO, tmp_path, *QUICK)
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
        done, report = run(target, SCENARIO, tmp_path, *QUICK)
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert re.search(r"\d+ records? short of PATCH /customers/\{id\}", lost["summary"]), said(lost)
    assert "creating it anew" not in lost["summary"]
    assert done.code == 1


def test_a_sync_whose_fetch_the_double_cannot_answer_is_told_to_stub_it(tmp_path: Path) -> None:
    """``harness init --provider attio --events attio:record.updated`` + ``harness run``, as a
    new user does: the double holds no Attio record, the sync's fetch gets 404 and it answers
    500 to every delivery. The verdicts said "likely cause: the automation crashed"; it is the
    read that wants a stub."""
    with automation("fetch_upsert", "/webhooks/attio") as target:
        api = f"api={target.downstream_port}"
        init_project("attio", "attio:record.updated", target.url, api, tmp_path)
        env = {"ATTIO_WEBHOOK_SECRET": "gallery0attio0secret0not0real"}  # the test's own
        ran = harness("run", "duplicate-storm", "--seed", "7", *QUICK, cwd=tmp_path, env=env)
    # Nothing accepted: nothing put to the test, but every delivery answered 500, which
    # duplicate-storm's no_server_errors counts — a failure found stands (docs/cli.md): exit 1.
    assert ran.code == 1, ran.out + ran.err
    assert "the target accepted no event" in ran.out and "✗ no_server_errors" in ran.out, ran.out
    assert "crashed" not in ran.out, ran.out
    read = "500 after GET /v2/objects/{id}/records/{id} answered 404"
    assert f"likely cause: {read}" in ran.out, ran.out
