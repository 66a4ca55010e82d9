"""Effects naming their record but no event, judged over hand-built Histories.

A HubSpot receiver PATCHes ``/crm/v3/objects/contacts/{objectId}``: the objectId is the event's
record key (renumbered per run), and nothing of the event itself is in the request. Such an
effect belongs to a record, not to one of its events. Before, every verdict counted it as
unattributed and said so: "none of the effects could be attributed to an event". Now a verdict
judges per record where that is sound (expected effects, counts against the clean run's for the
same accepted events), and says it needs the event where it does (per_key_order).

And writes naming nothing at all are owed per accepted event: a run that refused some events
and repeated others made as many as its clean run, and was passed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from harness.core._model import Delivery, Effect, Event, Model, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History, RunInfo
from harness.invariants import judge
from harness.invariants._facts import Facts
from harness.report.json import report_dict

from .test_duplicates_unattributed import ev, ok, run, storm, ticket

JSON = {"Content-Type": "application/json"}
CONTACT = "/crm/v3/objects/contacts/"


def contact_events(tag: str, records: int = 3, per: int = 2) -> list[Event]:
    """``per`` property changes of each of ``records`` contacts, record after record."""
    return [
        Event(f"evt_{tag}e{seq}", f"{tag}k{seq // per}", seq, "contact.propertyChange", 0.0, {})
        for seq in range(records * per)
    ]


def patch(event: Event, n: int = 1, method: str = "PATCH") -> Effect:
    """The receiver's write for one delivery of ``event``: its contact, by record key only."""
    at = event.seq + n / 10
    body = json.dumps({"properties": {"lifecyclestage": "customer"}})
    return Effect(
        f"eff_{event.id}_{n}", "crm", at, method, CONTACT + event.key, JSON, body, 200, (),
        event.key,
    )  # fmt: skip


def hubspot(
    tag: str,
    copies: int = 1,
    refused: Sequence[int] = (),
    baseline: History | None = None,
    model: Model = Model.LEDGER,
    per: int = 2,
) -> History:
    """Each event delivered ``copies`` times and PATCHed each time; the events of seq in
    ``refused`` answered 503 and never written; ``per`` events a contact."""
    events = contact_events(tag, per=per)
    deliveries: list[Delivery] = []
    effects: list[Effect] = []
    for e in events:
        for c in range(1, copies + 1):
            if e.seq in refused:
                at = e.seq + c / 10
                deliveries.append(
                    Delivery(f"dlv_{e.id}_{c}", e.id, c, at, at, at + 0.01, 503, Outcome.FAILED)
                )
                continue
            deliveries.append(ok(e, c))
            effects.append(patch(e, c))
    h = run(events, deliveries, effects, tag=tag, baseline=baseline)
    if model is not Model.LEDGER:
        h.info = _with_model(h.info, model)
    return h


def _with_model(info: RunInfo, model: Model) -> RunInfo:
    return replace(info, model=model)


def verdict_of(h: History, name: str) -> Verdict:
    [v] = judge(h, [InvariantSpec(name)])
    return v


# -- no_lost_events: compared per record ---------------------------------------------------------


def test_writes_naming_their_record_are_compared_per_record_not_called_unattributed() -> None:
    """The old verdict: 'none of the 6 effects could be attributed to an event'."""
    h = hubspot("zqrun", baseline=hubspot("zqclean"))
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.PASS, v.summary
    assert "could not be attributed" not in v.summary
    assert (
        "6 effects name only their record (PATCH /crm/v3/objects/contacts/{id} (6); 3 of 3 "
        "records named had several events), not which of its events each was for"
    ) in v.summary


def test_a_record_short_of_its_writes_is_lost_per_record() -> None:
    h = hubspot("zqrun", baseline=hubspot("zqclean"))
    h.effects[:] = [e for e in h.effects if e.key != "zqrunk1"]
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert any("zqrunk1" in line for line in v.evidence.lines), v.evidence.lines


def test_without_a_clean_run_record_writes_say_they_name_no_event() -> None:
    """Any effect per event (the old rule) needs the event: inconclusive, and why — true. The
    PATCHes carry a constant, nothing of their events: what judges them per record is said, not
    a rule that no value could match (it was)."""
    v = verdict_of(hubspot("zqrun"), "no_lost_events")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "none of the 6 effects names an event: 6 effects name only their record (PATCH "
        "/crm/v3/objects/contacts/{id} (6); 3 of 3 records named had several events), which "
        "does not tell which of its events each was for; no value in the bodies of PATCH "
        "/crm/v3/objects/contacts/{id} ($.properties) is one that tells its record's events "
        "apart — derived (a balance, a sum) or the same for all of them — so no correlate: rule "
        "can name their event: with a clean run (`harness run` drives one unless --no-baseline) "
        "or the expected effects declared (`expect:`, docs/invariants.md), this verdict compares "
        "each record's writes with what its events owe, per record"
    ), v.summary
    assert v.evidence.lines[0].endswith(": its record named, no event"), v.evidence.lines


# -- no_duplicate_effects: counted per record against the clean run ------------------------------


def test_record_writes_no_more_than_the_clean_run_made_pass_per_record() -> None:
    h = hubspot("zqrun", baseline=hubspot("zqclean"))
    v = verdict_of(h, "no_duplicate_effects")
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith(
        "no write names an event; PATCH /crm/v3/objects/contacts/{id} naming no event compared "
        "per record (3 records) with the clean run storm@zqclean: each no more than it made for "
        "the record's accepted events; 6 effects name only their record (PATCH "
        "/crm/v3/objects/contacts/{id} (6); 3 of 3 records named had several events), not "
        "which of its events each was for"
    ), v.summary


def test_record_writes_redelivered_are_inconclusive_saying_they_name_their_record() -> None:
    """Each event twice: every record got 4 PATCHes where its clean twin got 2. Duplicates of
    one event, or two events of the record each writing twice? Only the record is named."""
    h = hubspot("zqrun", copies=2, baseline=hubspot("zqclean"))
    v = verdict_of(h, "no_duplicate_effects")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "not judged: 3 records got more PATCH /crm/v3/objects/contacts/{id} than the clean run "
        "storm@zqclean made for the record's accepted events (record zqrunk0: 4, where its "
        "clean twin got 2, the same 2 events, all accepted); those writes name their record, "
        "not their event: some event may have repeated one"
    ), v.summary
    assert v.evidence.lines[0].startswith("PATCH /crm/v3/objects/contacts/zqrunk"), v.evidence
    assert "4 writes of record zqrunk" in v.evidence.lines[0], v.evidence.lines


def test_a_record_that_refused_one_event_and_repeated_the_other_is_not_passed() -> None:
    """Record k0's two events: the first refused (nothing written), the second written twice.
    As many PATCHes as its clean twin, but owed for one accepted event, not two."""
    h = hubspot("zqrun", baseline=hubspot("zqclean"))
    first, second = h.events[0], h.events[1]
    h.deliveries[:] = [
        Delivery("dlv_x", first.id, 1, 0.1, 0.1, 0.11, 503, Outcome.FAILED),
        *[d for d in h.deliveries if d.event_id != first.id],
        ok(second, 2),
    ]
    h.effects[:] = [e for e in h.effects if e.id != f"eff_{first.id}_1"] + [patch(second, 2)]
    v = verdict_of(h, "no_duplicate_effects")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "(record zqrunk0: 2, where its clean twin got 2, 2 events accepted there, 1 of 2 " \
        "here)" in v.summary  # fmt: skip


@pytest.mark.parametrize("copies", [1, 2])
def test_records_the_clean_run_never_saw_are_counted_in_the_whole_run(copies: int) -> None:
    """A year's month against one small clean run: records without a twin owe what the clean
    run made per accepted event, in all — not nothing (every one inconclusive), nor the clean
    run's whole count each (a pass whatever they made)."""
    clean = hubspot("zqclean")
    clean.events[:] = clean.events[:2]  # its one record, k0
    clean.deliveries[:] = [
        d for d in clean.deliveries if d.event_id in {e.id for e in clean.events}
    ]
    clean.effects[:] = [e for e in clean.effects if e.key == "zqcleank0"]
    v = verdict_of(hubspot("zqrun", copies=copies, baseline=clean), "no_duplicate_effects")
    if copies == 1:
        assert v.status is Status.PASS, v.summary
        return
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "not judged: this run made 12 PATCH /crm/v3/objects/contacts/{id}, 12 of them naming no "
        "event, where its clean run made 2 (storm@zqclean, 2 events accepted there, 6 of 6 here)"
    ), v.summary


def test_without_a_clean_run_record_writes_a_repeat_would_harm_are_not_passed() -> None:
    v = verdict_of(hubspot("zqrun", copies=2), "no_duplicate_effects")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith("none of the 12 effects names an event: 12 effects name only")


def test_record_writes_that_merge_are_harmless_to_repeat() -> None:
    """Declared ``merges:``, the PATCHes are harmless to repeat: nothing to count."""
    h = hubspot("zqrun", copies=2)
    h.info = _declared(h.info, {"merges": {"crm": ["PATCH /crm/v3/objects/contacts/{id}"]}})
    v = verdict_of(h, "no_duplicate_effects")
    assert v.status is Status.PASS, v.summary


def _declared(info: RunInfo, more: dict[str, Any]) -> RunInfo:
    return replace(info, settings={**info.settings, **more})


# -- per_key_order: needs the event --------------------------------------------------------------


def test_per_key_order_says_record_writes_name_no_event() -> None:
    h = hubspot("zqrun", baseline=hubspot("zqclean"), model=Model.REGISTER)
    v = verdict_of(h, "per_key_order")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith("none of the 6 effects names an event: 6 effects name only")
    assert "could not be attributed" not in v.summary


def test_record_writes_of_single_event_records_are_taken_as_their_event() -> None:
    """Each record has one event, sent before its write: the write is that event's (it was
    'none of the 3 effects names an event … each of the 3 records named had a single event')."""
    v = verdict_of(hubspot("zqrun", per=1, model=Model.REGISTER), "per_key_order")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "each of the 3 records got effects of a single event; there was no order to keep; 3 "
        "effects naming only their record were taken as its single event's (PATCH "
        "/crm/v3/objects/contacts/{id} (3): the record had a single event in the run, sent "
        "before them)"
    ), v.summary


# -- writes naming nothing: owed per accepted event ----------------------------------------------


@pytest.mark.parametrize("refused", [(), (0,)])
def test_unnamed_writes_are_owed_per_accepted_event(refused: tuple[int, ...]) -> None:
    """Six events: the clean run made six activity lines. A run that refused three events and
    handled the other three twice made six too: the same count, where three were owed."""
    clean = storm(1, n=6).baseline
    assert clean is not None
    events = [ev("zqrun", i) for i in range(6)]
    gone = set(range(3)) if refused else set()
    deliveries = [
        Delivery(f"dlv_{e.id}", e.id, 1, e.seq, e.seq, e.seq + 0.01, 503, Outcome.FAILED)
        if e.seq in gone
        else ok(e)
        for e in events
    ]
    copies = 2 if refused else 1
    effects = [w for e in events if e.seq not in gone for c in range(1, copies + 1)
               for w in ticket(e, c)]  # fmt: skip
    v = verdict_of(run(events, deliveries, effects, tag="zqrun", baseline=clean),
                   "no_duplicate_effects")  # fmt: skip
    if not refused:
        assert v.status is Status.PASS, v.summary
        return
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "where its clean run made 6 (storm@zqclean, 6 events accepted there, 3 of 6 here)" \
        in v.summary  # fmt: skip


# -- a repeat hidden by a loss in the same record ------------------------------------------------


def _emails(h: History) -> History:
    """Each event's PATCH sets its own value (the record's email, changed per event)."""
    seq = {f"eff_{e.id}_": e.seq for e in h.events}
    for i, w in enumerate(h.effects):
        n = next(s for prefix, s in seq.items() if w.id.startswith(prefix))
        body = json.dumps({"properties": {"email": f"v{n}@example.com"}})
        h.effects[i] = replace(w, body=body)
    return h


def _one_repeated_one_lost(h: History) -> History:
    """Record k0: its first event delivered twice and PATCHed each time, its second accepted
    and never written — as many PATCHes of the record as its clean twin got."""
    first, second = h.events[0], h.events[1]
    h.deliveries.append(ok(first, 2))
    h.effects[:] = [e for e in h.effects if e.id != f"eff_{second.id}_1"]
    h.effects.append(replace(h.effects[0], id=f"eff_{first.id}_2", at=first.seq + 0.5))
    h.effects.sort(key=lambda e: e.at)
    return h


def test_a_record_with_one_event_repeated_and_one_lost_is_not_passed() -> None:
    """The count per record cannot tell one event written twice and another not at all from
    each written once; the bodies can: the clean twin wrote two values, this run one of them
    twice. Both PASSed ('each no more than it made for the record's accepted events')."""
    h = _one_repeated_one_lost(_emails(hubspot("zqrun", baseline=_emails(hubspot("zqclean")))))
    v = verdict_of(h, "no_duplicate_effects")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert (
        "record zqrunk0: 2 PATCH /crm/v3/objects/contacts/{id} with 1 body between them, where "
        "its clean twin's 2 had 2"
    ) in v.summary, v.summary
    assert v.evidence.lines == (
        "PATCH /crm/v3/objects/contacts/zqrunk0 eff_evt_zqrune0_1, eff_evt_zqrune0_2: 2 writes "
        "of record zqrunk0, naming no event (1 different, its clean twin: 2, 2 different)",
    )
    lost = verdict_of(h, "no_lost_events")
    assert lost.status is Status.INCONCLUSIVE, lost.summary
    assert lost.summary.startswith(
        "not judged: 1 record got as many writes as owed, but fewer different ones than the "
        "clean run's twin (record zqrunk0: 2 PATCH /crm/v3/objects/contacts/{id} with 1 body "
        "between them, where its clean twin's 2 had 2)"
    ), lost.summary


def test_a_record_whose_events_were_all_redelivered_still_passes_no_lost_events() -> None:
    """Every event written twice: repeats, but every value the clean twin wrote is there."""
    h = _emails(hubspot("zqrun", copies=2, baseline=_emails(hubspot("zqclean"))))
    assert verdict_of(h, "no_lost_events").status is Status.PASS


def test_a_record_whose_clean_twin_repeated_its_body_too_still_passes() -> None:
    """Two events of a record setting the same value: the clean twin's writes repeat a body
    as this run's do — no sign of a repeat."""
    h = hubspot("zqrun", baseline=hubspot("zqclean"))
    assert verdict_of(h, "no_duplicate_effects").status is Status.PASS
    assert verdict_of(h, "no_lost_events").status is Status.PASS


def test_an_index_of_effects_naming_no_record_does_not_gather_the_runs_record_keys() -> None:
    """The judge's hot path: a set of every event's record key, built for each run, cost
    ``_index`` about a sixth more on a run whose effects name their event or nothing at all
    (benchmarks/bench_judge.py's History, 200,000 events: about 0.34 -> 0.40 CPU-s). Gathered
    only when some effect naming no event names a record."""
    h = storm(1)  # tickets naming their event, activity lines naming nothing
    facts = Facts(h)
    assert facts.attributed_writes == 3 and facts.unattributed == 3
    assert "records" not in facts.__dict__
    facts = Facts(hubspot("zqrun"))
    assert len(facts.record_only) == 6 and facts.unattributed == 0


def test_a_record_put_twice_where_its_clean_twin_put_and_patched_it_is_not_passed() -> None:
    """Record k0's first event PUTs the contact, its second PATCHes it (an upsert). Here the
    first was written twice and the second never: as many writes of the record as its clean
    twin's, the resource written either way (same_resource), and one PUT body where the twin
    had a PUT's and a PATCH's."""

    def upserting(h: History) -> History:
        firsts = {f"eff_{e.id}_" for e in h.events if e.seq % 2 == 0}
        h.effects[:] = [
            replace(w, method="PUT") if any(w.id.startswith(f) for f in firsts) else w
            for w in h.effects
        ]
        return h

    clean = upserting(_emails(hubspot("zqclean")))
    h = _one_repeated_one_lost(upserting(_emails(hubspot("zqrun", baseline=clean))))
    assert [w.method for w in h.effects if w.key == "zqrunk0"] == ["PUT", "PUT"]
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert (
        "record zqrunk0: 2 PUT /crm/v3/objects/contacts/{id} with 1 body between them, where its "
        "clean twin's 2 had 2"
    ) in v.summary, v.summary


def test_the_correlate_advice_names_a_written_route_not_the_record_read_first() -> None:
    """A fetch-on-receipt sync reads each record before it writes it (Attio sends ids only):
    the reads outnumber the writes, and the advice named the read's route, which orders
    nothing."""
    h = hubspot("zqrun", baseline=hubspot("zqclean"), model=Model.REGISTER)
    reads = [
        replace(w, id=f"{w.id}_read{n}", method="GET", body="", status=200, at=w.at - 0.01)
        for w in h.effects
        for n in (1, 2)
    ]
    h.effects = sorted([*reads, *h.effects], key=lambda e: e.at)
    v = verdict_of(h, "per_key_order")
    assert v.status is Status.INCONCLUSIVE, v.summary
    # The written route named (its bodies carry nothing of the events: no rule can name them).
    assert "no value in the bodies of PATCH /crm/v3/objects/contacts/{id} " in v.summary, v.summary
    assert "GET /crm" not in v.summary.partition("which does not tell")[2], v.summary


# -- no_lost_events: a record's creations, where the clean twin's creation named its event ------


def customers(tag: str, writes: Sequence[tuple[int, str, bool]]) -> History:
    """Three changes of one customer record, each accepted once; ``writes``: (the event's seq,
    its method, whether the write names the event) — a POST creates the customer, a PATCH
    updates it, and a write not naming its event names its record only."""
    events = [
        Event(f"evt_{tag}e{seq}", f"{tag}k0", seq, "record.updated", 0.0, {}) for seq in range(3)
    ]
    effects = []
    for n, (seq, method, named) in enumerate(writes):
        event = events[seq]
        path = "/customers" if method == "POST" else "/customers/cus_1"
        body = json.dumps({"attio_id": event.key})
        names = (event.id,) if named else ()
        at = seq + n / 10
        made = Effect(f"eff_{tag}_{n}", "billing", at, method, path, JSON, body, 200, names)
        effects.append(replace(made, key=event.key))
    return run(events, [ok(e) for e in events], effects, tag=tag)


def test_a_creation_owed_by_its_event_is_not_counted_again_as_the_record_created_anew() -> None:
    """The clean run created the customer for the first change (its POST names the event: the
    body carries its values) and updated it for the two others (the PATCHes name the record
    only): 3 writes. This run created it for the first change, created it again for the
    second (a race) and never wrote the third: 2 writes for 3 changes. The record's creations
    (2) were set against the creations its clean twin made per record (0, the clean POST
    counted per event) — "as many writes of the item in all" (2 against the 2 PATCHes), so the
    record was called created anew (inconclusive); the twin wrote the item 3 times, this run
    twice: one change's write is lost. Where it did write each change, the twin's creation is
    said (it made 1, not 0)."""
    clean = customers("zqclean", [(0, "POST", True), (1, "PATCH", False), (2, "PATCH", False)])
    h = customers("zqrun", [(0, "POST", True), (1, "POST", False)])
    h.baseline = clean
    h.info = replace(h.info, settings={**h.info.settings, "baseline": clean.info.run_id})
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert "creating it anew" not in v.summary, v.summary
    assert "1 record short of PATCH /customers/{id}" in v.summary, v.summary
    # As many writes as the twin, one more creation: created anew, as before.
    h = customers("zqrun", [(0, "POST", True), (1, "POST", False), (2, "POST", False)])
    h.baseline = clean
    h.info = replace(h.info, settings={**h.info.settings, "baseline": clean.info.run_id})
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert (
        "record zqrunk0: 3 POST /customers and 0 other writes of the item, where its clean twin "
        "made 1 and 2" in v.summary
    ), v.summary


def test_the_correlate_advice_names_a_write_naming_nothing_not_a_read_naming_a_record() -> None:
    """The records fetched name their record (its id in the path); the deals written carry
    nothing of the event. The advice named the read's route — a rule on it orders nothing —
    because it looked for a write among the routes naming a record only."""
    h = hubspot("zqrun")
    reads = [
        replace(w, id=f"{w.id}_read", method="GET", body="", status=200, at=w.at - 0.01)
        for w in h.effects
    ]
    writes = [replace(w, method="POST", path="/crm/v3/objects/deals", key=None) for w in h.effects]
    h.effects = sorted([*reads, *writes], key=lambda e: e.at)
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "add a correlate: rule mapping a field of POST /crm/v3/objects/deals " in v.summary, (
        v.summary
    )


def test_a_register_record_whose_later_changes_were_refused_is_not_lost_for_their_writes() -> None:
    """A register (each record owes its latest accepted event's effects): the clean twin
    created the customer and updated it twice, its writes naming the record only. Here the
    two updates were refused (never accepted) and the first change created the customer —
    all it owed — yet the record was failed "short of PATCH /customers/{id}": the twin's
    PATCHes were the refused changes'. Which of the twin's writes the latest accepted event
    made is not known: inconclusive, saying why. A record that got no write at all is
    still lost."""
    clean = customers("zqclean", [(0, "POST", False), (1, "PATCH", False), (2, "PATCH", False)])

    def register(writes: Sequence[tuple[int, str, bool]]) -> History:
        h = customers("zqrun", writes)
        h.baseline = clean
        settings = {**h.info.settings, "baseline": clean.info.run_id}
        h.info = replace(h.info, model=Model.REGISTER, settings=settings)
        h.deliveries = [
            replace(d, status=503, outcome=Outcome.FAILED) if not d.event_id.endswith("e0") else d
            for d in h.deliveries
        ]
        return h

    v = verdict_of(register([(0, "POST", False)]), "no_lost_events")
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith(
        "not judged: 1 record got no PATCH /customers/{id} where their clean twin made some, "
        "but other writes it made, and not all their events were accepted (record zqrunk0: 0 "
        "PATCH /customers/{id} where its clean twin made some; not all of its 3 events "
        "accepted): each owes only its latest accepted event's effects"
    ), v.summary
    v = verdict_of(register([]), "no_lost_events")
    assert v.status is Status.FAIL, v.summary


# -- the report: writes naming their record are counted apart -----------------------------------


def test_the_report_counts_writes_naming_only_their_record_apart_from_unattributed() -> None:
    """The report counted every effect naming no event as unattributed, those naming their
    record too, which the verdicts judge per record: "6 unattributed effects" for a run whose
    every write named its contact, and the advice to add a correlate: rule for them."""
    h = hubspot("zqrun", baseline=hubspot("zqclean"))
    h.effects.append(replace(patch(h.events[0], 9), id="eff_audit", path="/audit", key=None))
    doc = report_dict([(h, judge(h))])
    counts = doc["runs"][0]["counts"]
    assert counts["unattributed_effects"] == 1, counts
    assert counts["effects_naming_only_their_record"] == 6, counts
    advice = {a["key"]: a for a in doc["handoff"]["advice"]}
    assert "PATCH /audit (1)" in advice["unattributed"]["seen_in"][0], advice["unattributed"]
    [where] = advice["record_only"]["seen_in"]
    assert "PATCH /crm/v3/objects/contacts/{id} (6)" in where, where
    assert advice["record_only"]["title"] == "Effects that named only their record"


# -- the whole-run count: a repeat in one record cannot stand for a loss in another --------------


def _by_address(h: History) -> History:
    """The first event's contact written by its email address: a write of the same resource
    naming no record, so the run's writes of it are counted in the whole run."""
    first = h.effects[0]
    h.effects[0] = replace(first, path=CONTACT + "ada@example.com", key=None)
    return h


def _repeated_here_lost_there(h: History) -> History:
    """Record k1's first event PATCHed twice (redelivered, not deduplicated); record k2's
    second event accepted and never written: as many writes in all as the clean run made."""
    repeated, lost = h.events[2], h.events[5]
    h.deliveries.append(ok(repeated, 2))
    h.effects[:] = [e for e in h.effects if e.id != f"eff_{lost.id}_1"]
    h.effects.append(patch(repeated, 2))
    h.effects.sort(key=lambda e: e.at)
    return h


def test_a_whole_run_count_does_not_pass_a_repeat_cancelling_a_loss() -> None:
    """Counted in the whole run (one write names no record), 6 PATCHes where the clean run made
    6: both passed, though record k1 got 3 (its twin 2), and records k0 and k2 1 each (their
    twins 2) — the one write naming no record can make up one of them, not both."""
    h = _repeated_here_lost_there(_by_address(hubspot("zqrun", baseline=hubspot("zqclean"))))
    lost = verdict_of(h, "no_lost_events")
    assert lost.status is Status.INCONCLUSIVE and lost.summary.startswith(
        "not judged: PATCH /crm/v3/objects/contacts/{id} was compared in the whole run (1 "
        "write of it names no record), and its count there held, but 2 records got fewer than "
        "they need (record zqrunk0: 1, where it needs 2) by more than the writes naming no "
        "record could make up: other records' writes beyond their own (a repeat) made up the "
        "count"
    ), lost.summary
    assert [line.split(":")[0] for line in lost.evidence.lines] == [
        "record zqrunk0",
        "record zqrunk2",
    ]
    dup = verdict_of(h, "no_duplicate_effects")
    assert dup.status is Status.INCONCLUSIVE, dup.summary
    assert "record zqrunk1: 3, where its clean twin got 2" in dup.summary, dup.summary
    assert "counted in the whole run, where a repeat in one record" in dup.summary, dup.summary


def test_a_whole_run_count_still_passes_writes_naming_no_record_making_up_a_record() -> None:
    """The contact written by its address is record k0's: k0 is short by the writes naming
    it, and the one naming no record makes it up. No record got more than its twin: pass."""
    h = _by_address(hubspot("zqrun", baseline=hubspot("zqclean")))
    assert verdict_of(h, "no_lost_events").status is Status.PASS
    assert verdict_of(h, "no_duplicate_effects").status is Status.PASS


# -- records the clean run never saw ---------------------------------------------------------


def _clean_of_first_record(tag: str) -> History:
    """The clean run of one record only, as a year's month's may be: the run's other records
    have no twin there."""
    clean = hubspot(tag)
    first = clean.events[0].key
    clean.events = [e for e in clean.events if e.key == first]
    ids = {e.id for e in clean.events}
    clean.deliveries = [d for d in clean.deliveries if d.event_id in ids]
    clean.effects = [w for w in clean.effects if w.key == first]
    return clean


def test_a_record_the_clean_run_never_saw_that_lost_every_write_is_lost() -> None:
    """It owed nothing: the clean run's writes were compared per record, and only for the
    records it had twins of — a record of this run it never saw passed with no write at all."""
    h = hubspot("zqrun", baseline=_clean_of_first_record("zqclean"))
    lost = h.events[-1].key
    h.effects = [w for w in h.effects if w.key != lost]
    v = verdict_of(h, "no_lost_events")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("1 record short of PATCH /crm/v3/objects/contacts/{id}")
    assert v.evidence.lines[0].startswith(
        f"record {lost}: the clean run had no record like it (no twin of its 2 events), and "
        "every record of it got PATCH /crm/v3/objects/contacts/{id}; this run made none for it"
    ), v.evidence.lines


def test_records_the_clean_run_never_saw_that_were_written_pass() -> None:
    v = verdict_of(hubspot("zqrun", baseline=_clean_of_first_record("zqclean")), "no_lost_events")
    assert v.status is Status.PASS, v.summary
