"""A resource written by another method than the clean run's (an upsert that PATCHes a record it
finds and PUTs one it does not, or whichever won a race) is the effect made another way: not
lost, and said (invariants/_expected.py, ``same_resource``). And a loss settling gave up on is
told to raise the settle quiet only when the target may still have been working on it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from harness.core._model import Effect, Event, Fault, Model, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge

from .test_expected import _settled, checkout_pair, clean_run, ev, lost, ok, refused, run, write

UPDATED = "contact.updated"
ANOTHER_WAY = (
    "PUT /contacts/{id} made where the clean run made PATCH /contacts/{id} (1 event): the same "
    "resource written another way (an upsert that chose by whether it existed, or a race), "
    "not loss"
)


def contacts(tag: str, n: int) -> list[Event]:
    """``n`` updates of one contact."""
    return [ev(tag, i, UPDATED, key=f"con_{tag}k1") for i in range(1, n + 1)]


def upsert(method: str, event: Event, at: float = 0.005) -> Effect:
    """The contact's write for ``event``: its PUT (created) or its PATCH (merged)."""
    return write(
        f"/contacts/{event.key}",
        [event],
        method=method,
        at=at,
        status=201 if method == "PUT" else 200,
    )


def judged(effects: Sequence[Effect], events: Sequence[Event], clean: History) -> Verdict:
    return lost(
        run(
            events,
            [ok(e) for e in events],
            effects,
            tag="zqrun",
            baseline=clean,
            model=clean.info.model,
        )
    )


def test_the_newest_update_put_where_its_clean_twin_patched_is_not_lost() -> None:
    """The clean run PUT the contact for its first update and PATCHed it for the second; here
    the second arrived first, found nothing and PUT it. Register: the newest update is owed,
    and it wrote the contact — it was called lost ('never PATCH /contacts/{id}')."""
    twins = contacts("zqclean", 2)
    clean = clean_run(
        twins, [upsert("PUT", twins[0]), upsert("PATCH", twins[1])], model=Model.REGISTER
    )
    events = contacts("zqrun", 2)
    v = judged([upsert("PUT", events[1]), upsert("PATCH", events[0])], events, clean)
    assert v.status is Status.PASS, v.summary
    assert ANOTHER_WAY in v.summary


def test_every_event_of_a_ledger_may_write_its_resource_either_way() -> None:
    twins = contacts("zqclean", 3)
    clean = clean_run(twins, [upsert("PUT", twins[0]), *(upsert("PATCH", e) for e in twins[1:])])
    events = contacts("zqrun", 3)
    swapped = [upsert("PATCH", events[0]), upsert("PUT", events[1]), upsert("PATCH", events[2])]
    v = judged(swapped, events, clean)
    assert v.status is Status.PASS, v.summary
    assert (
        "PATCH /contacts/{id} made where the clean run made PUT /contacts/{id} (1 event); "
        "PUT /contacts/{id} made where the clean run made PATCH /contacts/{id} (1 event): the "
        "same resource written another way"
    ) in v.summary


def test_a_create_in_the_collection_or_a_delete_is_not_the_item_written() -> None:
    """Only a PUT, PATCH or POST of the same item stands for another: a POST to the
    collection makes a new resource, a DELETE removes one; nor does one write stand for two.
    (A creation stands for an update only where the event that created the item in the clean
    run made no creation here: below.)"""
    twins = contacts("zqclean", 1)
    clean = clean_run(twins, [upsert("PATCH", twins[0])])
    events = contacts("zqrun", 1)
    for other in (
        write("/contacts", events, at=0.005),
        write(f"/contacts/{events[0].key}", events, method="DELETE", at=0.005, status=204),
    ):
        v = judged([other], events, clean)
        assert v.status is Status.FAIL, v.summary
        assert "missing PATCH /contacts/{id}" in v.summary, v.summary
    both = clean_run(twins, [upsert("PATCH", twins[0]), upsert("PUT", twins[0])])
    v = judged([upsert("PUT", events[0])], events, both)
    assert v.status is Status.FAIL, v.summary
    assert "missing PATCH /contacts/{id} for 1" in v.summary, v.summary


def test_one_method_made_twice_is_not_the_other_its_clean_twin_also_made() -> None:
    """The clean twin PATCHed the contact and PUT it: two operations of the event. This run PUT
    it twice and never PATCHed it (a retried PUT, the PATCH dropped): one of them repeated, the
    other lost, and the repeated PUT is harmless to no_duplicate_effects. It was passed, 'the
    same resource written another way'."""
    twins = contacts("zqclean", 1)
    both = clean_run(twins, [upsert("PATCH", twins[0]), upsert("PUT", twins[0])])
    events = contacts("zqrun", 1)
    v = judged([upsert("PUT", events[0])] * 2, events, both)
    assert v.status is Status.FAIL, v.summary
    assert "missing PATCH /contacts/{id} for 1" in v.summary, v.summary
    assert "another way" not in v.summary, v.summary
    assert judged([upsert("PATCH", events[0]), upsert("PUT", events[0])], events, both).passed


def test_the_settle_advice_only_where_the_target_may_still_have_worked() -> None:
    """Settling gave up with a deal missing. Its contact was written before the delivery was
    answered (inline work: the target had finished with the event): a longer settle shows
    nothing more, and the failure does not ask for one. Written after the answer (a queue's
    work), it may: the advice stays."""
    twins = [ev("zqclean", 1)]
    clean = clean_run(twins, [write("/contacts", twins), write("/deals", twins)])
    events = [ev("zqrun", 1)]
    advice = "raise the settle quiet"
    for at, advised in ((0.005, False), (0.5, True)):
        h = run(
            events,
            [ok(events[0])],
            [write("/contacts", events, at=at)],
            tag="zqrun",
            baseline=clean,
        )
        v = lost(_settled(h, "pending", 2.0))
        assert v.status is Status.FAIL, v.summary
        assert (advice in v.summary) is advised, v.summary


def test_per_record_too_the_resource_counts_whichever_method_wrote_it() -> None:
    """Contact writes naming only their record (a numeric CRM id, no event's value), beside a
    deal per event naming it: the contact compared per record. The clean run PUT the contact
    once and PATCHed it once; this run PATCHed it twice (its first PATCH found the contact,
    created by an earlier run of the sync) — the contact written twice, as owed. Once is
    short: 1 where 2 were expected."""
    twins = contacts("zqclean", 2)
    key = twins[0].key
    contact = [
        write(f"/contacts/{key}", key=key, method=m, at=0.005, status=200) for m in ("PUT", "PATCH")
    ]
    clean = clean_run(twins, [*contact, *(write("/deals", [e], at=0.005) for e in twins)])
    events = contacts("zqrun", 2)
    mine = events[0].key
    deals = [write("/deals", [e], at=0.005) for e in events]

    def patched(times: int) -> Verdict:
        contact = [
            write(f"/contacts/{mine}", key=mine, method="PATCH", at=0.005, status=200)
            for _ in range(times)
        ]
        return judged([*contact, *deals], events, clean)

    v = patched(2)
    assert v.status is Status.PASS, v.summary
    v = patched(1)
    assert v.status is Status.FAIL, v.summary
    assert "short of PUT/PATCH /contacts/{id} (per record)" in v.summary, v.summary
    assert (
        "the clean run made 2 PUT/PATCH /contacts/{id} for its 2 events; this run made 1 ("
        in (v.evidence.lines[0])
    ), v.evidence.lines


def test_an_event_accepted_in_an_outage_and_put_where_its_twin_patched_recovered() -> None:
    """recovers_after_outage read the clean twin's method alone: a contact accepted while the
    CRM failed, PUT once it was back where the clean run PATCHed it, 'made PUT … but no PATCH
    /contacts/{id}' — failed (found on a HubSpot sync that PUTs a member its PATCH did not
    find, under slow-downstream). A twin that wrote the item by two methods still owes both."""
    twins = contacts("zqclean", 1)
    events = contacts("zqrun", 1)
    refused = write(f"/contacts/{events[0].key}", events, method="PATCH", at=1.5, status=503)

    def recovers(clean: History, effects: Sequence[Effect]) -> Verdict:
        h = run(events, [ok(events[0], at=1.2)], effects, tag="zqrun", baseline=clean)
        outage = Fault("crm", "status", 1.0, 3.0, {"status": 503})
        [v] = judge(replace(h, faults=[outage]), [InvariantSpec("recovers_after_outage")])
        return v

    patched = clean_run(twins, [upsert("PATCH", twins[0])])
    v = recovers(patched, [refused, upsert("PUT", events[0], at=3.5)])
    assert v.status is Status.PASS, v.summary
    both = clean_run(twins, [upsert("PUT", twins[0]), upsert("PATCH", twins[0], at=0.006)])
    v = recovers(both, [refused, upsert("PUT", events[0], at=3.5)])
    assert v.status is Status.FAIL, v.summary


OPENED, EDITED = "issues.opened", "issues.edited"
STOOD = (
    "POST /tickets made where the clean run made PATCH /tickets/{id} (1 event): the item "
    "created by a later event of its record, after the event that created it in the clean run "
    "was refused: counted as written (no record got more creations than its clean twin)"
)


def issue(tag: str) -> list[Event]:
    """An issue opened, then edited."""
    return [ev(tag, 1, OPENED, key=f"iss_{tag}k1"), ev(tag, 2, EDITED, key=f"iss_{tag}k1")]


def ticket(event: Event, method: str = "POST", status: int = 201, at: float = 0.005) -> Effect:
    """The issue's ticket written for ``event``: created (``POST /tickets``) or updated."""
    path = "/tickets" if method == "POST" else "/tickets/ds_1"
    return write(path, [event], method=method, at=at, status=status, downstream="tracker")


def tickets_clean(model: Model) -> History:
    """The clean run: the opening created the ticket, the edit updated it."""
    twins = issue("zqclean")
    return clean_run(twins, [ticket(twins[0]), ticket(twins[1], "PATCH", 200)], model=model)


def opened_refused(effects: Sequence[Effect], clean: History) -> Verdict:
    """The opening refused (the tracker down: its POST answered 503, the sender never
    redelivered), the edit accepted, having made ``effects``."""
    events = issue("zqrun")
    refusal = ticket(events[0], status=503)
    deliveries = [refused(events[0]), ok(events[1], at=1.0)]
    h = run(
        events, deliveries, [refusal, *effects], tag="zqrun", baseline=clean, model=clean.info.model
    )
    # The tracker was down while the opening was in flight (issue_tickets under
    # downstream-outage): its refusal is recovers_after_outage's, not a refusal unseen.
    down = Fault("tracker", "status", 0.0, 0.5, {"status": 503})
    return lost(replace(h, faults=[down]))


def test_a_ticket_created_by_the_edit_after_the_opening_was_refused_is_the_edit_written() -> None:
    """The first event of an issue the sync sees creates its ticket, whichever it is: the
    opening refused, the edit created it with the issue's latest state. Its clean twin PATCHed
    (the opening had created the ticket there): it was failed, 'missing PATCH /tickets/{id}'
    (issue_tickets under downstream-outage)."""
    for model in (Model.REGISTER, Model.LEDGER):
        clean = tickets_clean(model)
        edit = issue("zqrun")[1]
        v = opened_refused([ticket(edit)], clean)
        assert v.status is Status.PASS, (model, v.summary)
        assert STOOD in v.summary, v.summary


def test_no_creation_a_failed_one_or_a_second_one_does_not_stand_for_the_update() -> None:
    """The rule stands a creation for an update only where it is the record's one creation,
    made: the edit that made nothing, or whose creation was refused or committed and then
    answered 502 (the sync was told it failed), lost its write; a record whose opening created
    the ticket and whose edit created another holds a duplicate, not an update."""
    clean = tickets_clean(Model.REGISTER)
    edit = issue("zqrun")[1]
    for made in (
        [],
        [ticket(edit, status=503)],
        [replace(ticket(edit, status=502), committed=True)],
    ):
        v = opened_refused(made, clean)
        assert v.status is Status.FAIL, v.summary
        assert "missing PATCH /tickets/{id} for 1" in v.summary, v.summary
    events = issue("zqrun")
    h = run(
        events,
        [ok(e) for e in events],
        [ticket(events[0]), ticket(events[1], at=0.5)],
        tag="zqrun",
        baseline=clean,
        model=Model.REGISTER,
    )
    v = lost(h)
    assert v.status is Status.FAIL, v.summary
    assert "missing PATCH /tickets/{id} for 1" in v.summary, v.summary


def test_an_edit_that_created_the_ticket_ahead_of_its_racing_opening_is_not_lost() -> None:
    """simultaneous-same-record: the edit reached the sync first and created the ticket, the
    opening then PATCHed it with its older state. A stale overwrite (per_key_order and
    final_state_matches_baseline fail it), not a loss: no_lost_events said 'missing PATCH
    /tickets/{id}' for the edit."""
    clean = tickets_clean(Model.REGISTER)
    events = issue("zqrun")
    h = run(
        events,
        [ok(events[1], at=0.0), ok(events[0], at=0.001)],
        [ticket(events[1]), ticket(events[0], "PATCH", 200, at=0.01)],
        tag="zqrun",
        baseline=clean,
        model=Model.REGISTER,
    )
    v = lost(h)
    assert v.status is Status.PASS, v.summary
    assert (
        "the item created by a later event of its record, ahead of the event that created it in "
        "the clean run, which wrote the item it found (the events raced: per_key_order judges "
        "their order): counted as written"
    ) in v.summary, v.summary


def test_an_edit_accepted_in_an_outage_that_created_its_ticket_recovered() -> None:
    """recovers_after_outage read the clean twin's PATCH alone: the edit, accepted while the
    tracker failed, created the ticket once it was back (the opening, refused before the
    window, had made none) — 'made POST /tickets … but no PATCH /tickets/{id}', failed
    (issue_tickets under downstream-outage)."""
    clean = tickets_clean(Model.REGISTER)
    events = issue("zqrun")
    effects = [
        ticket(events[0], status=503),
        ticket(events[1], status=503, at=1.5),
        ticket(events[1], at=3.5),
    ]
    deliveries = [refused(events[0]), ok(events[1], at=1.2)]
    h = run(events, deliveries, effects, tag="zqrun", baseline=clean, model=Model.REGISTER)
    outage = Fault("tracker", "status", 1.0, 3.0, {"status": 503})
    [v] = judge(replace(h, faults=[outage]), [InvariantSpec("recovers_after_outage")])
    assert v.status is Status.PASS, v.summary


def test_a_loss_the_target_worked_past_is_not_told_to_raise_the_settle_quiet() -> None:
    """Checkouts 1, 3 and 4 each got their contact and deal 0.5 s after their answer; 2, sent
    between them, got nothing, and settling gave up 2 s after the target's last call. Events
    accepted after it were done: no queue still holds it, and it has waited far longer than any
    call took. tests/gallery/locked_store.py (an insert that gave up on a locked SQLite inbox)
    was told 'if it works slower than that … raise the settle quiet' (fails before). With the
    lost checkout last (nothing accepted after it done), or calls that came later after their
    answer than it has waited, a slow target is not ruled out: the advice stays."""
    events, clean = checkout_pair(4)

    def judged(lost_n: int, sent: Sequence[float], lag: float = 0.5) -> Verdict:
        done = [e for n, e in enumerate(events, 1) if n != lost_n]
        effects = [
            write(path, [e], at=sent[events.index(e)] + lag)
            for e in done
            for path in ("/contacts", "/deals")
        ]
        deliveries = [ok(e, at=sent[n]) for n, e in enumerate(events)]
        h = run(events, deliveries, effects, tag="zqrun", baseline=clean)
        return lost(_settled(h, "pending", 2.0, quiet=2.0))

    passed_over = judged(2, [0.0, 0.1, 0.2, 0.3])
    assert passed_over.status is Status.FAIL, passed_over.summary
    assert "raise the settle quiet" not in passed_over.summary, passed_over.summary
    assert (
        "; settling stopped after 2 s without a call from the target, 29.9 s after the last of "
        "these events was answered: the target works after it answers, and made the calls of 2 "
        "events it accepted after the last of these, each call at most 490.0 ms after its "
        "event's answer — these were passed over, or held in a process that then ended (this "
        "run cannot tell which: a crash, an OOM kill or a restart between deliveries fails none "
        "of them and leaves no other trace here — look in the target's log for one during the "
        "run), not left in a queue still working: a longer settle would show nothing more"
    ) in passed_over.summary
    slow = judged(2, [0.0, 29.0, 29.1, 29.2], lag=1.5)  # waited 1.0 s, calls came 1.5 s after
    assert slow.status is Status.FAIL, slow.summary
    assert "if it works slower than that" in slow.summary, slow.summary
    assert "raise the settle quiet" in slow.summary, slow.summary
    # The lost checkout the last accepted, after every event worked, and waited far longer than
    # any call came after its answer: held until more come (Node-RED's join by count, a batch
    # written only when full), or slow — both said (it said only 'if it works slower than that').
    last = judged(4, [0.0, 0.1, 0.2, 0.3])
    assert last.status is Status.FAIL, last.summary
    assert (
        "; settling stopped after 2 s without a call from the target: it was the last event it "
        "accepted, after every event it worked, and waited 29.7 s, 61 times as long as any call "
        "of the run came after its event's answer (490.0 ms): held until more come (a batch "
        "written only when full, a flush on the next event), written when more events arrive "
        "and never if none do — write what it holds on a timer too; if it works slower than it "
        "showed"
    ) in last.summary, last.summary
    assert "raise the settle quiet" in last.summary, last.summary


def test_losses_worked_past_are_passed_over_though_the_last_events_were_lost_too() -> None:
    """Checkouts 2 and 4 lost, 1 and 3 done 0.5 s after their answers: 2 was worked past (3,
    accepted after it, was done), 4 was the last. It said only 'if it works slower than that …
    raise the settle quiet' of both (fails before): tests/gallery/fire_and_forget.py, whose
    recycled workers dropped the tasks they held all through the run, the last ones too."""
    events, clean = checkout_pair(4)
    sent = [0.0, 0.1, 0.2, 0.3]
    done = [events[0], events[2]]
    effects = [
        write(path, [e], at=sent[events.index(e)] + 0.5)
        for e in done
        for path in ("/contacts", "/deals")
    ]
    deliveries = [ok(e, at=sent[n]) for n, e in enumerate(events)]
    h = run(events, deliveries, effects, tag="zqrun", baseline=clean)
    v = lost(_settled(h, "pending", 2.0, quiet=2.0))
    assert v.status is Status.FAIL, v.summary
    assert (
        "; settling stopped after 2 s without a call from the target: the target works after it "
        "answers, and worked events it accepted after 1 of these, each call at most 490.0 ms "
        "after its event's answer — passed over, not left in a queue still working; the other "
        "1, accepted after the last event it worked, may still be queued: if it works slower "
        "than that"
    ) in v.summary, v.summary
