"""A Stripe receiver that refuses events whose payload ``created`` is over 5 minutes old
(tests/gallery/stale_created.py), driven the way a new user drives theirs: ``harness init`` for
Stripe checkouts, then ``harness run`` of downstream-outage.

The run's events are dated in the run's own time, so the check refuses nothing here: Stripe's
retries of the outage's checkouts, 17 minutes and more later in the scenario's time, come
seconds later in a compressed run. The pass says what it cannot show — an automation judging
events by their payload's age accepts them here and refuses the late ones in production. (When
events were dated from 2026-01-01, every delivery was refused 400 for a reason production never
meets.)
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
def test_an_age_check_on_the_payload_time_is_not_seen_compressed_and_the_pass_says_so(
    tmp_path: Path, freshness: str
) -> None:
    """By the payload's ``created``: nothing refused in a compressed run, and accepts_genuine's
    pass says the age check is not seen (fails before: no word of it). By the signature's
    ``t=``: the same pass; the outage's checkouts retried by Stripe are accepted and written."""
    env = {**STRIPE, **({"FRESHNESS": "signature"} if freshness == "signature" else {})}
    with project(tmp_path, "stale_created", "/webhooks/stripe", env, CHECKOUTS):
        _, found = hazards(tmp_path, "downstream-outage", *QUICK, env=STRIPE)
    verdicts = found["downstream-outage"]
    for name in ("no_lost_events", "accepts_genuine", "recovers_after_outage"):
        assert verdicts[name]["status"] == "pass", said(verdicts[name])
    genuine = verdicts["accepts_genuine"]["summary"]
    assert "an automation that refuses events by their age at $.created" in genuine, genuine
    assert "check the age of the signature's timestamp instead" in genuine, genuine
