"""per_key_order on batch writes (hand-made histories): each item of a call a write of the record
it names, applied where it stands in the call, and across calls by the calls' times.

Before, a call stood as one write naming every event it carried: a record's older item after
its newer one in the same call was not seen ("no record went back to an older state"), and a
stateful double's answer to the call (201 Created) made every call a creation ("every write
created a resource of its own … no order to keep").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from harness.core._model import Delivery, Effect, Event, Model, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge

from .test_final_state_batches import MINE, call, contact_event, history, item

NAME = "per_key_order"
JUDGED = (
    "; the writes to POST /contacts/batch/upsert judged by their items, each element of a "
    "call's list a write of the record it names, applied where it stands in its call"
)


def events() -> list[Event]:
    """Two contacts, two updates each: seqs 0 and 2 of contact 0, 1 and 3 of contact 1."""
    return [contact_event(MINE, seq, seq % 2) for seq in range(4)]


def items(*seqs: int) -> list[dict[str, Any]]:
    return [item(MINE, seq, seq % 2) for seq in seqs]


def judged(effects: Sequence[Effect], model: Model, run: History | None = None) -> Verdict:
    [v] = judge(run or history(MINE, events(), effects, model=model), [InvariantSpec(NAME)])
    return v


def test_an_older_item_after_a_newer_one_in_the_same_call_is_a_stale_overwrite() -> None:
    # Contact 0's update 2 stands first in the call, its update 0 last: an upsert applies them
    # in order and leaves update 0. Before: "no record went back to an older state (2 records,
    # 3 effects checked)", the call judged as one write by its oldest event per record.
    calls = [call(MINE, "eff_1", 1.0, items(2, 1, 0)), call(MINE, "eff_2", 2.0, items(3))]
    v = judged(calls, Model.REGISTER)
    assert v.status is Status.FAIL, v.summary
    assert v.summary == (
        "1 of 2 records went back to an older state after a newer one (stale overwrite, 1 time)"
        + JUDGED
    ), v.summary
    assert v.evidence.lines == (
        "record con_zqaaaaak0 went back to an older state: seq 0 (evt_zqaaaaae0, eff_1 item 3 "
        "of 3) at 1.00 s overwrote seq 2 (evt_zqaaaaae2, eff_1 item 1 of 3) at 1.00 s",
    ), v.evidence.lines
    assert v.evidence.effect_ids == ("eff_1",)


def test_a_ledgers_items_out_of_event_order_in_one_call_fail() -> None:
    # Before: "each of the 2 records got effects of a single event; there was no order to
    # keep", inconclusive: the one call was one step per record.
    calls = [call(MINE, "eff_1", 1.0, items(2, 1, 0, 3))]
    v = judged(calls, Model.LEDGER)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "1 of 2 records had effects applied out of event order (1 violation)"
    ), v.summary
    assert (
        "seq 0 (evt_zqaaaaae0, eff_1 item 3 of 4) at 1.00 s after seq 2" in (v.evidence.lines[0])
    ), v.evidence.lines


def test_items_are_ordered_across_calls_by_the_calls_times() -> None:
    # Before: failed alike, the witness naming the calls only (eff_2 … overwrote … eff_1).
    calls = [call(MINE, "eff_1", 1.0, items(2, 1)), call(MINE, "eff_2", 2.0, items(0, 3))]
    v = judged(calls, Model.REGISTER)
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.lines == (
        "record con_zqaaaaak0 went back to an older state: seq 0 (evt_zqaaaaae0, eff_2 item 1 "
        "of 2) at 2.00 s overwrote seq 2 (evt_zqaaaaae2, eff_1 item 1 of 2) at 1.00 s",
    ), v.evidence.lines
    # The same items, each in its place: held.
    calls = [call(MINE, "eff_1", 1.0, items(0, 1)), call(MINE, "eff_2", 2.0, items(2, 3))]
    v = judged(calls, Model.REGISTER)
    assert v.status is Status.PASS, v.summary
    assert v.summary == "no record went back to an older state (2 records, 4 effects checked)" + (
        JUDGED
    )


def test_a_stateful_doubles_201_to_a_batch_call_is_no_creation() -> None:
    # A stateful double stores each POST as a resource of its own and answers 201: each item is
    # still its record's upsert. Before: "every write created a resource of its own (POST
    # answered 201 Created, 2 times): … no order to keep", inconclusive.
    calls = [
        call(MINE, "eff_1", 1.0, items(0, 1), status=201),
        call(MINE, "eff_2", 2.0, items(2, 3), status=201),
    ]
    v = judged(calls, Model.REGISTER)
    assert v.status is Status.PASS, v.summary
    assert v.summary == "no record went back to an older state (2 records, 4 effects checked)" + (
        JUDGED
    )
    stale = [
        call(MINE, "eff_1", 1.0, items(2, 1), status=201),
        call(MINE, "eff_2", 2.0, items(0, 3), status=201),
    ]
    assert judged(stale, Model.REGISTER).status is Status.FAIL


def test_items_of_one_time_that_reached_the_target_together_are_counted_not_failed() -> None:
    # Updates 0 and 2 of contact 0 carry the same time and were in flight together: a correct
    # automation could apply them either way. Before: "each of the 2 records got effects of a
    # single event; there was no order to keep", inconclusive.
    stamped = [replace(e, payload={"at": "2026-01-01T00:00:00Z"}) for e in events()]
    calls = [call(MINE, "eff_1", 1.0, items(2, 1, 0, 3))]
    run = history(MINE, stamped, calls, model=Model.REGISTER)
    run.deliveries = [
        Delivery(f"dlv_{e.seq}", e.id, 1, 0.1, 0.1, 0.5, 200, Outcome.OK) for e in stamped
    ]
    run.info = replace(run.info, settings={"paths": {"time": "$.at"}})
    v = judged(calls, Model.REGISTER, run)
    assert v.status is Status.PASS, v.summary
    assert v.summary == (
        "no record's effects went against an order the automation could know (2 records, 4 "
        "effects checked); 1 out-of-order write not judged: between events of one record with "
        "the same time at $.at (or the older's the later) that reached the target together, so "
        "nothing told their order" + JUDGED
    ), v.summary


def test_an_item_naming_several_records_is_judged_as_one_write_and_said() -> None:
    # The second element names contact 0's update 2 and contact 1's update 3 (a merge): which
    # record it writes, and in what order, nothing tells. Judged as one write of both, after
    # the first element, as a write naming several records always was. Before: "each of the 2
    # records got effects of a single event", inconclusive.
    merged = {"ids": ["con_zqaaaaak0", "con_zqaaaaak1"], "names": "zqaaaaae2 zqaaaaae3"}
    calls = [call(MINE, "eff_1", 1.0, [*items(0, 1), merged])]
    v = judged(calls, Model.REGISTER)
    assert v.status is Status.PASS, v.summary
    assert v.summary == (
        "no record went back to an older state (2 records, 4 effects checked)"
        + JUDGED
        + "; 1 batch item naming events of several records judged as one write each, by each "
        "record's oldest event in it: the order inside not seen (check that each item of a "
        "batch call carries its event's id or its record's key, as sent)"
    ), v.summary
    # Its oldest event of contact 0 older than what the call's first element wrote: failed.
    merged = {"ids": ["con_zqaaaaak0", "con_zqaaaaak1"], "names": "zqaaaaae0 zqaaaaae3"}
    calls = [call(MINE, "eff_1", 1.0, [*items(2, 1), merged])]
    assert judged(calls, Model.REGISTER).status is Status.FAIL


def test_an_item_naming_no_event_of_the_run_orders_nothing_and_is_said() -> None:
    # Another run's contact left in a join (its clean run's tail) rides in this run's call.
    theirs = {"id": "ada@example.org", "properties": {"name": "Ada zqbbbbbe7"}}
    calls = [
        call(MINE, "eff_1", 1.0, [*items(0, 1), theirs]),
        call(MINE, "eff_2", 2.0, items(2, 3)),
    ]
    v = judged(calls, Model.REGISTER)
    assert v.status is Status.PASS, v.summary
    assert v.summary == (
        "no record went back to an older state (2 records, 4 effects checked)"
        + JUDGED
        + "; 1 batch item naming no event nor record of this run not judged: nothing to order"
    ), v.summary
