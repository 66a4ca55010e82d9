"""A Shopify order's contact found by email or created, no lock
(tests/gallery/shopify_contacts.py), driven the way a new user drives theirs: ``harness init``
for ``shopify:orders/create``, then ``harness run`` of the hazards that fit.

Shopify keys an order by ``customer.id``, a JSON number, which the tracer renumbers per run and
which holds no token: each order carried an email marked with its own event's token, so no
two of a customer's orders ever shared an email, the find-or-create never raced, and every
verdict passed. A customer's orders carry its one email now (``_tracer.Tokens.record_token``).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from harness.history import load_all
from harness.invariants._facts import plural

from .test_gallery import QUICK, said
from .test_gallery_round8 import hazards, project

pytestmark = pytest.mark.integration

SHOPIFY = {"SHOPIFY_WEBHOOK_SECRET": "shpss_gallery0contacts_not0real"}  # the test's own
ORDERS = "shopify:orders/create"


@pytest.mark.parametrize("contacts", ["racing", "locked"])
def test_a_customers_orders_at_once_race_the_find_or_create_of_its_contact(
    tmp_path: Path, contacts: str
) -> None:
    """Three orders of a customer at once each find no contact and each create one: several
    contacts where the clean run, one order at a time, made one; named per customer. It
    passed while each order carried an email of its own (fails before). A lock per email
    around the find-or-create: one contact per customer, every verdict holds."""
    env = {**SHOPIFY, **({"CONTACTS": "locked"} if contacts == "locked" else {})}
    with project(tmp_path, "shopify_contacts", "/webhooks/orders", env, ORDERS):
        _, found = hazards(tmp_path, "simultaneous-same-record", *QUICK, env=SHOPIFY)
    verdicts = found["simultaneous-same-record"]
    [db] = (tmp_path / "harness-runs").glob("*.db")
    [raced] = [r for r in load_all(db) if r.baseline is not None]
    assert raced.baseline is not None
    made = Counter(
        e.key for e in raced.effects if e.method == "POST" and e.path == "/contacts" and e.committed
    )
    customers = {e.key for e in raced.events}
    assert set(made) == customers  # every contact names its customer (the renumbered id)
    clean = [e for e in raced.baseline.effects if e.method == "POST" and e.path == "/contacts"]
    assert len(clean) == len({e.key for e in raced.baseline.events})  # one each, one at a time
    twice = {key for key, n in made.items() if n > 1}
    repeated = verdicts["no_duplicate_effects"]
    if contacts == "locked" or not twice:  # locked, or a machine so slow none raced
        assert not twice or contacts != "locked", twice
        assert repeated["status"] == "pass", said(repeated)
        if contacts == "locked":
            for name in ("no_lost_events", "final_state_matches_baseline"):
                assert verdicts[name]["status"] == "pass", said(verdicts[name])
        return
    assert repeated["status"] == "fail", said(repeated)
    assert re.match(
        rf"{plural(len(twice), 'record')} got more resources created by POST /contacts",
        said(repeated),
    )
    assert "simultaneous events racing a find-or-create" in repeated["summary"]
    named = set(re.findall(r"writes of record (\d+), naming no event", said(repeated)))
    assert named and named <= twice, (named, twice)
    assert verdicts["final_state_matches_baseline"]["status"] == "fail"
