"""Four automations nobody wrote for the test, driven the way a new user drives theirs:
``harness init`` with a library payload of their provider, then ``harness run`` of the hazards
that fit (tests/gallery/: graphql_customers, circuit_breaker, hash_dedup, fanout_orders).

What they found wrong, fixed here: a GraphQL writer's every call is ``POST /graphql``, so its
look-ups (``query`` operations) were counted as writes — duplicates when a retry looked up
again, and the expected effect an event "made" when only its look-up went through — and an
upsert mutation (Shopify's ``customerSet``) repeated by Stripe's retries failed as a duplicate
POST, which the request cannot show it to be; a customer left on an older checkout's values by
Stripe's retries after an outage passed ``final_state_matches_baseline``, the stateful double
holding the GraphQL requests themselves, the same set in any order. And HubSpot's retries went
out as the same bytes, where HubSpot counts its attempts in each event (``attemptNumber``): a
receiver deduplicating by a hash of the event passed a retry storm it fails in production.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.history import load_all
from harness.invariants._facts import is_write

from .test_gallery import QUICK, SCENARIOS, automation, run, said, verdicts
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0round90secret0not0real"}  # the test's own
SHOPIFY = {"SHOPIFY_WEBHOOK_SECRET": "shpss_gallery0round9_not0real"}
CHECKOUTS = "stripe:checkout.session.completed"


def declare(cwd: Path, key: str, route: str) -> None:
    """``merges:`` or ``appends:`` ``route`` on the project's downstream, as docs/invariants.md
    says."""
    project_file = cwd / "harness.yaml"
    text = project_file.read_text()
    stateful = "    stateful: true"
    assert stateful in text, text
    project_file.write_text(text.replace(stateful, f'{stateful}\n    {key}: ["{route}"]', 1))


@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "merges"])
def test_an_upsert_mutation_repeated_by_stripes_retries_is_no_duplicate_post(
    tmp_path: Path, declared: bool
) -> None:
    """The API slow past Stripe's ack timeout: each checkout's ``customerSet`` is sent again by
    its retries. It failed: 'produced 2 effects: POST /graphql' — a second POST, when the
    mutation is an upsert by email. Undeclared, the request does not say what the mutation
    does: not judged, naming the field to declare; declared ``merges:``, harmless."""
    with project(tmp_path, "graphql_customers", "/webhooks/stripe", STRIPE, CHECKOUTS):
        if declared:
            declare(tmp_path, "merges", "POST /graphql customerSet")
        _, found = hazards(tmp_path, "provider-retry-storm-stripe", *QUICK, env=STRIPE)
    repeated = found["provider-retry-storm-stripe"]["no_duplicate_effects"]
    if declared:
        assert repeated["status"] == "pass", said(repeated)
        assert re.search(r"\d+ repeated POSTs?, idempotent: harmless", said(repeated))
    else:
        assert repeated["status"] == "inconclusive", said(repeated)
        assert "repeated an identical GraphQL mutation" in repeated["summary"], said(repeated)
        assert "`merges: ['POST /graphql customerSet']`" in repeated["summary"], said(repeated)


def test_a_create_mutation_repeated_is_a_duplicate_and_its_look_ups_are_reads(
    tmp_path: Path,
) -> None:
    """``MUTATION=create``: a look-up (a GraphQL ``query``), then ``customerCreate``; two copies
    of a checkout at once each create the customer. Declared ``appends:``, a duplicate; each
    witness names the two creations, not the look-ups (it named 4 effects, 'POST /graphql eff_3,
    eff_4, eff_5, eff_6'). Under ambiguous-commit the look-up answered 502 and Stripe's retry
    created once: it failed as 'produced 3 effects'."""
    env = {**STRIPE, "MUTATION": "create"}
    with project(tmp_path, "graphql_customers", "/webhooks/stripe", env, CHECKOUTS):
        declare(tmp_path, "appends", "POST /graphql customerCreate")
        _, found = hazards(tmp_path, "duplicate-storm", "ambiguous-commit", *QUICK, env=STRIPE)
    repeated = found["duplicate-storm"]["no_duplicate_effects"]
    assert repeated["status"] == "fail", said(repeated)
    witnesses = repeated["evidence"]["lines"]
    assert witnesses, said(repeated)
    for line in witnesses:
        assert re.search(r"produced 2 effects: POST /graphql eff_\d+, eff_\d+$", line), line
    committed = found["ambiguous-commit"]["no_duplicate_effects"]
    assert committed["status"] == "pass", said(committed)


@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "merges"])
def test_a_tag_mutation_naming_its_customer_is_no_resource_made_twice(
    tmp_path: Path, declared: bool
) -> None:
    """``MUTATION=tag``: ``tagsAdd`` on the Stripe customer's gid, nothing of the checkout in
    the request: counted per customer. Copies at once tag a customer more often than its clean
    twin. It failed: 'a resource made twice … declare it merges: ['POST /graphql']', for the
    201 the stateful double answers every POST. A tag added twice is one tag; the request does
    not say so: not judged until declared, then harmless."""
    env = {**STRIPE, "MUTATION": "tag"}
    with project(tmp_path, "graphql_customers", "/webhooks/stripe", env, CHECKOUTS):
        if declared:
            declare(tmp_path, "merges", "POST /graphql tagsAdd")
        _, found = hazards(tmp_path, "duplicate-storm", *QUICK, env=STRIPE)
    repeated = found["duplicate-storm"]["no_duplicate_effects"]
    assert "resources created by POST /graphql" not in repeated["summary"], said(repeated)
    if declared:
        assert repeated["status"] == "pass", said(repeated)
    else:
        assert repeated["status"] == "inconclusive", said(repeated)
        assert "those writes name their record, not their event" in repeated["summary"]


def test_a_customer_upserted_stale_by_a_retry_is_not_passed_by_the_doubles_request_log(
    tmp_path: Path,
) -> None:
    """4 customers, 4 checkouts each; the API answers 503 for 20 minutes and Stripe's retries
    write refused checkouts after newer ones of the same customers: ``customerSet`` upserts,
    so those customers end on an older checkout. It passed ('no record ends in another state
    … 4 records compared'): the stateful double stored every request as a resource of
    /graphql. Compared by each customer's last mutation, the stale ones differ."""
    scenario = str(SCENARIOS / "checkout-customers-graphql-outage.yaml")
    with automation("graphql_customers", "/webhooks/stripe", STRIPE) as target:
        _, report = run(target, scenario, tmp_path, *QUICK, env=STRIPE)
    final = verdicts(report)["final_state_matches_baseline"]
    [outage] = load_all(tmp_path / "journal.db")
    seq_of = {e.id: e.seq for e in outage.events}
    ended_on = {}  # record -> seq of the event its last write was for
    for effect in outage.effects:  # in time order
        if is_write(effect) and effect.event_ids:
            ended_on[effect.key] = seq_of[effect.event_ids[0]]
    newest: dict[str | None, int] = {}
    for event in outage.events:
        newest[event.key] = max(newest.get(event.key, -1), event.seq)
    stale = {key for key, seq in ended_on.items() if seq < newest[key]}
    if not stale:  # a loaded machine: every retry came before its customer's next checkout
        assert final["status"] == "pass", said(final)
        return
    assert final["status"] == "fail", said(final)
    assert "compared by the last mutation written for each" in final["summary"], said(final)
    assert f"{len(stale)} of 4 records end in another state" in final["summary"], said(final)
    for key in stale:
        assert f"record {key} (the final state): shop last GraphQL mutation: " in said(final)


HUBSPOT = {"HUBSPOT_CLIENT_SECRET": "gallery0round9hubspot0not0real"}  # the test's own


@pytest.mark.parametrize("key", ["hash", "event"])
def test_a_dedup_by_the_events_hash_is_beaten_by_hubspots_attempt_number(
    tmp_path: Path, key: str
) -> None:
    """Calls slower than the ack timeout: HubSpot gives each batch up and retries it while its
    appends are still running. Its retries carry ``attemptNumber`` 1, 2, 3: hashed, each is a
    new event, appended again. It passed ('no event produced a repeated effect'): the run's
    retries were the first attempt's bytes. Keyed by ``eventId``, each change once."""
    env = {**HUBSPOT, **({"DEDUP_KEY": "event"} if key == "event" else {})}
    changes = "hubspot:contact.propertyChange"
    with project(tmp_path, "hash_dedup", "/hubspot/webhooks", env, changes):
        _, found = hazards(tmp_path, "provider-retry-storm", *QUICK, env=HUBSPOT)
    repeated = found["provider-retry-storm"]["no_duplicate_effects"]
    if key == "event":
        assert repeated["status"] == "pass", said(repeated)
    else:
        assert repeated["status"] == "fail", said(repeated)
        assert re.search(r"produced \d+ effects: POST /contact-changes eff_", said(repeated))


@pytest.mark.parametrize("on_open", ["skip", "queue"])
def test_orders_skipped_by_an_open_circuit_breaker_are_lost(tmp_path: Path, on_open: str) -> None:
    """Acked at once; after 3 failed calls the breaker opens for 2 s and its fallback drops
    the orders (and the failed one): lost, and named, each refused 503 or never tried. Parked
    and sent once it closes: every order once."""
    env = {**SHOPIFY, **({"ON_OPEN": "queue"} if on_open == "queue" else {})}
    with project(tmp_path, "circuit_breaker", "/webhooks/orders", env, "shopify:orders/create"):
        _, found = hazards(tmp_path, "downstream-outage", env=SHOPIFY)
    verdicts = found["downstream-outage"]
    lost, recovers = verdicts["no_lost_events"], verdicts["recovers_after_outage"]
    if on_open == "queue":
        for verdict in (lost, recovers, verdicts["no_duplicate_effects"]):
            assert verdict["status"] == "pass", said(verdict)
    else:
        assert lost["status"] == "fail", said(lost)
        assert "missing POST /orders" in lost["summary"], said(lost)
        assert recovers["status"] == "fail", said(recovers)


@pytest.mark.parametrize("per_step", [False, True], ids=["all-again", "per-step"])
def test_a_fan_out_retried_whole_writes_its_committed_crm_order_again(
    tmp_path: Path, per_step: bool
) -> None:
    """CRM order, Slack message, receipt email, then the answer: a 502 after the CRM committed
    makes Shopify retry, and the retry does all three again. Claiming each step under the
    webhook id before its call, with the id as the CRM call's Idempotency-Key, it does each
    once."""
    env = {**SHOPIFY, **({"PER_STEP": "1"} if per_step else {})}
    with project(tmp_path, "fanout_orders", "/webhooks/orders", env, "shopify:orders/create"):
        _, found = hazards(tmp_path, "ambiguous-commit", *QUICK, env=SHOPIFY)
    repeated = found["ambiguous-commit"]["no_duplicate_effects"]
    if per_step:
        assert repeated["status"] == "pass", said(repeated)
    else:
        assert repeated["status"] == "fail", said(repeated)
        assert re.search(r"POST /crm/orders eff_\d+, eff_\d+", said(repeated)), said(repeated)
    assert found["ambiguous-commit"]["no_lost_events"]["status"] == "pass"
