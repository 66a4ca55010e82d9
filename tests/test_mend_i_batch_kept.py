"""Which events of a batched request acted, and the cause said of those left alone.

tests/gallery/coalesced_changes.py with ``COALESCE=first`` (HubSpot ``contact.propertyChange``,
the batch gathered per contact with ``setdefault``) under simultaneous-same-record: its clean
run sent the 36 events in one request and wrote 10 contacts, the first change of each;
``no_lost_events`` said "a receiver that reads only part of the request's array (the first
event, `events[0]`) loses them — the likely cause … run a hazard that sends they in other
requests (duplicate-storm, out-of-order)": a cause the journal rules out, the hazard being run
named, and a typo. The cause is said now only where every such request fits it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core._model import Outcome
from harness.invariants._batch_kept import Kept, kept

from .test_gallery import said
from .test_gallery_round21 import HUBSPOT
from .test_invariants import delivery
from .test_mend_i_refused_whole import inconclusive_loss


def batch(*events: str, sent: float = 0.0) -> list:
    """One request's deliveries, in its array's order."""
    return [delivery(f"dlv_{sent}_{i}", e, Outcome.OK, sent=sent) for i, e in enumerate(events)]


KEYS = {"a1": "a", "a2": "a", "b1": "b", "b2": "b", "c1": "c"}


def test_the_acting_events_of_each_request_tell_which_rule_fits() -> None:
    # The first of each record acted: events[0] cannot write two records of one request.
    two = batch("a1", "b1", "a2", "b2") + batch("c1", sent=1.0)
    assert kept({"a2", "b2"}, {"a1", "b1", "c1"}, KEYS, two) is Kept.FIRST_PER_RECORD
    # Only the request's first acted, of several records: events[0].
    assert kept({"b1", "a2", "b2"}, {"a1"}, KEYS, batch("a1", "b1", "a2", "b2")) is Kept.FIRST
    # Neither: a newer event of a record acted where an older one of it did not.
    assert kept({"a1", "b2"}, {"a2", "b1"}, KEYS, batch("a1", "b1", "a2", "b2")) is None
    # One record in the request: the first acted, which both rules say; neither is told.
    assert kept({"a2"}, {"a1"}, KEYS, batch("a1", "a2")) is None


@pytest.mark.integration
def test_a_batch_coalesced_keeping_each_contacts_first_change_is_said_so(
    tmp_path: Path,
) -> None:
    app = ("coalesced_changes", "/hooks/hubspot", "hubspot:contact.propertyChange")
    lost = inconclusive_loss(tmp_path, *app, "simultaneous-same-record", HUBSPOT, COALESCE="first")
    assert "events[0]" not in lost["summary"], said(lost)
    assert (
        "in each such request the events that acted were the first of each record in it"
    ) in lost["summary"], said(lost)
    assert "kept the first of each record's events in a batch and dropped the newer" in said(lost)
    assert "simultaneous-same-record" not in lost["summary"].split("(rule")[0], said(lost)
    assert "sends they" not in said(lost)
