"""A Stripe receiver that refuses events whose payload ``created`` is over 5 minutes old
(tests/gallery/stale_created.py), driven the way a new user drives theirs: ``harness init`` for
Stripe checkouts, then ``harness run`` of downstream-outage.

The run's events are dated from 2026-01-01, months before the run: every delivery is refused
400. The likely cause said 'the payload's shape' alone — the body was sound; it names the
events' time now, and the check as the flaw it is (a retry carries the event's first time).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_gallery import QUICK, said
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0stale0created0not0real"}  # the test's own
CHECKOUTS = "stripe:checkout.session.completed"


@pytest.mark.parametrize("freshness", ["payload", "signature"])
def test_events_refused_as_old_by_their_payload_time_are_said_so_not_passed(
    tmp_path: Path, freshness: str
) -> None:
    """By the payload's ``created``: every delivery refused, nothing passed, the cause naming
    the events' time at $.created beside the payload's shape (fails before). By the signature's
    ``t=``: the outage's checkouts retried by Stripe are accepted and written."""
    env = {**STRIPE, **({"FRESHNESS": "signature"} if freshness == "signature" else {})}
    with project(tmp_path, "stale_created", "/webhooks/stripe", env, CHECKOUTS):
        done, found = hazards(tmp_path, "downstream-outage", *QUICK, env=STRIPE)
    verdicts = found["downstream-outage"]
    genuine = verdicts["accepts_genuine"]
    if freshness == "signature":
        for name in ("no_lost_events", "accepts_genuine", "recovers_after_outage"):
            assert verdicts[name]["status"] == "pass", said(verdicts[name])
        return
    assert done.code != 0
    assert all(v["status"] != "pass" for k, v in verdicts.items() if k != "target_available")
    assert genuine["status"] == "inconclusive", said(genuine)
    assert "the payload's shape" in genuine["summary"], said(genuine)
    assert "or the events' time: each payload is dated at $.created about" in genuine["summary"]
    assert "check the age of the signature's timestamp instead" in genuine["summary"]
    lost = verdicts["no_duplicate_effects"]
    assert "likely cause: the payload's shape, or the events' time in the payload" in said(lost)
