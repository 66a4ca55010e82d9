"""A Stripe receiver retrying its CRM "until it works" — no wait, Retry-After ignored
(tests/gallery/hammer_retry.py: Flask, the Stripe SDK, httpx) — driven the way a new user
drives theirs: ``harness init`` for Stripe checkouts, then ``harness run`` of a fault hazard.

Nothing is lost or posted twice (each order carries the event id as its Idempotency-Key), and
every verdict held, Ready, while it made 1,196 calls for 40 events under downstream-throttled:
``backs_off`` sees it. Its honest variant waits the Retry-After and backs off, and is Ready (but
for per_key_order where a starved machine had it queue two orders of one record the other way).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.history import load_all

from .test_gallery import QUICK, SCENARIOS, run, said
from .test_gallery_fastapi import watched
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0hammer0retry0not0real"}  # the test's own
CHECKOUTS = "stripe:checkout.session.completed"


def test_a_receiver_retrying_a_throttled_api_at_once_fails_backs_off(tmp_path: Path) -> None:
    """The CRM throttling (checkouts-crm-throttled.yaml), then down (checkouts-crm-down-
    hammered.yaml), for 3 and 5 real seconds, the receiver watched (``--target-pid``): every
    order made again at once. Beside two busy loops the built-in outage's hammer, starved,
    made each order 10 times a second and backs_off passed it (3 of 6 runs): the seconds its
    process waited for a CPU now say that pace may be the machine's."""
    throttled = str(SCENARIOS / "checkouts-crm-throttled.yaml")
    down = str(SCENARIOS / "checkouts-crm-down-hammered.yaml")
    with watched("hammer_retry", STRIPE) as (target, pid):
        done, report = run(
            target, throttled, tmp_path, down, *QUICK, "--target-pid", pid, env=STRIPE
        )
    judged = load_all(tmp_path / "journal.db")
    runs = {r.info.scenario: r for r in judged if r.baseline is not None}
    found = {r["scenario"]: {v["invariant"]: v for v in r["verdicts"]} for r in report["runs"]}
    # The runs met the faults: calls answered 429, then 503.
    effects = {e.id: e for e in runs["checkouts-crm-throttled"].effects}
    calls_429 = sum(1 for e in effects.values() if e.status == 429)
    assert calls_429, "no call met the throttling: the window closed before the receiver's"
    assert any(e.status == 503 for e in runs["checkouts-crm-down-hammered"].effects)
    verdicts_ = found["checkouts-crm-throttled"]
    backoff = verdicts_["backs_off"]
    assert backoff["status"] == "fail", said(backoff)
    early = re.match(
        r"([\d,]+) calls of (\d+) events? made again before the Retry-After its 429 asked had "
        r"elapsed \(e\.g\. POST /orders (eff_\d+), answered 429 with Retry-After 1 s, made again "
        r"as (eff_\d+) 0\.\d+ s later\)",
        backoff["summary"],
    )
    assert early, said(backoff)
    assert "wait at least the Retry-After" in backoff["summary"]
    # The journal agrees: the calls named were refused 429 and made again within a second.
    refused, again = effects[early[3]], effects[early[4]]
    assert refused.status == 429 and refused.body == again.body
    assert 0 < again.at - refused.at < 1
    assert 0 < int(early[1].replace(",", "")) <= calls_429
    # What the other verdicts see of it: nothing twice; nothing lost but where the hammer gave
    # up — its 200 tries run out inside the window (a loss, said so).
    dup = verdicts_["no_duplicate_effects"]
    assert dup["status"] == "pass", said(dup)
    lost = verdicts_["no_lost_events"]
    assert lost["status"] == "pass" or "(refused 429)" in said(lost), said(lost)
    # Under the outage, no Retry-After: the same order made dozens of times a second — or,
    # where the machine's CPUs were taken (the suite's other workers), as fast as it let the
    # round trips go, which the verdict must not pass (invariants/_starved_pace).
    outage = found["checkouts-crm-down-hammered"]["backs_off"]
    assert done.code == 1
    if outage["status"] == "inconclusive":
        assert re.search(
            r"; but POST /orders was made \d+ times in one second from [\d.]+ s, each refused, "
            r"at a steady \d+ ms apart \(the median gap\), while the harness's own event loop "
            r"ran up to \d+ ms late",
            outage["summary"],
        ), said(outage)
        return
    assert outage["status"] == "fail", said(outage)
    storm = re.match(
        r"(\d+) calls? made again more than 20 times in one second while a window without "
        r"Retry-After refused it \(the most: POST /orders, (\d+) times",
        outage["summary"],
    )
    assert storm and int(storm[2]) > 20, said(outage)
    assert all("each refused (answered 503)" in line for line in outage["evidence"]["lines"])


def test_a_receiver_waiting_the_retry_after_and_backing_off_holds(tmp_path: Path) -> None:
    """Every verdict holds but, on a starved machine, per_key_order: the app posts its orders
    in the order its request threads queued them, and two checkouts of one record delivered
    at once may be queued either way (beside three busy loops, 1 of 6 runs: evt 16's order
    posted before evt 6's, sent 70 ms apart). What it does keep is the order of what it has
    acknowledged — an order queued before the 200, one worker posting them in turn, waiting
    out each refusal — so an order posted before an older one of its record must have been
    delivered while that one was still unanswered."""
    env = {**STRIPE, "HONOUR": "1"}
    with project(tmp_path, "hammer_retry", "/webhooks/stripe", env, CHECKOUTS):
        done, found = hazards(tmp_path, "downstream-throttled", "downstream-outage", env=STRIPE)
    for hazard, judged in found.items():
        for name, verdict in judged.items():
            if name != "per_key_order":
                assert verdict["status"] == "pass", (hazard, name, said(verdict))
    assert "each call answered 429 made again only after its Retry-After" in said(
        found["downstream-throttled"]["backs_off"]
    )
    [journal] = (tmp_path / "harness-runs").glob("*.db")
    histories = {h.info.scenario: h for h in load_all(journal) if h.baseline is not None}
    swapped = False
    for hazard, judged in found.items():
        order = judged["per_key_order"]
        if order["status"] == "pass":
            continue
        assert order["status"] == "fail", (hazard, said(order))
        swapped = True
        deliveries = histories[hazard].deliveries
        for line in order["evidence"]["lines"]:
            older, newer = re.findall(r"\((\S+), eff_", line)
            # The newer event was sent before the older one's delivery was answered.
            first_sent = min(d.sent_at for d in deliveries if d.event_id == newer)
            answered = max(d.answered_at or 0.0 for d in deliveries if d.event_id == older)
            assert first_sent < answered, (hazard, line)
    assert done.code == (1 if swapped else 0), done.out
