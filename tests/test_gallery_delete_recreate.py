"""A CRM sync that "upserts" by delete and create (tests/gallery/delete_recreate.py), driven the
way a new user drives theirs: ``harness init`` for ``standard-webhooks:contact.updated``, then
``harness run`` of a hazard, each verdict read against the run's journal: a contact made twice is
one of a customer's contacts still standing (created, never deleted) beyond the first.

The API has no ``PUT``: each update finds the contact, deletes it, creates it again — so the
clean run creates once per update too, and deletes all but the last. A customer's updates at once
each find nothing (or the same old contact) and each create one: two or three contacts. It
passed ``no_duplicate_effects`` — as many creations as the clean run's — where it now counts the
contacts left standing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from harness.history import History, load_all
from harness.invariants._facts import plural
from harness.invariants._undone import issued_ids

from .test_gallery import QUICK, said
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

CONTACTS = "standard-webhooks:contact.updated"
SIGNING = {"WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}  # PROVIDERS.md's vector


def standing(journal: History) -> Counter[str]:
    """Per record, the contacts created (201) and never deleted after."""
    issued = issued_ids(journal.marks)
    deleted = {e.path: e.at for e in journal.effects if e.method == "DELETE" and e.committed}
    kept: Counter[str] = Counter()
    for e in journal.effects:
        if e.method == "POST" and e.status == 201 and e.key:
            gone = deleted.get(f"/contacts/{issued[e.id]}")
            if gone is None or gone < e.at:
                kept[e.key] += 1
    return kept


def judged(tmp_path: Path, hazard: str) -> tuple[dict[str, dict[str, Any]], History]:
    with project(tmp_path, "delete_recreate", "/webhooks/contacts", {}, CONTACTS):
        _, found = hazards(tmp_path, hazard, *QUICK, env=SIGNING)
    [db] = (tmp_path / "harness-runs").glob("*.db")
    [journal] = [r for r in load_all(db) if r.baseline is not None]
    return found[hazard], journal


def test_a_customers_updates_at_once_each_create_its_contact(tmp_path: Path) -> None:
    """Three updates of a customer at once: several contacts standing where the clean run left
    one; named per customer (it passed: 36 creations as the clean run's 36; fails before)."""
    verdicts, journal = judged(tmp_path, "simultaneous-same-record")
    assert journal.baseline is not None and set(standing(journal.baseline).values()) == {1}
    twice = {key for key, n in standing(journal).items() if n > 1}
    repeated = verdicts["no_duplicate_effects"]
    if not twice:  # a machine so slow that no two updates of a customer overlapped
        assert repeated["status"] == "pass", said(repeated)
        return
    assert repeated["status"] == "fail", said(repeated)
    assert repeated["summary"].startswith(
        f"{plural(len(twice), 'record')} got more resources created by POST /contacts than the "
        "clean run"
    ), said(repeated)
    assert "simultaneous events racing a find-or-create" in repeated["summary"]
    assert verdicts["final_state_matches_baseline"]["status"] == "fail"
    # Nothing lost: each update found nothing to delete. Its deletions are not called lost —
    # they were, "7 records short of DELETE /contacts/{id}" — nor passed: a deletion lost would
    # read the same (writes naming their record).
    lost = verdicts["no_lost_events"]
    assert lost["status"] == "inconclusive", said(lost)
    assert "fewer DELETE /contacts/{id} than their clean twin" in lost["summary"], said(lost)
    assert "a deletion that found nothing to remove" in lost["summary"], said(lost)


def test_copies_of_an_update_that_delete_and_create_again_are_no_skipped_copies(
    tmp_path: Path,
) -> None:
    """duplicate-storm: a late copy deletes its first's contact and creates it again, which the
    journal reads as the first's creation undone; the twins at once make two. The duplicates
    are failed, but never said to come from a target that deduplicates in a store some copies
    miss: this one deduplicates nothing (it was, 'it wrote 9 other events once')."""
    verdicts, _ = judged(tmp_path, "duplicate-storm")
    repeated = verdicts["no_duplicate_effects"]
    assert "it deduplicates, but" not in repeated["summary"], said(repeated)
    assert verdicts["no_lost_events"]["status"] == "pass", said(verdicts["no_lost_events"])
