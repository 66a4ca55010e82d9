"""A Stripe receiver whose duplicate guard is a primary key that raises (Flask, the Stripe SDK,
SQLite: tests/gallery/unique_insert.py), driven as a new user drives theirs: ``harness init``
for Stripe checkouts, then ``harness run duplicate-storm``.

Nothing is posted twice, yet every copy of an event it has already taken is answered 500: the
sender retries each for days and counts the endpoint as failing. A run that judged only lost
and repeated work called it Ready; ``no_server_errors`` fails it, naming the cause.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_gallery import said
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0unique0insert0not0real0"}  # the test's own


@pytest.mark.parametrize("duplicate_ok", [False, True], ids=["raises", "answers-200"])
def test_a_duplicate_answered_500_by_its_unique_key_fails_no_server_errors_saying_so(
    tmp_path: Path, duplicate_ok: bool
) -> None:
    env = {**STRIPE, "UNIQUE_STATE": str(tmp_path)}
    if duplicate_ok:
        env["DUPLICATE_OK"] = "1"
    with project(
        tmp_path, "unique_insert", "/webhooks/stripe", env, "stripe:checkout.session.completed"
    ):
        done, found = hazards(tmp_path, "duplicate-storm", env=STRIPE)
    verdicts = found["duplicate-storm"]
    for name in ("no_lost_events", "no_duplicate_effects"):
        assert verdicts[name]["status"] == "pass", said(verdicts[name])
    errors = verdicts["no_server_errors"]
    if duplicate_ok:
        assert errors["status"] == "pass", said(errors)
        return
    assert errors["status"] == "fail", said(errors)
    assert re.match(
        r"\d+ of \d+ deliveries \(\d+%\) got a server error: \d+ answered 500", errors["summary"]
    ), said(errors)
    assert "all of them answered a copy of an event another delivery of it got accepted" in said(
        errors
    )
    assert "the automation answers a duplicate with an error" in said(errors)
    assert "Stripe redelivers what is answered 5xx" in said(errors)
    assert all(
        re.search(r"answered 500; its event was accepted by dlv_\d+ \(200\)", line)
        for line in errors["evidence"]["lines"]
    ), said(errors)
    assert done.code == 1


def test_a_retry_of_a_checkout_taken_while_its_first_delivery_timed_out_is_said_a_copy(
    tmp_path: Path,
) -> None:
    """Stripe's retry storm (its 0.5 s ack timeout, each CRM call held 1 s): the first delivery
    times out while the receiver goes on, inserts the event's id and posts the order; Stripe's
    retry then hits the primary key, 500. Before, ``no_server_errors`` failed naming no cause
    ("15 of 64 deliveries (23%) got a server error: 15 answered 500"): no delivery of those
    events had been answered 2xx. Now each 500 is a copy of an event taken, with the unanswered
    first delivery and the committed call."""
    env = {**STRIPE, "UNIQUE_STATE": str(tmp_path)}
    with project(
        tmp_path, "unique_insert", "/webhooks/stripe", env, "stripe:checkout.session.completed"
    ):
        done, found = hazards(tmp_path, "provider-retry-storm-stripe", env=STRIPE)
    verdicts = found["provider-retry-storm-stripe"]
    repeats = verdicts["no_duplicate_effects"]
    # On a loaded machine (.ci/run's) every first delivery and every retry may time out or hit
    # the key: nothing accepted, nothing to judge duplicates by — said so, never a pass.
    if "the target accepted none of the 64 deliveries" in repeats["summary"]:
        assert repeats["status"] == "inconclusive", said(repeats)
    else:
        assert repeats["status"] == "pass", said(repeats)
    errors = verdicts["no_server_errors"]
    assert errors["status"] == "fail", said(errors)
    assert (
        "the automation had taken: an earlier delivery of it got no answer (the sender gave it "
        "up and retried) while its write (POST /orders) was committed, before this one's answer"
    ) in said(errors)
    assert "acknowledge within the sender's timeout" in said(errors)
    taken = [line for line in errors["evidence"]["lines"] if "its event was taken: dlv_" in line]
    assert taken, said(errors)
    assert all(
        re.search(
            r"taken: dlv_\d+ got no answer \(no answer within 0\.5 s\) and POST /orders "
            r"eff_\d+ was answered 201 for it at",
            line,
        )
        for line in taken
    ), said(errors)
    assert done.code == 1
