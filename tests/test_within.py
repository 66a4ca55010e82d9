"""An event's item repeated inside one bulk call: a duplicate no count of effects shows.

Found on a receiver that buffers orders and writes them in bulk (tests/gallery/bulk_writer.py):
two copies of an order delivered at once reached the same batch, and ``POST /payouts/bulk``
carried its payout twice — one effect naming the event once. no_duplicate_effects passed
"no event produced a repeated effect" over 12 orders paid twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from harness.core._model import Delivery, Effect, Event, Outcome, Status, Verdict
from harness.history import History

from .test_duplicates_unattributed import ev, ok, run
from .test_record_attribution import verdict_of


def payout(event: Event) -> dict[str, str]:
    return {"order_id": event.key, "email": f"ada+{event.id}@example.com"}


def bulk(n: int, events: Sequence[Event], items: int = 1, method: str = "POST") -> Effect:
    """One bulk call: each of ``events`` ``items`` times, in the order given."""
    body = {"payouts": [payout(e) for e in events for _ in range(items)]}
    ids = tuple(dict.fromkeys(e.id for e in events))
    body_text = json.dumps(body)
    return Effect(f"eff_{n}", "api", float(n), method, "/payouts/bulk", {}, body_text, 201, ids)


def batched(
    tag: str,
    batches: Sequence[Sequence[int]],
    items: int = 1,
    method: str = "POST",
    baseline: History | None = None,
) -> History:
    """Four orders, each delivered once per time its seq is listed; each batch one bulk call
    carrying the listed orders (a seq listed twice: its item twice)."""
    events = [ev(tag, seq) for seq in range(4)]
    deliveries = [ok(events[seq], n) for n, batch in enumerate(batches, 1) for seq in batch]
    effects = [
        bulk(n, [events[seq] for seq in batch], items, method) for n, batch in enumerate(batches, 1)
    ]
    return run(events, deliveries, effects, tag=tag, baseline=baseline)


def dup(h: History) -> Verdict:
    return verdict_of(h, "no_duplicate_effects")


CLEAN = [[0, 1], [2, 3]]
TWINS = [[0, 0, 1], [2, 3, 3]]  # orders 0 and 3 delivered twice at once, each copy batched


def test_an_item_carried_twice_in_one_bulk_call_is_a_duplicate() -> None:
    v = dup(batched("zqrun", TWINS, baseline=batched("zqclean", CLEAN)))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "2 of 4 events produced duplicate effects; 2 of them repeated their item within one "
        "call (POST /payouts/bulk eff_1 carried 2 items of evt_zqrune0, where each call of its "
        "clean twin carried one)"
    ), v.summary
    assert v.evidence.event_ids == ("evt_zqrune0", "evt_zqrune3")
    assert v.evidence.lines[0].endswith(
        "and produced 1 effect: POST /payouts/bulk eff_1; eff_1 carried 2 items of it in one "
        "call, where each call of its clean twin carried one"
    ), v.evidence.lines[0]


def test_as_many_items_as_the_clean_twin_carried_are_no_repeat() -> None:
    """An order written as two line items by the clean run too: its two items are its shape."""
    v = dup(batched("zqrun", CLEAN, items=2, baseline=batched("zqclean", CLEAN, items=2)))
    assert v.status is Status.PASS, v.summary


def test_a_repeated_item_of_an_idempotent_bulk_call_is_harmless() -> None:
    """A bulk PUT (an upsert of each item by its id) writes an item twice to no effect."""
    clean = batched("zqclean", CLEAN, method="PUT")
    v = dup(batched("zqrun", TWINS, method="PUT", baseline=clean))
    assert v.status is Status.PASS, v.summary


def test_without_a_clean_run_nothing_says_how_many_items_an_event_makes() -> None:
    v = dup(batched("zqrun", TWINS))
    assert v.status is Status.PASS, v.summary
    assert "no event produced a repeated effect" in v.summary


def test_items_in_separate_calls_are_counted_as_repeated_requests_once() -> None:
    """Order 0's copies in two calls: a repeated request, not also an item repeated within."""
    v = dup(batched("zqrun", [[0, 1], [0, 2, 3]], baseline=batched("zqclean", CLEAN)))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 4 events produced duplicate effects: 1 repeated request"), (
        v.summary
    )
    assert "within one call" not in v.summary


def test_copies_batched_into_one_call_were_not_skipped() -> None:
    """Order 0's two copies reach one bulk call (its item twice); order 1 is written again by a
    copy sent after its first call was made and answered. Order 0 was accepted twice and is
    named by one call, but its copy was carried, not skipped: nothing shows a deduplication
    (found on Node-RED's join node batching Stripe checkouts, tests/node-red/batch.json, where
    the note said "it deduplicates, but its record … does not reach every copy")."""
    events = [ev("zqrun", seq) for seq in range(4)]

    def sent(seq: int, n: int, at: float) -> Delivery:
        e = events[seq]
        return Delivery(f"dlv_{e.id}_{n}", e.id, n, at, at, at + 0.01, 200, Outcome.OK)

    deliveries = [sent(0, 1, 0.0), sent(0, 2, 0.01), sent(1, 1, 0.02)]
    deliveries += [sent(2, 1, 0.6), sent(3, 1, 0.61), sent(1, 2, 0.7)]
    first, second = bulk(1, [events[0], events[0], events[1]]), bulk(2, events[1:])
    effects = [replace(first, at=0.5), replace(second, at=1.0)]
    h = run(events, deliveries, effects, tag="zqrun", baseline=batched("zqclean", CLEAN))
    v = dup(h)
    assert v.status is Status.FAIL, v.summary
    assert "it deduplicates, but" not in v.summary, v.summary
    assert "no copy of any event was skipped: nothing in this run shows" in v.summary, v.summary
    assert "repeated their item within one call (POST /payouts/bulk eff_1" in v.summary
