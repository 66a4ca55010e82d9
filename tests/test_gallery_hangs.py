"""A Stripe receiver paying each checkout inline with ``requests.post`` and no timeout, under
gunicorn's two sync workers (tests/gallery/no_timeout.py), driven the way a new user drives
theirs: ``harness init`` for Stripe checkouts, then ``harness run downstream-hangs``.

The API takes the calls and answers nothing for 30 s: both workers sit in a call, and every
delivery after them waits in the listen queue until Stripe gives it up. ``ack_within`` said
the 26 queued ones were "sent while earlier deliveries were still unanswered … run with
--time-scale 1 to judge the acks at it", which would wait as long: it now names the held calls
they queued behind. Written to acknowledge first and pay from a thread with a 2 s timeout,
retried, it holds.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .test_gallery import said
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0no0timeout0not0real"}  # the test's own
CHECKOUTS = "stripe:checkout.session.completed"
# Each checkout is paid out on its own: a thread per payout keeps no order between a
# customer's checkouts, and none is owed (docs/project.md, Leave out).
LEAVE_OUT = "leave_out:\n  per_key_order: each checkout is its own payout\n"
RERUN = "run with --time-scale 1"


def test_a_receiver_paying_inline_with_no_timeout_is_slow_behind_the_hang_not_gone(
    tmp_path: Path,
) -> None:
    with project(tmp_path, "no_timeout", "/webhooks/stripe", STRIPE, CHECKOUTS):
        done, found = hazards(tmp_path, "downstream-hangs", env=STRIPE)
    verdicts = found["downstream-hangs"]
    ack = verdicts["ack_within"]
    assert ack["status"] == "fail", said(ack)
    assert RERUN not in ack["summary"], said(ack)
    # The two deliveries the workers took waited on their own held calls …
    own = re.search(r"; (\d+) of them waited on api's held calls \(no answer for 30 s", said(ack))
    assert own and 1 <= int(own[1]) <= 2, said(ack)
    assert "the automation called api before answering" in ack["summary"]
    # … and those sent after them, with no call of their own, waited behind those calls.
    queued = re.search(
        r"; (\d+) of them were sent while earlier deliveries waited on api's held calls \(no "
        r"answer for 30 s; the timeout fault, [\d.]+ s-[\d.]+ s\), and waited their turn behind "
        r"them: a hold is real seconds, so --time-scale 1 would wait as long — give the call a "
        r"timeout and acknowledge before it",
        ack["summary"],
    )
    assert queued and int(queued[1]) >= 10, said(ack)
    assert any(
        re.search(r"; sent while dlv_\d+ waited on api's timeout fault holding its call POST "
                  r"/payouts eff_\d+$", line)
        for line in ack["evidence"]["lines"]
    ), said(ack)  # fmt: skip
    # Stuck, not dead: it called the API again once the hold ended.
    available = verdicts["target_available"]
    assert available["status"] == "pass", said(available)
    assert "while the target went on answering: slow, not gone" in available["summary"]
    # Nothing it accepted was lost or paid twice; what it never acknowledged is Stripe's to
    # redeliver, hours later than the run watches: not judged, and said so.
    for name in ("no_lost_events", "no_duplicate_effects", "no_server_errors"):
        assert verdicts[name]["status"] == "pass", said(verdicts[name])
    recovers = verdicts["recovers_after_outage"]
    assert recovers["status"] == "inconclusive", said(recovers)
    assert "refused during the fault window were never redelivered" in recovers["summary"]
    assert done.code == 1


def test_a_receiver_acknowledging_first_and_paying_with_a_timeout_holds(tmp_path: Path) -> None:
    env = {**STRIPE, "TIMEOUT": "2"}
    with project(tmp_path, "no_timeout", "/webhooks/stripe", env, CHECKOUTS):
        with (tmp_path / "harness.yaml").open("a") as file:
            file.write(LEAVE_OUT)
        done, found = hazards(tmp_path, "downstream-hangs", env=STRIPE)
    verdicts = found["downstream-hangs"]
    for name, verdict in verdicts.items():
        assert verdict["status"] == "pass", (name, said(verdict))
    assert "per_key_order" not in verdicts
    assert re.search(r"all \d+ events accepted during 1 fault window got their expected effects",
                     verdicts["recovers_after_outage"]["summary"])  # fmt: skip
    assert done.code == 0, done.out
