"""Four automations nobody wrote for the test, driven the way a new user drives theirs (``harness
init`` with a library payload of their provider, then ``harness run`` of the hazards that
fit), or with a scenario of their own (tests/gallery/: sqlite_orders, signature_nonce,
hubspot_window, batch_gather). Each verdict is read against the run's journal.

What they found wrong, fixed here: copies of events a receiver had accepted, refused as
replays, blamed on 'the payload's shape … or the events' time' (``accepts_genuine``); stale
deliveries accepted beside forgeries refused, failed with no word of why (``rejects_forged``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.core._model import Outcome
from harness.history import History, load_all

from .test_gallery import SCENARIOS, automation, said
from .test_gallery import run as run_scenario
from .test_gallery_round8 import hazards, project
from .test_gallery_round10 import written_twice

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0round18secret0not0real"}  # the test's own
HUBSPOT = {"HUBSPOT_CLIENT_SECRET": "gallery0round18hubspot0not0real"}
CHECKOUTS = "stripe:checkout.session.completed"
CHANGES = "hubspot:contact.propertyChange"


def judged(
    cwd: Path, app: str, hook: str, events: str, hazard: str, secret: dict[str, str], **env: str
) -> tuple[dict[str, dict[str, Any]], History]:
    """``tests.gallery.<app>`` (its environment ``env``) in a project of ``events`` in ``cwd``,
    run under ``hazard``: the verdicts by invariant, and the run's journal."""
    with project(cwd, app, hook, {**secret, **env}, events):
        _, found = hazards(cwd, hazard, env=secret)
    [db] = (cwd / "harness-runs").glob("*.db")
    [run] = load_all(db)
    return found[hazard], run


@pytest.mark.parametrize("journal", ["rollback", "wal"])
def test_a_burst_on_a_sqlite_lock_held_across_a_call_answers_500_after_the_order_was_made(
    tmp_path: Path, journal: str
) -> None:
    """Flask, one SQLite connection per request, the write lock held across a Stripe lookup:
    in a burst an insert waits out the 5 s busy timeout — 'database is locked', 500 — after its
    CRM order was made. Each 500 is named with the order its request had made; nothing lost.
    In WAL with a 30 s timeout the burst waits instead: no 500."""
    env = {"JOURNAL": "wal"} if journal == "wal" else {}
    verdicts, run = judged(
        tmp_path, "sqlite_orders", "/webhooks/stripe", CHECKOUTS, "bulk-import-burst", STRIPE, **env
    )
    errors = verdicts["no_server_errors"]
    assert verdicts["no_lost_events"]["status"] == "pass", said(verdicts["no_lost_events"])
    repeated = verdicts["no_duplicate_effects"]
    assert repeated["status"] == ("fail" if written_twice(run) else "pass"), said(repeated)
    if journal == "wal":
        assert errors["status"] == "pass", said(errors)
        return
    failed = [d for d in run.deliveries if d.status == 500]
    assert failed, "no insert gave up on the lock"
    assert errors["status"] == "fail", said(errors)
    # Each 500 came after its own order was made: the witnesses say so.
    assert "answered 500; meanwhile POST /orders eff_" in said(errors), said(errors)
    # And the summary says what follows: the work done, the answer a failure, Stripe again.
    assert "answered after their own write was made (e.g. dlv_" in errors["summary"], said(errors)
    assert (
        "the work is done, the answer says it failed — Stripe redelivers a 5xx, and each "
        "redelivery does it again unless the automation skips an event it has done"
    ) in errors["summary"], said(errors)
    made = {e for eff in run.effects if eff.committed for e in eff.event_ids}
    assert all(d.event_id in made for d in failed)


@pytest.mark.parametrize("dedup", ["signature", "event"])
def test_a_replay_set_of_signatures_refuses_same_second_copies_and_orders_the_rest_twice(
    tmp_path: Path, dedup: str
) -> None:
    """The Stripe-Signature values seen are refused as replays: a copy sent within the same
    second carries the same header and is refused with 400 — a copy of an event accepted a
    moment before, which the verdict now says instead of 'the payload's shape' — while a copy a
    second later is signed anew and ordered again. By event id, every copy answered 200 and
    ordered once."""
    env = {"DEDUP": "event"} if dedup == "event" else {}
    verdicts, run = judged(
        tmp_path,
        "signature_nonce",
        "/webhooks/stripe",
        CHECKOUTS,
        "duplicate-storm",
        STRIPE,
        **env,
    )
    genuine, repeated = verdicts["accepts_genuine"], verdicts["no_duplicate_effects"]
    assert verdicts["no_lost_events"]["status"] == "pass", said(verdicts["no_lost_events"])
    if dedup == "event":
        assert not written_twice(run)
        assert genuine["status"] == "pass", said(genuine)
        assert repeated["status"] == "pass", said(repeated)
        return
    assert repeated["status"] == ("fail" if written_twice(run) else "pass"), said(repeated)
    refused = [d for d in run.deliveries if d.outcome is Outcome.REJECTED]
    assert refused, "no copy came within the second of its first"
    assert genuine["status"] == "fail", said(genuine)
    assert (
        "likely cause: each refused delivery repeated an event an earlier delivery had brought"
        in (genuine["summary"])
    ), said(genuine)
    assert "the payload's shape" not in genuine["summary"], said(genuine)
    assert '\'{"error": "replayed request"}\'' in said(genuine)


@pytest.mark.parametrize("clock", ["seconds", "ms"])
def test_a_hubspot_replay_window_in_the_wrong_unit_accepts_every_stale_delivery(
    tmp_path: Path, clock: str
) -> None:
    """The v3 signature is checked, the timestamp's age against ``int(time.time())``: HubSpot's
    milliseconds are never 300,000 behind it. Forged and unsigned deliveries are refused, the
    hour-old ones accepted: the verdict says the age is unchecked, and names the unit. With the
    clock in milliseconds, every stale delivery is refused."""
    env = {"CLOCK": "ms"} if clock == "ms" else {}
    verdicts, _ = judged(
        tmp_path,
        "hubspot_window",
        "/hubspot/webhooks",
        CHANGES,
        "forged-signature",
        HUBSPOT,
        **env,
    )
    forged = verdicts["rejects_forged"]
    assert verdicts["accepts_genuine"]["status"] == "pass", said(verdicts["accepts_genuine"])
    if clock == "ms":
        assert forged["status"] == "pass", said(forged)
        return
    assert forged["status"] == "fail", said(forged)
    assert "stale delivery dlv_" in said(forged) and "— expected a 4xx" in said(forged)
    witnesses = "\n".join(forged["evidence"]["lines"])
    assert "forged delivery" not in witnesses and "unsigned delivery" not in witnesses
    assert (
        "so the signature is checked; each stale delivery accepted carried a valid "
        in (forged["summary"])
    ), said(forged)
    assert "X-HubSpot-Request-Timestamp is in milliseconds" in forged["summary"], said(forged)


@pytest.mark.long
@pytest.mark.parametrize("skip_written", [False, True], ids=["whole-batch", "skip-written"])
def test_a_hubspot_batch_redelivered_for_its_refused_events_posts_the_others_again(
    tmp_path: Path, skip_written: bool
) -> None:
    """``asyncio.gather`` over a batch of ten against a feed that allows four calls a second:
    four go through, the batch is answered 500, and HubSpot sends it again whole — the four
    posted again. Skipping what was written, a redelivered batch posts only what is missing."""
    env = {"SKIP_WRITTEN": "1"} if skip_written else {}
    scenario = str(SCENARIOS / "hubspot-batch-rate-limited.yaml")
    with automation("batch_gather", "/hubspot/webhooks", env) as target:
        _, report = run_scenario(target, scenario, tmp_path)
    [only] = report["runs"]
    verdicts = {v["invariant"]: v for v in only["verdicts"]}
    [run] = load_all(tmp_path / "journal.db")
    repeated = verdicts["no_duplicate_effects"]
    if skip_written:
        assert not written_twice(run)
        assert repeated["status"] == "pass", said(repeated)
        return
    assert written_twice(run), "no batch was redelivered after some of its events were posted"
    assert repeated["status"] == "fail", said(repeated)
    assert "POST /activities eff_" in said(repeated), said(repeated)
    # The cause, which it did not name: the batch sent again whole for its refused events.
    assert "made again when their batch was sent again whole (e.g. dlv_" in said(repeated)
    assert " of other events of it were refused (" in said(repeated), said(repeated)
    assert " answered 429), made POST /activities eff_" in said(repeated), said(repeated)
    assert (
        "the automation answers a batch 5xx when calls of some of its events are refused, and "
        "the sender (HubSpot) redelivers every event of it, those already written too"
    ) in said(repeated), said(repeated)
