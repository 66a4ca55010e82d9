"""per_key_order on automations that batch, through ``harness run``: each item of a batch call a
write of the record it names, applied where it stands in its call
(harness/invariants/_batch_items.py, ``in_order``).

The Node-RED join flow (tests/node-red/batch.json, ``/hooks/stripe/batched``) keeps its
contacts in their order of arrival: under simultaneous-same-record a call can carry a customer's
newest checkout before an older one. Before, per_key_order took the call as one write whose
oldest event per customer was in order, and passed where final_state_matches_baseline failed
the customers left on the older checkout.

tests/gallery/buffered_upsert.py keeps each contact's newest update and writes ten to a call,
to a stateful double that answers each call 201 Created. Before: "every write created a
resource of its own (POST answered 201 Created …): … no order to keep", inconclusive.

Skipped only when npm cannot reach its registry to install Node-RED (tests/node_red.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from harness.core import _paths
from harness.core._model import Event
from harness.history import History

from .node_red import NodeRed
from .test_gallery_batches import hazard as buffered
from .test_node_red import TIMEOUT
from .test_node_red_batches import batched
from .test_node_red_flows import batch, red

__all__ = ["batch", "red"]  # fixtures: the session's Node-RED install, the module's flow

pytestmark = pytest.mark.integration

NAME = "per_key_order"
JUDGED = (
    "the writes to POST /contacts/batch/upsert judged by their items, each element of a call's "
    "list a write of the record it names, applied where it stands in its call"
)


def out_of_order(h: History) -> set[str]:
    """The customers one of whose checkouts' first item stands after an item of a newer one of
    theirs — by the calls' times, then by place in the call — where the flow could tell the two
    apart: the older answered before the newer was sent, or their `created` differ and the
    older was answered before the newer's call (a ledger's rule, docs/invariants.md)."""
    token = re.compile(re.escape(h.info.tracer_tag) + r"e(\d+)")
    by_seq = {e.seq: e for e in h.events}
    created = _paths.parse(h.info.settings["paths"]["time"])  # Stripe's $.created
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    for d in h.deliveries:
        sent[d.event_id] = min(sent.get(d.event_id, d.sent_at), d.sent_at)
        if d.answered_at is not None:
            answered[d.event_id] = min(answered.get(d.event_id, d.answered_at), d.answered_at)

    def told(older: Event, newer: Event, applied: float) -> bool:
        never = float("inf")
        if answered.get(older.id, never) <= sent.get(newer.id, never):
            return True
        if answered.get(older.id, never) > applied:
            return False
        return bool(_paths.get(older.payload, created) != _paths.get(newer.payload, created))

    newest: dict[str, tuple[Event, float]] = {}  # customer -> its newest event so far, when
    seen: set[str] = set()
    behind: set[str] = set()
    for effect in sorted(h.effects, key=lambda e: e.at):
        if not effect.committed:
            continue
        for item in json.loads(effect.body)["inputs"]:
            event = by_seq[int(token.findall(json.dumps(item))[0])]
            if event.id in seen:
                continue  # a ledger's event is judged by its first effect
            seen.add(event.id)
            held = newest.get(event.key)
            if held is None or event.seq > held[0].seq:
                newest[event.key] = (event, effect.at)
            elif told(event, held[0], held[1]):
                behind.add(event.key)
    return behind


@pytest.mark.timeout(TIMEOUT)
def test_join_then_batch_upsert_fails_customers_whose_older_checkout_stands_after_a_newer(
    batch: NodeRed, tmp_path: Path
) -> None:
    r = batched(batch, "simultaneous-same-record", tmp_path, None)
    h = r.history
    assert all(len(e.event_ids) > 1 for e in h.effects), [e.event_ids for e in h.effects]
    behind = out_of_order(h)
    order = r.verdicts[NAME]
    assert JUDGED in order["summary"], order
    if not behind:
        assert order["status"] in ("pass", "inconclusive"), order
        return
    customers = len({e.key for e in h.events})
    assert order["status"] == "fail" and order["class"] == "silent", order
    assert order["summary"].startswith(
        f"{len(behind)} of {customers} records had effects applied out of event order"
    ), order
    named = {m[1] for line in r.lines(NAME) if (m := re.match(r"effects for record (\S+) ", line))}
    assert named == behind, (named, behind)
    assert all(re.search(r"eff_\d+ item \d+ of \d+\)", line) for line in r.lines(NAME))
    # Every customer per_key_order fails had an older checkout after a newer one; those
    # final_state_matches_baseline fails are among them (its are those it left there last).
    state = r.verdicts["final_state_matches_baseline"]
    if state["status"] == "fail":
        ended = {
            m[1]
            for line in r.lines("final_state_matches_baseline")
            if (m := re.match(r"record (\S+) ", line))
        }
        assert ended <= behind, (ended, behind)


def test_buffered_upsert_keeps_each_contacts_order_through_a_stateful_double(
    tmp_path: Path,
) -> None:
    code, found, h = buffered(tmp_path, "contacts-batched-burst")
    assert any(e.status == 201 for e in h.effects)  # the double's answer to each stored call
    assert max(len(e.event_ids) for e in h.effects) > 1
    order = found[NAME]
    assert order["status"] == "pass", order
    assert re.fullmatch(
        r"no record went back to an older state \(20 records, [\d,]+ effects checked\); "
        + re.escape(JUDGED),
        order["summary"],
    ), order
    assert code == 0
