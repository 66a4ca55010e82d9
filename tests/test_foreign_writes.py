"""Verdict texts of ``no_lost_events`` that were wrong or misleading on automations nobody wrote
for the test.

* A write to an item whose id this run's double never issued (an earlier run's: the clean
  run's contact, found again by an email a recording replays as recorded) stands where the
  clean run created the item: not a loss, not a pass — inconclusive, saying why
  (``invariants/_foreign_ids.py``). It was "lost: … never POST /contacts".
* "raise the settle quiet" only where the run shows the target working after it answers
  (``invariants/_after_answers.py``); a target that works inline and answered an event without
  its work dropped it, and is told so.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from harness.core._model import Effect, Event, Status, Verdict

from .test_expected import CHECKOUT, _settled, clean_run, ev, lost, ok, run, write
from .test_gallery import SCENARIOS, said
from .test_gallery_round8 import STRIPE, hazards, project

ADVICE = "raise the settle quiet"
DROPPED = "dropped, not slow"


def _judged(n: int, made: Callable[[list[Event]], list[Effect]], gave_up: bool = False) -> Verdict:
    """``no_lost_events`` of a run of ``n`` checkouts that made ``made(events)``, against a
    clean run that created a contact for each (ds_1, ds_2, …); ``gave_up``: settling stopped
    after 2 s of quiet with events still short."""
    twins = [ev("zqclean", i) for i in range(1, n + 1)]
    clean = clean_run(twins, [write("/contacts", [e]) for e in twins])
    events = [ev("zqrun", i) for i in range(1, n + 1)]
    h = run(events, [ok(e) for e in events], made(events), tag="zqrun", baseline=clean)
    return lost(_settled(h, "pending", 2.0) if gave_up else h)


def _patch(item: str, event: Event, at: float = 0.006) -> Effect:
    return write(f"/contacts/{item}", [event], method="PATCH", status=200, at=at)


def test_an_update_of_the_clean_runs_item_is_not_judged_against_its_creation() -> None:
    """The clean run created ds_1 and ds_2; this run's events PATCHed them (the automation
    kept their ids) and created nothing: this run's double issued no id."""
    v = _judged(2, lambda events: [_patch(f"ds_{n}", e) for n, e in enumerate(events, 1)])
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "2 of 2 accepted events lack expected effects, but they wrote to an item" in v.summary
    assert "this run's downstream double had not issued (PATCH /contacts/ds_1 " in v.summary
    assert "its clean run's double issued it" in v.summary
    assert "`tracer: {rewrite: true}`" in v.summary
    assert any("wrote ds_2, an id this run's double had not issued" in w for w in v.evidence.lines)


def test_an_update_of_an_item_this_run_created_is_still_a_loss() -> None:
    """ds_1 was created in this run (one 201 before the PATCH): the event that PATCHed it and
    created nothing, where its clean twin created its own, lost that creation."""
    v = _judged(2, lambda e: [write("/contacts", e[:1], at=0.005), _patch("ds_1", e[1])])
    assert v.status is Status.FAIL, v.summary
    assert "had not issued" not in v.summary, v.summary


def test_a_foreign_write_beside_a_real_loss_fails_and_says_both() -> None:
    v = _judged(3, lambda e: [write("/contacts", e[:1], at=0.005), _patch("ds_7", e[1])])
    assert v.status is Status.FAIL, v.summary
    assert "1 event more lacks its, but it wrote to an item whose id" in v.summary
    assert "nor had its clean run's" in v.summary  # ds_7: the clean run made 3


def test_a_target_working_inline_that_dropped_an_event_is_not_told_to_wait_longer() -> None:
    """A circuit breaker that skipped the second contact's call: every write came while its
    delivery was in flight (answered at 0.01 s), and settling gave up on the second. The
    advice to raise the settle quiet was given, though a longer settle shows nothing more."""
    v = _judged(2, lambda e: [write("/contacts", e[:1], at=0.005)], gave_up=True)
    assert v.status is Status.FAIL, v.summary
    assert ADVICE not in v.summary, v.summary
    assert DROPPED in v.summary, v.summary
    assert "every call of this run tied to an event came while a delivery" in v.summary


def test_a_target_working_after_its_answers_is_told_to_wait_longer() -> None:
    """The first contact written at 0.5 s, its delivery answered at 0.01 s: a queue's work."""
    v = _judged(2, lambda e: [write("/contacts", e[:1], at=0.5)], gave_up=True)
    assert v.status is Status.FAIL, v.summary
    assert ADVICE in v.summary and DROPPED not in v.summary, v.summary


def test_a_target_that_passed_events_over_at_once_is_told_what_its_pace_shows() -> None:
    """Answered at 0.01 s and written 1 ms later (a background task), the second event never
    written, its answer 30 s before settling ended: a circuit breaker's fallback that dropped
    it, not a queue still at it. The plain advice to raise the settle quiet was given."""
    v = _judged(2, lambda e: [write("/contacts", e[:1], at=0.011)], gave_up=True)
    assert v.status is Status.FAIL, v.summary
    assert DROPPED not in v.summary, v.summary
    assert (
        "; settling stopped after 2 s without a call from the target, 30.0 s after the last "
        "of these events was answered: the target works after it answers, but each call of "
        "this run came at most 1.0 ms after its event's delivery was answered — it passed "
        "these over rather than queued them, or queued them in a process that then ended (this "
        "run cannot tell which: "
    ) in v.summary, v.summary
    assert "), unless it works far slower than it showed" in v.summary, v.summary


def _mutation(field: str, event: Event, at: float = 0.005) -> Effect:
    """``POST /graphql`` of a mutation selecting ``field`` at its root, for ``event``."""
    query = f"mutation M($input: CustomerInput!) {{ {field}(input: $input) {{ id }} }}"
    body = json.dumps({"query": query, "variables": {"input": {"note": event.id}}})
    return replace(write("/graphql", [event], at=at, status=200), body=body)


def test_two_mutations_through_one_graphql_route_are_two_expected_effects() -> None:
    """The clean run set each customer and tagged it, both ``POST /graphql``; this run set each
    twice (a retry) and tagged none. Counted by route, 2 of 2 ``POST /graphql``: passed."""
    twins = [ev("zqclean", i) for i in (1, 2)]
    clean = clean_run(twins, [_mutation(f, e) for e in twins for f in ("customerSet", "tagsAdd")])
    events = [ev("zqrun", i) for i in (1, 2)]
    twice = [_mutation("customerSet", e, at) for e in events for at in (0.004, 0.005)]
    v = lost(run(events, [ok(e) for e in events], twice, tag="zqrun", baseline=clean))
    assert v.status is Status.FAIL, v.summary
    assert "missing POST /graphql tagsAdd for 2" in v.summary, v.summary
    assert all("but never POST /graphql tagsAdd;" in line for line in v.evidence.lines), v
    both = [_mutation(f, e) for e in events for f in ("tagsAdd", "customerSet")]
    assert lost(run(events, [ok(e) for e in events], both, tag="zqrun", baseline=clean)).passed


def test_a_graphql_route_declared_in_expect_counts_every_mutation_through_it() -> None:
    """``expect:`` names the route, not a mutation: any mutation POSTed there is its write."""
    expect = {"expect": {CHECKOUT: [{"method": "POST", "path": "/graphql", "count": 1}]}}
    events = [ev("zqrun", 1), ev("zqrun", 2)]
    made = [_mutation("customerSet", events[0]), _mutation("customerCreate", events[1])]
    for writes, want in (
        (made, "all 2 accepted events made"),
        (made[:1], "missing POST /graphql "),
    ):
        v = lost(run(events, [ok(e) for e in events], writes, tag="zqrun", settings=expect))
        assert want in v.summary, v.summary


@pytest.mark.integration
def test_the_email_sync_updating_the_clean_runs_contacts_is_not_called_lost(
    tmp_path: Path,
) -> None:
    """tests/gallery/email_contacts.py, a stateless double, the recording replayed as recorded:
    its email -> contact table, filled by the clean run, sends the storm's events to PATCH the
    clean run's contacts. It was '3 of 4 accepted events lack expected effects (lost)' with
    'raise the settle quiet'; now inconclusive, naming the earlier run's ids."""
    recording = tmp_path / "checkouts.jsonl"
    shutil.copy(SCENARIOS / "stripe-checkouts-two-spellings.jsonl", recording)
    with project(tmp_path, "email_contacts", "/webhooks/stripe", STRIPE, str(recording)):
        project_file = tmp_path / "harness.yaml"
        text = project_file.read_text()
        assert "stateful: true" in text, text
        project_file.write_text(text.replace("stateful: true", "stateful: false", 1))
        _, found = hazards(tmp_path, "duplicate-storm", env=STRIPE)
    v = found["duplicate-storm"]["no_lost_events"]
    assert v["status"] == "inconclusive", said(v)
    assert "(lost)" not in v["summary"] and ADVICE not in v["summary"], said(v)
    assert "an id this run's double had not issued (its clean run's did)" in said(v), said(v)


@pytest.mark.integration
def test_orders_a_circuit_breaker_dropped_are_not_called_slow(tmp_path: Path) -> None:
    """tests/gallery/circuit_breaker.py skipping the orders its open breaker meets: each call
    came a few ms after its order was answered, then none for 35 orders. It said 'if it works
    slower than that … raise the settle quiet', as if a queue were still at them."""
    shopify = {"SHOPIFY_WEBHOOK_SECRET": "shpss_foreign0writes_not0real"}  # the test's own
    orders = "shopify:orders/create"
    with project(tmp_path, "circuit_breaker", "/webhooks/orders", shopify, orders):
        _, found = hazards(tmp_path, "downstream-outage", env=shopify)
    v = found["downstream-outage"]["no_lost_events"]
    assert v["status"] == "fail", said(v)
    # The breaker's failed calls opened it: those orders were tried, none of the rest — a
    # stop at the first of them, as a worker dying on a failed call makes; both are said.
    assert re.search(
        r"events it accepted from event \d+ \(seq \d+\), [\d.]+ s into the run, on are lost, "
        r"none before: it stopped working then",
        v["summary"],
    ), said(v)
    assert "so does a circuit breaker that failed calls opened" in v["summary"], said(v)
    assert "if it works slower than that" not in v["summary"], said(v)
