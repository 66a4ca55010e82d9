"""Receivers written in Node.js (tests/gallery/node/: node:http, node:crypto and the global
fetch, no npm package), driven the way a new user drives theirs — ``harness init`` with their
provider's payload, then ``harness run`` of a hazard — each verdict read against the run.

- shopify_orders_seen_set.js ``JSON.parse``s Shopify orders: an order id above 2**53 reaches
  the API rounded. With an example order whose ``id`` is such a number, big-number-ids was
  skipped, saying "the payload … has no integer above 2**53": the order's ``$.id`` is the
  events' id path (Shopify carries the webhook's id in a header, the layout none), and the
  hazard chose only among the other fields. It retypes the id now where no other field is big,
  and big_numbers_intact names every id that arrived rounded.
- The same receiver answers 200 and does nothing for a topic other than ``orders/create`` (one
  URL, several subscriptions). Made from the user's own example, every event went out with
  ``X-Shopify-Topic: event`` and nothing could say otherwise: the clean run wrote nothing, and
  each verdict was inconclusive, advising to check the API base URL. ``types:`` on the events
  names it, and ``harness init`` offers it, commented out, wherever a header carries the type;
  left out, the inconclusive verdicts say that header first.
- With that 64-bit example every event's id is such a number, and the orders carry them
  rounded: no effect names its event. The verdicts that need one said to add a correlate:
  rule, which cannot match a rounded id; they say the ids arrived rounded now.
- stripe_orders_after_end.js answers ``res.end()`` and then posts the order, a promise nobody
  awaits: what the CRM refused is lost, said with the refused call.
- contacts_promise_chain.js, correct (202 at once, each contact's writes chained on one
  promise, stale updates skipped, a refused write tried again after its Retry-After): the
  hazards that tripped its first drafts hold.

Node.js missing, every test skips saying so (as the Node-RED tests do).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from harness.history import load_all
from harness.invariants._facts import is_write

from .gallery.node import node
from .test_gallery import QUICK, SCENARIOS, automation, init_project, run, said, verdicts
from .test_gallery_round8 import hazards

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(node() is None, reason="node is not on PATH (Node.js >= 18 needed)"),
]

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0node0not0real"}  # the test's own
SHOPIFY = {"SHOPIFY_WEBHOOK_SECRET": "shpss_gallery0node0not0real"}
CONTACTS = {"WEBHOOK_SECRET": "whsec_c2VjcmV0MGdhbGxlcnkwbm9kZQ=="}
ORDER = Path(__file__).resolve().parents[1] / "harness/core/payloads/shopify/orders-create.json"
BIG_ID = 820982911946154508  # odd, above 2**53: no double holds it


@contextmanager
def node_project(
    cwd: Path, receiver: str, hook: str, env: dict[str, str], provider: str, events: str
) -> Iterator[None]:
    """``node tests/gallery/node/RECEIVER.js`` on loopback, and ``harness init`` of a project
    in ``cwd`` for it, with one double."""
    with automation("node", hook, env, options=(receiver,)) as target:
        init_project(provider, events, target.url, f"api={target.downstream_port}", cwd)
        yield


@contextmanager
def own_orders(cwd: Path, order_id: int | None = None, topic: bool = True) -> Iterator[Path]:
    """The Shopify receiver, and a project of the user's own example order (the library's
    payload, its ``id`` ``order_id`` where given), named ``orders/create`` (``types:``, init's
    offered line) where ``topic``; yields harness.yaml."""
    order: dict[str, Any] = json.loads(ORDER.read_text())["payload"]
    (cwd / "order.json").write_text(json.dumps({**order, "id": order_id or order["id"]}))
    events = str(cwd / "order.json")
    with node_project(
        cwd, "shopify_orders_seen_set", "/webhooks/orders", SHOPIFY, "shopify", events
    ):
        project = cwd / "harness.yaml"
        if topic:
            named = project.read_text().replace("# types: [...]", "types: [orders/create]")
            project.write_text(named)
        yield project


def test_an_order_id_above_2_53_is_judged_and_each_one_rounded_by_json_parse_is_named(
    tmp_path: Path,
) -> None:
    """The user's example order has a 64-bit ``id``; ``JSON.parse`` rounds it on its way to
    the API. It was skipped: 'the payload … has no integer above 2**53'."""
    with own_orders(tmp_path, BIG_ID, topic=False) as project:
        offered = (
            "    # types: [...]   # what the hazards send in X-Shopify-Topic ('event' if unset)"
        )
        assert offered in project.read_text()
        # What the user does, told so by init: name the topic the receiver routes on.
        project.write_text(project.read_text().replace("# types: [...]", "types: [orders/create]"))
        done, found = hazards(tmp_path, "big-number-ids", *QUICK, env=SHOPIFY)
    verdicts = found["big-number-ids"]
    big = verdicts["big_numbers_intact"]
    assert big["status"] == "fail", said(big)
    assert "arrived changed (rounded through a double) — $.id" in big["summary"], said(big)
    assert all(
        "(rounded through a double) in POST /orders" in line for line in big["evidence"]["lines"]
    )
    # A quarter of the ids came as text, which JSON.parse leaves alone: those are intact.
    assert verdicts["drift_is_loud"]["status"] == "pass", said(verdicts["drift_is_loud"])
    assert done.code == 1


def test_orders_posted_after_res_end_and_refused_are_lost_each_with_its_refused_call(
    tmp_path: Path,
) -> None:
    """``res.end()`` then an unawaited ``fetch``: the orders the CRM refused (503 for 20 of the
    hour's 60 minutes) are lost, each named with its refused post, and given up — no retry;
    the process lives on (an unhandled rejection logged), the other checkouts ordered once."""
    scenario = str(SCENARIOS / "stripe-checkout-orders-refused.yaml")
    with automation("node", "/webhooks/stripe", STRIPE, ("stripe_orders_after_end",)) as target:
        done, report = run(target, scenario, tmp_path, env=STRIPE)
    found = verdicts(report)
    lost = found["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert re.search(
        r"each of these had its calls refused \(\d+ calls? answered 503\), none made again",
        lost["summary"],
    ), said(lost)
    assert all("(refused 503)" in line for line in lost["evidence"]["lines"]), said(lost)
    for name in ("no_duplicate_effects", "no_server_errors", "target_available"):
        assert found[name]["status"] == "pass", said(found[name])
    assert done.code == 1


@pytest.mark.parametrize("hazard", ["ambiguous-commit", "downstream-throttled"])
def test_a_contact_sync_chained_per_contact_and_retrying_after_retry_after_fails_nothing(
    tmp_path: Path, hazard: str
) -> None:
    """The correct receiver, where its drafts failed rightly: marked newest only once a write
    was confirmed, an older update's write applied and answered 502 was made again after the
    newer one's (per_key_order); retried without waiting for Retry-After (backs_off). Neither
    shape is left, and no verdict fails."""
    contacts = "standard-webhooks:contact.updated"
    hook = "/webhooks/contacts"
    receiver = "contacts_promise_chain"
    with node_project(tmp_path, receiver, hook, CONTACTS, "standard-webhooks", contacts):
        done, found = hazards(tmp_path, hazard, env=CONTACTS)
    failed = [said(v) for v in found[hazard].values() if v["status"] == "fail"]
    assert not failed, failed
    order = found[hazard]["per_key_order"]
    if order["status"] == "inconclusive":
        # A loaded machine's throttled writes wait long enough that every older update is
        # overtaken while it waits and skipped (as the receiver means to): each contact
        # written for one event alone, nothing to order — said so, and the journal agrees.
        assert "got effects of a single event; there was no order to keep" in order["summary"]
        [db] = (tmp_path / "harness-runs").glob("*.db")
        [run] = [r for r in load_all(db) if r.info.scenario == hazard]
        key = {e.id: e.key for e in run.events}
        written: dict[str | None, set[str]] = {}
        for effect in run.effects:
            if effect.committed and is_write(effect):
                for eid in effect.event_ids:
                    written.setdefault(key[eid], set()).add(eid)
        assert written and all(len(ids) == 1 for ids in written.values()), written
        assert done.code == 1  # inconclusive is not Ready
        return
    assert order["status"] == "pass", said(order)
    assert done.code == 0


def test_events_sent_as_topic_event_to_a_receiver_routing_on_it_are_said_so(
    tmp_path: Path,
) -> None:
    """The user's own order, no ``types:``: every delivery says ``X-Shopify-Topic: event`` and
    the receiver, routing on the topic, writes nothing. Inconclusive, as before, but the cause
    is that header, said first — it advised only to check the API base URL."""
    with own_orders(tmp_path, topic=False):
        _, found = hazards(tmp_path, "duplicate-storm", *QUICK, env=SHOPIFY)
    lost = found["duplicate-storm"]["no_lost_events"]
    assert lost["status"] == "inconclusive", said(lost)
    assert "every event went out with X-Shopify-Topic: event" in lost["summary"], said(lost)
    assert "`types: [orders/create]` in harness.yaml" in lost["summary"], said(lost)


def test_an_own_order_named_orders_create_is_judged_as_the_library_judges_orders(
    tmp_path: Path,
) -> None:
    """With ``types: [orders/create]`` the user's own order is a ledger, as the library's
    Shopify orders are: out-of-order (a register hazard) assumed a register, 'nobody said
    which', and the older orders of a customer, written, were taken for superseded states."""
    with own_orders(tmp_path):
        _, found = hazards(tmp_path, "out-of-order", *QUICK, env=SHOPIFY)
    [run] = json.loads((tmp_path / "report.json").read_text())["runs"]
    assert run["model"] == "ledger", run["model"]
    lost = found["out-of-order"]["no_lost_events"]
    assert lost["status"] == "pass", said(lost)
    assert "nobody said which" not in said(lost)


def test_effects_whose_event_ids_json_parse_rounded_are_said_to_carry_them_rounded(
    tmp_path: Path,
) -> None:
    """The user's own order with a 64-bit ``id``: every event's id is such a number, and
    every order reaches the API with it rounded, so no effect names its event. per_key_order
    and backs_off are inconclusive — they said to add a correlate: rule, which cannot match a
    rounded id."""
    with own_orders(tmp_path, BIG_ID):
        _, found = hazards(tmp_path, "downstream-outage", *QUICK, env=SHOPIFY)
    for name in ("per_key_order", "backs_off"):
        unjudged = found["downstream-outage"][name]
        assert unjudged["status"] == "inconclusive", said(unjudged)
        assert "POST /orders carries this run's event ids rounded through a double" in said(
            unjudged
        )
        assert "correlate:` rule" not in said(unjudged) and "a correlate: rule map" not in said(
            unjudged
        )


def test_a_final_state_differing_only_by_ids_rounded_alike_in_both_runs_matches(
    tmp_path: Path,
) -> None:
    """import-run-twice on the 64-bit orders: the Set skips every second import's copy (the
    same X-Shopify-Webhook-Id), so each order is posted once, its id rounded in this run as in
    the clean run. final_state_matches_baseline failed every record, the rounded ids of the two
    runs compared digit for digit; big-number-ids is where the rounding is judged."""
    with own_orders(tmp_path, BIG_ID):
        _, found = hazards(tmp_path, "import-run-twice", *QUICK, env=SHOPIFY)
    verdicts = found["import-run-twice"]
    for name in ("final_state_matches_baseline", "no_duplicate_effects"):
        assert verdicts[name]["status"] == "pass", said(verdicts[name])
