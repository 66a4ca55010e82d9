"""Creations naming only their record, more than the clean twin made: a resource made twice.

A find-or-create sync whose writes carry the record (``attio_id``), never the event: under
redeliveries, or changes of one record racing, a record got two customers where its clean twin
got one. no_duplicate_effects was inconclusive ("some event may have repeated one … nothing
shows which"): whichever event made it, a second ``201 Created`` is a second resource.
"""

from __future__ import annotations

import json
from dataclasses import replace

from harness.core._model import ISSUED_MARK, Effect, Event, Status, Verdict
from harness.history import History, Mark

from .test_duplicates_unattributed import ok, run
from .test_record_attribution import verdict_of

CUSTOMERS = "/customers"


def events(tag: str, records: int = 3) -> list[Event]:
    """Two changes of each record."""
    return [
        Event(f"evt_{tag}e{seq}", f"{tag}k{seq // 2}", seq, "record.updated", 0.0, {})
        for seq in range(records * 2)
    ]


def customer(event: Event, n: int, created: bool, status: int = 201) -> Effect:
    """The sync's write for one delivery: the record's customer created, or updated."""
    at = event.seq + n / 10
    body = json.dumps({"attio_id": event.key, "name": "Ada"})
    method, path = ("POST", CUSTOMERS) if created else ("PATCH", f"{CUSTOMERS}/ds_{event.key}")
    return Effect(
        f"eff_{event.id}_{n}", "billing", at, method, path, {}, body, status if created else 200,
        (), event.key,
    )  # fmt: skip


def sync(tag: str, copies: int, baseline: History | None = None, status: int = 201) -> History:
    """Each change delivered ``copies`` times; every delivery of a record's first change
    creates the customer (the look-up raced), the second change updates it."""
    evs = events(tag)
    deliveries = [ok(e, c) for e in evs for c in range(1, copies + 1)]
    effects = [
        customer(e, c, created=e.seq % 2 == 0, status=status)
        for e in evs
        for c in range(1, copies + 1)
    ]
    return run(evs, deliveries, effects, tag=tag, baseline=baseline)


def dup(h: History) -> Verdict:
    return verdict_of(h, "no_duplicate_effects")


def test_a_record_created_twice_where_its_twin_was_created_once_fails() -> None:
    v = dup(sync("zqrun", 2, baseline=sync("zqclean", 1)))
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "3 records got more resources created by POST /customers than the clean run "
        "storm@zqclean created for the same events, all accepted (record zqrunk0: 2 created, "
        "where its clean twin got 1): a resource made twice, whichever of the record's events "
        "made it"
    ), v.summary
    assert "declare it `merges: ['POST /customers']` on downstream billing" in v.summary
    assert v.evidence.lines[0].startswith("POST /customers eff_evt_zqrune0_1, eff_evt_zqrune0_2")


def test_creations_not_answered_201_stay_inconclusive() -> None:
    """A POST answered 200 may be an upsert (or a search): nothing says it made a resource."""
    v = dup(sync("zqrun", 2, baseline=sync("zqclean", 1, status=200), status=200))
    assert v.status is Status.INCONCLUSIVE, v.summary


def test_a_twin_whose_creations_named_no_record_is_not_counted_short() -> None:
    """The clean run's creation named nothing (its body carried no value of the run): its
    twin's count per record is short, so more here says nothing."""
    clean = sync("zqclean", 1)
    clean.effects = [replace(e, key=None) if e.method == "POST" else e for e in clean.effects]
    v = dup(sync("zqrun", 2, baseline=clean))
    assert v.status is not Status.FAIL, v.summary


def test_as_many_creations_as_the_twin_made_pass() -> None:
    v = dup(sync("zqrun", 1, baseline=sync("zqclean", 1)))
    assert v.status is Status.PASS, v.summary


def committed_then_failed(h: History, status: int) -> History:
    """``h`` with each record's first creation booked by the API and then answered ``status``
    (a proxy's 502 after the commit; 0: the connection dropped): made, its answer lost."""
    firsts = {e.key: e.id for e in reversed(h.effects) if e.method == "POST"}
    h.effects = [
        replace(e, status=status, committed=True) if e.id in firsts.values() else e
        for e in h.effects
    ]
    return h


def test_a_creation_committed_then_failed_and_made_again_fails() -> None:
    """The Standard Webhooks billing sync (tests/gallery/invoice_lines): the invoice booked,
    answered 502, booked again on the redelivery. It was inconclusive: only 201s counted."""
    for status in (502, 0):
        v = dup(committed_then_failed(sync("zqrun", 2, baseline=sync("zqclean", 1)), status))
        assert v.status is Status.FAIL, v.summary
        assert v.summary.startswith(
            "3 records got more resources created by POST /customers than the clean run"
        ), v.summary


def test_creations_that_only_failed_after_the_commit_stay_inconclusive() -> None:
    """No write of the record answered 201: nothing says the route creates (an upsert's
    failure looks alike)."""
    h = sync("zqrun", 2, baseline=sync("zqclean", 1))
    h.effects = [replace(e, status=502, committed=True) if e.method == "POST" else e
                 for e in h.effects]  # fmt: skip
    assert dup(h).status is Status.INCONCLUSIVE, dup(h).summary


def raced(tag: str, creators: int, baseline: History | None = None, keyed: bool = False) -> History:
    """Each record's two changes delivered once; the first ``creators`` of them create the
    customer (the look-up raced), the rest update it, each write naming its event."""
    evs = events(tag)
    effects = []
    for e in evs:
        made = customer(e, 1, created=e.seq % 2 < creators)
        headers = {"Idempotency-Key": e.key} if keyed else {}
        effects.append(replace(made, event_ids=(e.id,), key=None, headers=headers))
    return run(evs, [ok(e, 1) for e in evs], effects, tag=tag, baseline=baseline)


def test_a_records_events_each_creating_once_where_its_twin_created_once_fail() -> None:
    """Both changes of a record made its customer, each once, naming its event: no event
    repeated a write, and it passed; the record holds two customers where its clean twin made
    one — simultaneous events racing a find-or-create."""
    v = dup(raced("zqrun", 2, baseline=raced("zqclean", 1)))
    assert v.status is Status.FAIL, v.summary
    assert "simultaneous events racing a find-or-create" in v.summary, v.summary
    assert "(record zqrunk0: 2 created, where its clean twin got 1)" in v.summary, v.summary
    assert "each naming its event" in v.evidence.lines[0], v.evidence.lines


def test_creations_as_many_as_the_twins_or_one_key_answered_again_pass() -> None:
    """One creation a record, as its clean twin: a pass; two under one Idempotency-Key (the
    API answers the second with the first): one resource, a pass."""
    for h in (raced("zqrun", 1, raced("zqclean", 1)), raced("zqrun", 2, raced("zqclean", 1), True)):
        v = dup(h)
        assert v.status is Status.PASS, v.summary


def test_a_route_declared_merges_or_a_key_declared_ignored_is_taken_at_its_word() -> None:
    """Declared ``merges:`` (the API upserts on that POST), two creations are one resource: a
    pass, as the failure's own advice says; a key its API is declared to ignore does not
    make the second creation the first answered again: a fail (review: both the other way)."""
    merged = raced("zqrun", 2, raced("zqclean", 1))
    settings = {**merged.info.settings, "merges": {"billing": [f"POST {CUSTOMERS}"]}}
    assert dup(replace(merged, info=replace(merged.info, settings=settings))).status is Status.PASS
    keyed = raced("zqrun", 2, raced("zqclean", 1), keyed=True)
    ignored = {"idempotency_key": {"billing": {"ignored": [f"POST {CUSTOMERS}"]}}}
    settings = {**keyed.info.settings, **ignored}
    v = dup(replace(keyed, info=replace(keyed.info, settings=settings)))
    assert v.status is Status.FAIL, v.summary


def deleted_at_last(tag: str, creators: int, baseline: History | None = None) -> History:
    """Each record's three changes delivered once: the first ``creators`` of its first two
    create its customer (the look-up raced; the double marks each id it made up), the rest
    update it, and the third (the record deleted) deletes the customer the look-up found: its
    first."""
    evs = [
        Event(f"evt_{tag}e{s}", f"{tag}k{s // 3}", s, "record.updated", 0.0, {}) for s in range(6)
    ]
    effects, made = [], []
    for e in evs:
        first = f"{CUSTOMERS}/ds_{e.key}_0"
        if e.seq % 3 < creators:
            w = customer(e, 1, created=True)
            made.append(
                Mark(
                    w.at, ISSUED_MARK, json.dumps({"effect": w.id, "id": f"ds_{e.key}_{e.seq % 3}"})
                )
            )
        elif e.seq % 3 == 1:
            w = replace(customer(e, 1, created=False), path=first)
        else:
            w = replace(
                customer(e, 1, created=False), method="DELETE", path=first, body="", status=204
            )
        effects.append(replace(w, event_ids=(e.id,), key=None))
    h = run(evs, [ok(e, 1) for e in evs], effects, tag=tag, baseline=baseline)
    h.marks = made
    return h


def test_a_twin_made_by_a_race_and_left_standing_after_the_records_deletion_fails() -> None:
    """Both first changes created the customer (a race); the record's deletion removed the one
    its look-up found, the other stands, orphaned. Its clean twin created one and deleted it,
    leaving none: compared only as "standing" with the twin's count at least 1, it passed
    (review13); the clean twin did create one, and none stands there."""
    v = dup(deleted_at_last("zqrun", 2, baseline=deleted_at_last("zqclean", 1)))
    assert v.status is Status.FAIL, v.summary
    assert "(record zqrunk0: 1 created and left standing, where its clean twin left 0)" in (
        v.summary
    ), v.summary
    sound = dup(deleted_at_last("zqrun", 1, baseline=deleted_at_last("zqclean", 1)))
    assert sound.status is Status.PASS, sound.summary


def looked_up(
    tag: str, creators: int, retried: int = 0, baseline: History | None = None
) -> History:
    """Each change of a record looks its customer up by the record (``GET``), the second's
    look-up ``retried`` times after a 503 first; the first ``creators`` of a record's two
    changes create it (the look-up raced), the others find it and write nothing."""
    evs = events(tag)
    effects = []
    for e in evs:
        reads = 1 + (retried if e.seq % 2 else 0)
        for r in range(reads):
            status = 503 if r < reads - 1 else 200
            path = f"{CUSTOMERS}?attio_id={e.key}"
            read = Effect(f"eff_{e.id}_get{r}", "billing", e.seq + r / 100, "GET", path, {}, "",
                          status, (), e.key)  # fmt: skip
            effects.append(read)
        if e.seq % 2 < creators:
            effects.append(replace(customer(e, 1, created=True), event_ids=(e.id,), key=None))
    return run(evs, [ok(e, 1) for e in evs], effects, tag=tag, baseline=baseline)


def test_a_race_whose_look_up_was_retried_after_a_503_still_fails() -> None:
    """The clean twin's second change looked the customer up, found it and wrote nothing (alive
    there: as many look-ups as here). Here both changes created it; one look-up answered 503
    and made again counted as one more call than the twin's, and the twin was taken for one
    that lost its event: it passed (review13). A refused call is the same look-up again."""
    for retried in (0, 1):
        v = dup(looked_up("zqrun", 2, retried, baseline=looked_up("zqclean", 1)))
        assert v.status is Status.FAIL, (retried, v.summary)
        assert "(record zqrunk0: 2 created, where its clean twin got 1)" in v.summary, v.summary


def test_a_race_against_a_twin_whose_other_events_made_no_call_is_not_judged() -> None:
    """The clean twin's second change made no call at all (a look-up in the automation's own
    memory found the customer — or a worker killed mid-work lost the change): nothing in the
    journal tells which, so two customers where the twin got one are not judged (it passed:
    taken for a clean run that lost the change). The other records' changes made no call
    either there: no record but one shows a customer made once a record by design (with every
    record's first change making it, the second contact fails: tests/test_mend_j_once.py)."""
    clean = raced("zqclean", 1)
    clean.effects = [e for e in clean.effects if e.method == "POST" and e.id.endswith("e0_1")]
    v = dup(raced("zqrun", 2, clean))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "the twin's other events made no call at all" in v.summary, v.summary
    assert "which the journal cannot tell apart" in v.summary, v.summary
