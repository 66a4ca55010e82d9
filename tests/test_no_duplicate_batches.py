"""no_duplicate_effects on repeated batch calls: a call carrying several events made again is
counted once for each event it carried, and once as a call; the summary says so and names the
``merges:`` that makes a batch upsert's repeat harmless (the Node-RED import run twice,
tests/test_node_red_batches.py, said "40 repeated requests (40 POST)" for 4 calls, and nothing
of what to declare)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from harness.core._model import Status
from harness.history import History

from .test_invariants import delivery, effect, event, history, one

UPSERT = "/contacts/batch/upsert"


def imported_twice(**settings: Any) -> History:
    """Four events upserted two to a call, the import run twice: four calls, two made again."""
    events = [event(n, key=f"cus_{n}") for n in range(1, 5)]
    deliveries = [delivery(f"dlv_{k}{n}", f"evt_{n}", sent=k) for k in (1, 2) for n in range(1, 5)]
    body = '{"inputs": []}'
    effects = [
        effect(f"eff_{k}{pair}", [f"evt_{2 * pair - 1}", f"evt_{2 * pair}"], k + 0.5, path=UPSERT)
        for k in (1, 2)
        for pair in (1, 2)
    ]
    effects = [replace(e, body=body) for e in effects]
    h = history(events, deliveries, effects)
    return replace(h, info=replace(h.info, settings={**h.info.settings, **settings}))


def test_a_repeated_batch_call_is_counted_as_calls_and_names_the_merges_to_declare() -> None:
    v = one(imported_twice(), "no_duplicate_effects")
    assert v.status is Status.FAIL
    assert v.summary.startswith(
        "4 of 4 events produced duplicate effects: 4 repeated requests, one for each event a "
        f"call carried (4 POST): 2 calls made again, 2 of them carrying several events (POST "
        f"{UPSERT}, a batch); if the API upserts a batch's items by a key of theirs, repeating "
        f"one changes nothing: declare `merges: ['POST {UPSERT}']` on its downstream"
    ), v.summary


def test_the_merges_it_names_makes_the_repeat_harmless() -> None:
    v = one(imported_twice(merges={"api": [f"POST {UPSERT}"]}), "no_duplicate_effects")
    assert v.status is Status.PASS, v.summary


def test_repeats_of_one_event_each_are_counted_as_before() -> None:
    events = [event(1)]
    deliveries = [delivery("dlv_1", "evt_1"), delivery("dlv_2", "evt_1", sent=1.0)]
    effects = [effect("eff_1", ["evt_1"], 0.5), effect("eff_2", ["evt_1"], 1.5)]
    v = one(history(events, deliveries, effects), "no_duplicate_effects")
    assert v.summary.startswith(
        "1 of 1 event produced duplicate effects: 1 repeated request (1 POST)"
    ), v.summary
