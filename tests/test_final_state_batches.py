"""final_state_matches_baseline on batch writes (hand-made histories): a call carrying many
records' items is judged by its items, whichever events shared it in either run.

Before, the grouping itself was the difference: each call stood as one record's last write (its
first item's) or one stored resource, so a clean run and a burst that grouped the same contacts
into other calls "differed" on every record — "20 of 20 records end in another state".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from harness.core._model import (
    STATE_MARK,
    Delivery,
    Effect,
    Event,
    Model,
    Outcome,
    StateRecord,
    Status,
    Verdict,
)
from harness.core._scenario import InvariantSpec
from harness.history import History, Mark, RunInfo
from harness.invariants import judge

NAME = "final_state_matches_baseline"
ROUTE = "/contacts/batch/upsert"
BASE, MINE = "zqbbbbb", "zqaaaaa"


def contact_event(tag: str, seq: int, record: int) -> Event:
    return Event(f"evt_{tag}e{seq}", f"con_{tag}k{record}", seq, "contact.updated", 0.0, {})


def item(tag: str, seq: int, record: int, name: str = "") -> dict[str, Any]:
    """One contact of a batch call, as an upsert API takes it: its record's key and its
    event's values (the name, tokened by the event)."""
    return {"id": f"con_{tag}k{record}", "properties": {"name": f"{name or 'Ada'} {tag}e{seq}"}}


def call(tag: str, eff: str, at: float, items: Sequence[dict[str, Any]], **changes: Any) -> Effect:
    """``POST /contacts/batch/upsert {"inputs": items}``, named by every event its items name."""
    body = json.dumps({"inputs": list(items)})
    ids = tuple(dict.fromkeys(f"evt_{tag}e{s}" for s in re.findall(rf"{tag}e(\d+)", body)))
    effect = Effect(eff, "crm", at, "POST", ROUTE, {}, body, 200, ids, items[0]["id"])
    return replace(effect, **changes)


def history(
    tag: str,
    events: Sequence[Event],
    effects: Sequence[Effect],
    states: Sequence[StateRecord] | None = None,
    model: Model = Model.LEDGER,
) -> History:
    info = RunInfo(f"s@{tag}", "s", 1, "http://127.0.0.1:1/", "t", model, (), "", tag, "", {})
    deliveries = [
        Delivery(f"dlv_{e.seq}", e.id, 1, 0.1 * e.seq, 0.1 * e.seq, 0.1 * e.seq, 200, Outcome.OK)
        for e in events
    ]
    marks = [Mark(9.0, STATE_MARK, "crm")] if states is not None else []
    return History(
        info, list(events), deliveries, list(effects), marks=marks, states=list(states or [])
    )


def judged(mine: History, base: History, **settings: object) -> Verdict:
    mine.info = replace(mine.info, settings={**settings, "baseline": base.info.run_id})
    mine.baseline = base
    [v] = judge(mine, [InvariantSpec(NAME)])
    return v


def stored(tag: str, effects: Sequence[Effect]) -> list[StateRecord]:
    """What a stateful double holds after these calls: each POST one resource of its own."""
    return [
        StateRecord(
            "crm", e.path, f"ds_{n}", {**json.loads(e.body), "id": f"ds_{n}"}, e.event_ids, e.key
        )
        for n, e in enumerate(effects, 1)
    ]


def four(tag: str) -> list[Event]:
    return [contact_event(tag, seq, seq) for seq in range(4)]


def clean_calls(tag: str) -> list[Effect]:
    """The clean run: events sent one at a time, flushed as they came, two to a call."""
    return [
        call(tag, "eff_1", 1.0, [item(tag, 0, 0), item(tag, 1, 1)]),
        call(tag, "eff_2", 2.0, [item(tag, 2, 2), item(tag, 3, 3)]),
    ]


def burst_calls(tag: str) -> list[Effect]:
    """A burst: three in the first call, the last one alone."""
    return [
        call(tag, "eff_1", 1.0, [item(tag, 0, 0), item(tag, 1, 1), item(tag, 2, 2)]),
        call(tag, "eff_2", 2.0, [item(tag, 3, 3)]),
    ]


def test_calls_grouped_otherwise_than_the_clean_runs_are_judged_by_their_items() -> None:
    # Before: "2 of 3 records end in another state … 1 differs, 1 missing; 1 record not judged"
    # (each call stood as the write of its first item's record: record 0's holding other items
    # than the clean run's, record 2 first in the clean run's second call and in none here).
    v = judged(
        history(MINE, four(MINE), burst_calls(MINE)), history(BASE, four(BASE), clean_calls(BASE))
    )
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith(
        "no record ends in another state than in the baseline run s@zqbbbbb (the last write per "
        "record); 4 records compared; the writes to POST /contacts/batch/upsert judged by their "
        "items"
    ), v.summary


def test_a_stateful_doubles_batch_resources_are_judged_by_their_items() -> None:
    # The double stores each call as one resource: not the state a batch upsert leaves. Before:
    # "2 of 3 records end in another state … (the final state): 1 differs, 1 missing".
    mine, base = burst_calls(MINE), clean_calls(BASE)
    v = judged(
        history(MINE, four(MINE), mine, stored(MINE, mine)),
        history(BASE, four(BASE), base, stored(BASE, base)),
    )
    assert v.status is Status.PASS, v.summary
    assert "(the final state); 4 records compared; the writes to POST" in v.summary, v.summary


def test_an_item_a_dropped_call_held_is_missing_and_named() -> None:
    # A best-effort flush: the second call refused (503) and dropped, never written again.
    calls = [
        call(MINE, "eff_1", 1.0, [item(MINE, 0, 0), item(MINE, 1, 1)]),
        call(MINE, "eff_2", 2.0, [item(MINE, 2, 2), item(MINE, 3, 3)], status=503, committed=False),
    ]
    v = judged(history(MINE, four(MINE), calls), history(BASE, four(BASE), burst_calls(BASE)))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "2 of 4 records end in another state than in the baseline run s@zqbbbbb (the last write "
        "per record): 2 missing"
    ), v.summary
    lines = "\n".join(v.evidence.lines)
    assert "record con_zqaaaaak2 (the last write per record): crm last write: missing" in lines
    assert "record con_zqaaaaak3 " in lines and "k0 " not in lines and "k1 " not in lines


def test_an_item_left_on_an_older_events_state_fails() -> None:
    # Two updates of record 0; this run's last call carries the older one, the payloads told
    # their order (a sequence): the record ends stale, as a call of its own would leave it.
    order = ((0, 0), (1, 1), (2, 0))
    mine = [
        call(MINE, "eff_1", 1.0, [item(MINE, 2, 0, "Bo"), item(MINE, 1, 1)]),
        call(MINE, "eff_2", 2.0, [item(MINE, 0, 0)]),
    ]
    base = [
        call(BASE, "eff_1", 1.0, [item(BASE, 0, 0), item(BASE, 1, 1)]),
        call(BASE, "eff_2", 2.0, [item(BASE, 2, 0, "Bo")]),
    ]
    v = judged(
        history(MINE, [contact_event(MINE, s, r) for s, r in order], mine, model=Model.REGISTER),
        history(BASE, [contact_event(BASE, s, r) for s, r in order], base, model=Model.REGISTER),
        paths={"seq": "$.sequence"},
    )
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 2 records ends in another state"), v.summary
    assert v.evidence.lines == (
        "record con_zqaaaaak0 (the last write per record): crm last write: "
        'body.properties.name: "Ada zqaaaaae0" (baseline "Bo zqaaaaae2"); written by POST '
        "/contacts/batch/upsert eff_1, eff_2, last by eff_2 of event evt_zqaaaaae0 (record "
        "con_zqaaaaak0, seq 0)",
    )


BULK = "/payouts/bulk"  # gallery bulk_writer's: a route that creates its items


def ledger_calls(tag: str, first: Sequence[int], lost: bool = False) -> list[Effect]:
    """Two payouts of record 0 (seq 0 and 2) and one of record 1 (seq 1) in one bulk call,
    record 0's in the order ``first`` gives; ``lost``: the call dropped seq 2's."""
    items = [item(tag, s, 0, "Bo" if s == 2 else "") for s in first if not (lost and s == 2)]
    return [call(tag, "eff_1", 1.0, [*items, item(tag, 1, 1)], path=BULK)]


def ledger(tag: str, effects: Sequence[Effect]) -> History:
    events = [contact_event(tag, s, r) for s, r in ((0, 0), (1, 1), (2, 0))]
    return history(tag, events, effects, stored(tag, effects))


def test_a_ledgers_batch_items_are_its_entries_in_any_order() -> None:
    # simultaneous-same-record against tests/gallery/bulk_writer (a ledger of payouts) failed
    # "2 of 12 records end in another state … amount: 1360 (baseline 532)": each record's last
    # item was taken for its state, as an upsert's, and the simultaneous three reached the bulk
    # call in another order than the clean run's. A ledger's state is its entries, counted.
    mine, base = ledger_calls(MINE, (2, 0)), ledger_calls(BASE, (0, 2))
    v = judged(ledger(MINE, mine), ledger(BASE, base), paths={"seq": "$.sequence"})
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith("no record ends in another state"), v.summary


def test_a_ledgers_entry_missing_from_its_batch_fails() -> None:
    mine, base = ledger_calls(MINE, (0, 2), lost=True), ledger_calls(BASE, (0, 2))
    v = judged(ledger(MINE, mine), ledger(BASE, base), paths={"seq": "$.sequence"})
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 of 2 records ends in another state"), v.summary
    line = v.evidence.lines[0]
    assert "crm /payouts/bulk (batch items): 1 record where the baseline has 2" in line


def test_a_ledgers_items_upserted_twice_are_one_state() -> None:
    """A route that says it upserts replaces its records' items in a ledger too: the Node-RED
    join flow under import-run-twice upserted every checkout's contact twice, each as in the
    clean run, and was failed "40 of 40 records end in another state … 40 differ" once a
    ledger's items were counted as entries (test_node_red_batches)."""
    once = [item(BASE, 0, 0), item(BASE, 1, 1)]
    twice = [item(MINE, 0, 0), item(MINE, 1, 1)]
    base = [call(BASE, "eff_1", 1.0, once)]
    mine = [call(MINE, "eff_1", 1.0, twice), call(MINE, "eff_2", 2.0, twice)]
    events = [(0, 0), (1, 1)]
    v = judged(
        history(MINE, [contact_event(MINE, s, r) for s, r in events], mine, stored(MINE, mine)),
        history(BASE, [contact_event(BASE, s, r) for s, r in events], base, stored(BASE, base)),
        paths={"seq": "$.sequence"},
    )
    assert v.status is Status.PASS, v.summary
    # The same calls to a route that creates its items: two entries where the baseline has one.
    made = [replace(e, path=BULK) for e in mine]
    v = judged(
        history(MINE, [contact_event(MINE, s, r) for s, r in events], made, stored(MINE, made)),
        history(
            BASE,
            [contact_event(BASE, s, r) for s, r in events],
            [replace(e, path=BULK) for e in base],
            stored(BASE, [replace(e, path=BULK) for e in base]),
        ),
        paths={"seq": "$.sequence"},
    )
    assert v.status is Status.FAIL, v.summary


def test_a_batch_whose_items_cannot_be_told_apart_is_inconclusive_not_passed() -> None:
    # A CSV upload: one call names every event, and no list holds one item per event.
    def csv(tag: str, eff: str, at: float, seqs: Sequence[int]) -> Effect:
        rows = "\n".join(f"con_{tag}k{s},Ada {tag}e{s}" for s in seqs)
        ids = tuple(f"evt_{tag}e{s}" for s in seqs)
        return Effect(
            eff, "crm", at, "POST", "/contacts/import", {}, rows, 200, ids, f"con_{tag}k{seqs[0]}"
        )

    mine = history(
        MINE, four(MINE), [csv(MINE, "eff_1", 1.0, [0, 1, 2]), csv(MINE, "eff_2", 2.0, [3])]
    )
    base = history(
        BASE, four(BASE), [csv(BASE, "eff_1", 1.0, [0, 1]), csv(BASE, "eff_2", 2.0, [2, 3])]
    )
    v = judged(mine, base)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary == (
        "no record could be judged against the baseline run s@zqbbbbb (the last write per "
        "record); 4 records not judged, their state being in what could not be told apart "
        "record by record (4 writes to a route whose calls name events of several records "
        "without a list of one item per event in the body in the two runs): check that each "
        "item of a batch call carries its event's id or its record's key, or a value of its "
        "event (an email, a name), as sent"
    )


def test_items_naming_several_records_are_set_aside_and_said() -> None:
    # Record 3's item also carries a value of record 2's event (a merge): not one record's.
    mine_calls = [
        call(MINE, "eff_1", 1.0, [item(MINE, 0, 0), item(MINE, 1, 1)]),
        call(
            MINE,
            "eff_2",
            2.0,
            [item(MINE, 2, 2), {**item(MINE, 3, 3), "note": f"was Ada {MINE}e2"}],
        ),
    ]
    base_calls = [
        call(BASE, "eff_1", 1.0, [item(BASE, 0, 0), item(BASE, 1, 1), item(BASE, 2, 2)]),
        call(BASE, "eff_2", 2.0, [{**item(BASE, 3, 3), "note": f"was Ada {BASE}e2"}]),
    ]
    v = judged(history(MINE, four(MINE), mine_calls), history(BASE, four(BASE), base_calls))
    assert v.status is Status.PASS, v.summary
    assert v.summary.endswith(
        "; 2 records compared; the writes to POST /contacts/batch/upsert judged by their items, "
        "each element of a call's list the write of the record it names (which events share a "
        "call differs from run to run); 2 records not judged, their state being in what could "
        "not be told apart record by record (2 batch items naming events of several records, "
        "or none in the two runs): check that each item of a batch call carries its event's id "
        "or its record's key, or a value of its event (an email, a name), as sent"
    ), v.summary


def test_a_records_list_of_its_own_events_values_is_its_state_not_a_batch() -> None:
    # A contact holding the names its updates brought (read, append, write back): a list whose
    # elements each name an event, all of one record. A lost update still fails on the list;
    # taken for a batch, its last name alone was compared, and it passed.
    events = [contact_event(t, s, 0) for t in (MINE,) for s in (0, 1, 2)]
    base_events = [contact_event(BASE, s, 0) for s in (0, 1, 2)]

    def put(tag: str, eff: str, at: float, seqs: Sequence[int]) -> Effect:
        body = json.dumps({"names": [f"Ada {tag}e{s}" for s in seqs]})
        ids = tuple(f"evt_{tag}e{s}" for s in seqs)
        return Effect(
            eff, "crm", at, "PUT", f"/contacts/con_{tag}k0", {}, body, 200, ids, f"con_{tag}k0"
        )

    mine = [put(MINE, "eff_1", 1.0, [0]), put(MINE, "eff_2", 2.0, [0, 2])]  # seq 1's name lost
    base = [
        put(BASE, "eff_1", 1.0, [0]),
        put(BASE, "eff_2", 2.0, [0, 1]),
        put(BASE, "eff_3", 3.0, [0, 1, 2]),
    ]
    v = judged(history(MINE, events, mine), history(BASE, base_events, base))
    assert v.status is Status.FAIL, v.summary
    assert v.summary == (
        "1 of 1 record ends in another state than in the baseline run s@zqbbbbb (the last write "
        "per record): 1 differs"
    ), v.summary
