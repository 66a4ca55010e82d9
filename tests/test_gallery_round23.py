"""Automations of shapes the gallery lacked, driven the way a user drives theirs (``harness init``
and a hazard, or a scenario of their provider's events): tests/gallery/checkpoint_sync,
cursor_sync, pruned_locks, split_payout, and the Node-RED flow
tests/gallery/node/hubspot_split_batches.json (a real engine, tests/node_red.py).
Each verdict was read against the run's journal; each test asserts what the flaw decides, and
that the sound variant of the same automation is not failed for it.
"""

from __future__ import annotations

import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from harness.history import History, load_all

from .node_red import started
from .test_gallery import QUICK, SCENARIOS, Target, automation, run, said, verdicts
from .test_gallery_round20 import judged
from .test_gallery_round21 import passed
from .test_node_red import red

__all__ = ["red"]  # the session's Node-RED install, a fixture shared with test_node_red

pytestmark = pytest.mark.integration

FLOWS = Path(__file__).resolve().parent / "gallery" / "node"
SHOPIFY = {"SHOPIFY_WEBHOOK_SECRET": "shpss_gallery0round23_not0real"}
HUBSPOT = {"HARNESS_SECRET": "gallery0round23hubspot0not0real"}  # the flow checks no signature

# The tests' own secrets; a Standard Webhooks secret is base64 after its whsec_ prefix.
STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0round23secret0not0real"}
WEBHOOK = {"WEBHOOK_SECRET": "whsec_Z2FsbGVyeTByb3VuZDIzMHNlY3JldDBub3QwcmVhbA=="}
# A witness of no_lost_events: an event answered 200 that made no effect.
DROPPED = re.compile(r"event (\S+) \(record \S+, seq \d+\) was delivered once \(\S+ 200\)")


def one_run(
    tmp_path: Path, app: str, hook: str, name: str, env: dict[str, str], *more: str
) -> dict[str, dict[str, Any]]:
    """``tests.gallery.<app>`` (its environment ``env``) under the gallery scenario ``name``,
    ``harness run`` given ``more``: the verdicts by invariant."""
    with automation(app, hook, env) as target:
        _, report = run(target, str(SCENARIOS / name), tmp_path, *more, env=env)
    return verdicts(report)


def stripe_checkouts(
    tmp_path: Path, app: str, hazard: str, **env: str
) -> dict[str, dict[str, Any]]:
    """``tests.gallery.<app>`` at ``/webhooks/stripe`` in a new user's project of Stripe
    checkouts (``harness init``), run under ``hazard``: the verdicts by invariant."""
    events = "stripe:checkout.session.completed"
    return judged(tmp_path, app, "/webhooks/stripe", events, hazard, STRIPE, *QUICK, **env)


def failed(found: dict[str, dict[str, Any]], name: str, *fragments: str) -> dict[str, Any]:
    """The verdict ``name`` of ``found``, failed, its summary and witnesses holding each of
    ``fragments``."""
    verdict = found[name]
    assert verdict["status"] == "fail", said(verdict)
    for fragment in fragments:
        assert fragment in said(verdict), said(verdict)
    return verdict


def dropped(
    found: dict[str, dict[str, Any]], tmp_path: Path, *fragments: str
) -> tuple[list[str], History]:
    """``no_lost_events`` of ``found`` failed, holding ``fragments``: the events its witnesses
    name as answered 200 with no effect (some), and the run's journal."""
    lost = failed(found, "no_lost_events", *fragments)
    witnesses = DROPPED.findall(said(lost))
    assert witnesses, said(lost)
    [journal] = load_all(tmp_path / "journal.db")
    return witnesses, journal


@pytest.mark.parametrize("checkpoint", ["stream", "contact"])
def test_one_checkpoint_for_the_stream_skips_a_contacts_newest_update_after_anothers(
    tmp_path: Path, checkpoint: str
) -> None:
    """Six contacts' updates shuffled within windows of six, one run (the checkpoint outlives
    a clean run, whose times the run would repeat): an update that arrives after a newer
    update of another contact is skipped, answered 200 — a contact's newest among them, lost.
    One checkpoint per contact skips only its own stale updates."""
    found = one_run(
        tmp_path, "checkpoint_sync", "/webhooks/contacts", "contacts-reordered-one-run.yaml",
        {**WEBHOOK, "CHECKPOINT": checkpoint}, *QUICK, "--no-baseline",
    )  # fmt: skip
    if checkpoint == "contact":
        return passed(found, "no_lost_events", "per_key_order", "no_duplicate_effects")
    witnesses, journal = dropped(found, tmp_path, "dropped, not slow")
    events = {e.id: e for e in journal.events}
    for event in witnesses:
        # Answered before it: an update of another contact, stamped later.
        [sent] = [d.sent_at for d in journal.deliveries if d.event_id == event]
        before = [
            events[d.event_id] for d in journal.deliveries
            if d.answered_at is not None and d.answered_at < sent
        ]  # fmt: skip
        mine = events[event]
        assert any(e.key != mine.key and e.occurred_at > mine.occurred_at for e in before), event


@pytest.mark.parametrize("cursor", ["received_at", "id"])
def test_a_sync_cursor_to_the_second_passes_over_rows_stored_after_a_sync_of_their_second(
    tmp_path: Path, cursor: str
) -> None:
    """Thirty checkouts in half a second, ten more from 3 s on, stored and copied to the CRM
    by a sync every half second past a cursor: to the second (``CURRENT_TIMESTAMP``), the rows
    stored after a sync of their second are never above it, and never sent — in the clean run
    too, where the harness judges them by what their type's events made. By the rows' id,
    each is sent once."""
    found = one_run(
        tmp_path, "cursor_sync", "/webhooks/stripe", "checkouts-synced-burst.yaml",
        {**STRIPE, "CURSOR": cursor},
    )  # fmt: skip
    if cursor == "id":
        return passed(found, "no_lost_events", "no_duplicate_effects")
    witnesses, journal = dropped(found, tmp_path, "not taken as design, judged by what their")
    # Each answered 200, stored: none of them ever sent, however long the run waited after.
    made = {event for effect in journal.effects for event in effect.event_ids}
    assert not made & set(witnesses)
    passed(found, "no_duplicate_effects")


@pytest.mark.parametrize("answer", ["split", "joined"])
def test_a_node_red_split_answers_a_hubspot_batch_with_its_first_calls_status(
    red: Path, tmp_path: Path, answer: str
) -> None:
    """HubSpot batches of about ten contact changes, each change a PUT of the mailing list's
    member, the list allowing four calls a second. Node-RED's split node gives each change
    the request's one ``msg.res``: the first call back answers HubSpot — 200, its four calls
    through — and the changes refused 429 are acknowledged, never sent again. Joined again
    and answered 502 where any call failed, HubSpot resends the batch until each is written
    (the PUTs written twice harmless)."""
    with started(red, tmp_path / "engine", FLOWS / "hubspot_split_batches.json") as flow:
        target = Target(flow.url + f"/hooks/hubspot/{answer}", int(flow.downstream.split(":")[1]))
        _, report = run(
            target, str(SCENARIOS / "hubspot-batch-members-rate-limited.yaml"), tmp_path,
            env=HUBSPOT,
        )  # fmt: skip
    found = verdicts(report)
    if answer == "joined":
        return passed(found, "no_lost_events", "no_duplicate_effects")
    # (Its cause, by the run's timing: "answered these events without it (dropped, not slow"
    # or "drops an event's work when the downstream refuses its call": both true of it.)
    witnesses, journal = dropped(found, tmp_path, "(refused 429)")
    # Each acknowledged while its one call was refused: the batch answered by another's call.
    for event in witnesses:
        assert [d.status for d in journal.deliveries if d.event_id == event] == [200], event
        assert [e.status for e in journal.effects if event in e.event_ids] == [429], event


@pytest.mark.parametrize("locks", ["pruned", "kept"])
def test_a_lock_removed_once_free_lets_a_customers_next_order_past_its_waiter(
    tmp_path: Path, locks: str
) -> None:
    """Four customers' forty orders in a second, the loyalty API answering in 50 ms: each
    member's lock is removed as its holder leaves, while another order waits on it — the next
    to arrive makes a new one, and two orders read one balance. Every member ends short of
    the clean run's points. Locks kept, each order reads the balance the one before wrote."""
    found = one_run(
        tmp_path, "pruned_locks", "/webhooks/orders", "orders-loyalty-rush.yaml",
        {**SHOPIFY, "LOCKS": locks},
    )  # fmt: skip
    [journal] = load_all(tmp_path / "journal.db")
    # Two reads of a member's balance with no write between: orders past each other's lock.
    calls: dict[str | None, list[str]] = {}
    for effect in sorted(journal.effects, key=lambda e: e.at):
        calls.setdefault(effect.key, []).append(effect.method)
    raced = {k for k, seq in calls.items() if any(a == b == "GET" for a, b in pairwise(seq))}
    if locks == "kept":
        assert not raced, calls
        return passed(found, "final_state_matches_baseline", "no_lost_events")
    assert raced, calls
    state = failed(found, "final_state_matches_baseline", "the final state")
    short = re.findall(r"points: (\d+) \(baseline (\d+)\)", said(state))
    assert short and all(int(now) < int(then) for now, then in short), said(state)


@pytest.mark.parametrize("keys", ["event", "per-transfer"])
def test_one_idempotency_key_for_two_transfers_refuses_the_second_on_every_delivery(
    tmp_path: Path, keys: str
) -> None:
    """Each checkout pays two partners, both transfers under the event's id as the
    Idempotency-Key: the second is another request under a used key, refused 400, and the
    handler answers 500 — every delivery, copies and clean run alike; no affiliate paid. A key
    per transfer: each paid once, the copies' transfers replayed by their keys."""
    found = stripe_checkouts(tmp_path, "split_payout", "duplicate-storm", KEYS=keys)
    if keys == "per-transfer":
        return passed(found, "no_server_errors", "no_lost_events", "no_duplicate_effects")
    errors = failed(found, "no_server_errors", "100 of 100 deliveries (100%) got a server error")
    # Each witness: a transfer refused 400 while its delivery was out (its second, whatever the
    # first got: made, or replayed by the key for a copy).
    lines = errors["evidence"]["lines"]
    assert lines and all("was answered 400" in line for line in lines), said(errors)
    # The refusal is the key's, not the body's: each first delivery's supplier transfer, form
    # encoded as stripe-python sends it, was made (a double that refused form bodies answered
    # it 400 too, and the sound variant failed).
    made_then_refused = re.compile(
        r"eff_\d+ was answered 201, POST /v1/transfers eff_\d+ was answered 400"
    )
    firsts = [line for line in lines if "attempt 1," in line]
    assert firsts and all(made_then_refused.search(line) for line in firsts), said(errors)
