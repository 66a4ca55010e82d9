"""A HubSpot receiver whose writes name the contact (the event's record), not the event, and
whose PATCH merges: judged through the real ``harness`` command (tests/gallery/hubspot_contacts).

Before, every effect naming only its record was "unattributed": no_lost_events and
no_duplicate_effects were inconclusive, saying "none of the effects could be attributed to an
event" of writes the harness had tied to their contacts. And where the PATCH named its event,
its identical repeat was failed as a duplicate, though HubSpot merges it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_gallery import QUICK, SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration

CONTACT = "PATCH /crm/v3/objects/contacts/{id}"


def test_contact_writes_are_judged_per_contact_and_redeliveries_not_passed(
    tmp_path: Path,
) -> None:
    """Nothing declares that the PATCH merges: more PATCHes per contact than the clean run
    made for the same events is inconclusive, saying they name the contact, not the event."""
    with automation("hubspot_contacts", "/hooks/hubspot") as target:
        done, report = run(
            target, str(SCENARIOS / "hubspot-contacts-redelivered.yaml"), tmp_path, *QUICK
        )
    found = verdicts(report)
    lost = found["no_lost_events"]
    assert lost["status"] == "pass", said(lost)
    assert "could not be attributed" not in said(lost)
    assert f"{CONTACT} compared per record" in lost["summary"], said(lost)
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "inconclusive", said(dup)
    made = re.search(
        rf"not judged: (\d+) records got more {re.escape(CONTACT)} than the clean run "
        r"\S+ made for the record's accepted events \(record \d+: (\d+), where its clean twin "
        r"got (\d+), the same \3 events, all accepted\); those writes name their record, not "
        "their event",
        dup["summary"],
    )
    assert made is not None and int(made[2]) > int(made[3]), said(dup)
    assert "could not be attributed" not in said(dup)
    assert any("naming no event (its clean twin: " in line for line in dup["evidence"]["lines"])
    assert report["ready"] is False
    assert done.code == 1


def test_contact_writes_declared_to_merge_pass_under_redeliveries(tmp_path: Path) -> None:
    """``merges:`` on the route: the same PATCH twice leaves the contact as once."""
    with automation("hubspot_contacts", "/hooks/hubspot") as target:
        done, report = run(
            target, str(SCENARIOS / "hubspot-contacts-merged.yaml"), tmp_path, *QUICK
        )
    found = verdicts(report)
    for name in ("no_lost_events", "no_duplicate_effects"):
        assert found[name]["status"] == "pass", said(found[name])
    assert found["no_duplicate_effects"]["summary"].startswith(
        "no write names an event, and none naming its record is one a repeat would harm; "
    ), said(found["no_duplicate_effects"])
    assert done.code == 0, done.out


def test_a_repeated_patch_naming_its_event_is_not_failed_until_its_route_is_declared(
    tmp_path: Path,
) -> None:
    """The email the PATCH writes is the event's: each PATCH names its event, and its
    identical repeat was failed as a duplicate. Merged or appended is the API's to say."""
    with automation("hubspot_contacts", "/hooks/hubspot") as target:
        done, report = run(
            target, str(SCENARIOS / "hubspot-emails-redelivered.yaml"), tmp_path, *QUICK
        )
    dup = verdicts(report)["no_duplicate_effects"]
    assert dup["status"] == "inconclusive", said(dup)
    assert re.match(
        r"not judged: \d+ events repeated an identical JSON object PATCH sent as "
        rf"application/json \({re.escape(CONTACT)} \(crm\): \d+\)",
        dup["summary"],
    ), said(dup)
    assert f"declare the route on downstream crm: `merges: ['{CONTACT}']`" in dup["summary"]
    assert done.code == 1


def test_activity_lines_are_owed_per_accepted_event_not_per_event(tmp_path: Path) -> None:
    """Redeliveries while the CRM refuses the middle of the run: the events refused made no
    line, the redelivered ones two. Fewer lines in all than the clean run made, so the count
    against the whole clean run passed ('no harmful duplicate effects'); owed per accepted
    event, they are more."""
    with automation("activity_log", "/hooks/orders") as target:
        done, report = run(
            target, str(SCENARIOS / "order-activity-outage-redelivered.yaml"), tmp_path, *QUICK
        )
    dup = verdicts(report)["no_duplicate_effects"]
    assert dup["status"] == "inconclusive", said(dup)
    made = re.search(
        r"this run made (\d+) POST /timeline/\{id\}/entries, \1 of them naming no event, where "
        r"its clean run made 20 \(\S+, 20 events accepted there, (\d+) of 20 here\)",
        dup["summary"],
    )
    assert made is not None and int(made[2]) < int(made[1]), said(dup)
    assert done.code == 1
