"""A record's work done once, by whichever of its events came first, is not loss.

A "new customer" sync writes a customer's contact for their first checkout and nothing for the
next ones (tests/gallery/contact_once.py). Its clean run, each checkout once and in order, has
the first checkout of each customer make the contact; checkouts sent at once, or a first one
refused while the CRM was down, have another checkout of the customer make it. Each customer
still got one contact: the checkout its clean twin made it for made nothing, and another one,
whose twin made nothing, made it. Counted per event, that was "24 of 36 accepted events produced
no effect (lost)" — the second's write taken to show that the automation does not skip such
checkouts on purpose, so that every one was owed a contact.

Only where the clean run acted on each record once: an automation that works every event and
lost one in each run is no such design.
"""

from __future__ import annotations

from harness.core._model import Event, Model, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge
from harness.invariants._shortfalls import acted_once

from .test_expected import clean_run, ev, lost, ok, run, write


def customers(tag: str, n: int) -> list[Event]:
    """``n`` customers' three checkouts each, in order: seq 3k, 3k+1, 3k+2 of customer k."""
    return [ev(tag, 3 * k + i, key=f"cus_{tag}k{k}") for k in range(n) for i in range(3)]


def contacts(events: list[Event], makers: list[Event], clean: History) -> History:
    """``events`` each accepted once, and a contact written for each of ``makers``."""
    deliveries = [ok(e, at=0.01 * n) for n, e in enumerate(events)]
    effects = [write("/contacts", [e]) for e in makers]
    return run(events, deliveries, effects, tag="zqrun", baseline=clean)


def test_another_checkout_of_the_customer_making_the_contact_is_not_loss() -> None:
    twins, events = customers("zqclean", 4), customers("zqrun", 4)
    clean = clean_run(twins, [write("/contacts", [e]) for e in twins[::3]])
    # Customer 0's second checkout made the contact here, its first nothing.
    makers = [events[1], *events[3::3]]
    v = lost(contacts(events, makers, clean))
    assert v.status is Status.PASS, v.summary
    assert (
        "1 event's POST /contacts made by another event of their record instead "
        f"(e.g. {events[0].id}'s, by {events[1].id})"
    ) in v.summary, v.summary


def test_a_stand_in_with_a_repeat_is_not_loss_but_a_resource_made_twice() -> None:
    """Customer 0's first checkout made nothing, its second and third each made the contact:
    the customer got its contact (by a stand-in) and one more. Called "1 of 12 accepted events
    produced no effect (lost)" while no_duplicate_effects was inconclusive ("the clean run lost
    those events ... or found the resource made without a call"): the clean run acting on each
    customer once, in four customers, is what lets the stand-in pass — and what makes the
    second contact a resource made twice, no_duplicate_effects' to fail."""
    twins, events = customers("zqclean", 4), customers("zqrun", 4)
    clean = clean_run(twins, [write("/contacts", [e]) for e in twins[::3]])
    makers = [events[1], events[2], *events[3::3]]
    lost_v, dup = verdicts(contacts(events, makers, clean), "no_duplicate_effects")
    assert lost_v.status is Status.PASS, lost_v.summary
    assert f"(e.g. {events[0].id}'s, by {events[1].id})" in lost_v.summary, lost_v.summary
    assert dup.status is Status.FAIL, dup.summary
    assert "record cus_zqrunk0: 2 created, where its clean twin got 1" in dup.summary, dup.summary


def test_a_repeat_of_a_once_per_record_design_without_a_stand_in_is_a_resource_made_twice() -> None:
    """The same two contacts of customer 0, its first checkout making one as its clean twin
    did: no stand-in, but the clean run acting on each of four customers once shows the design
    all the same, and the silent twins silent by it, not lost — the second and third contacts
    are made twice. It stayed inconclusive ("the clean run lost those events … or found the
    resource made without a call"); a design one record shows stays so
    (tests/test_mend_j_once.py)."""
    twins, events = customers("zqclean", 4), customers("zqrun", 4)
    clean = clean_run(twins, [write("/contacts", [e]) for e in twins[::3]])
    makers = [events[0], events[1], events[2], *events[3::3]]
    _, dup = verdicts(contacts(events, makers, clean), "no_duplicate_effects")
    assert dup.status is Status.FAIL, dup.summary
    assert "record cus_zqrunk0: 3 created, where its clean twin got 1" in dup.summary, dup.summary


def verdicts(h: History, other: str) -> tuple[Verdict, Verdict]:
    """no_lost_events' verdict on ``h``, and ``other``'s."""
    found = judge(h, [InvariantSpec("no_lost_events"), InvariantSpec(other)])
    by_name = {v.invariant: v for v in found}
    return by_name["no_lost_events"], by_name[other]


def test_an_automation_that_acts_on_every_event_losing_one_in_each_run_fails() -> None:
    """The clean run wrote for both checkouts of most customers, but lost customer 0's
    second; this run lost its first instead: a loss, not a record's work moved."""
    twins, events = customers("zqclean", 3), customers("zqrun", 3)
    clean = clean_run(twins, [write("/contacts", [e]) for e in twins if e is not twins[1]])
    v = lost(contacts(events, events[1:], clean))
    assert v.status is Status.FAIL, v.summary
    assert events[0].id in str(v.evidence), v.summary


def payments(tag: str, n: int) -> list[Event]:
    """Customer 0's two payments, then ``n`` customers' one payment each."""
    two = [ev(tag, i, key=f"cus_{tag}k0") for i in range(2)]
    return two + [ev(tag, 2 + k, key=f"cus_{tag}k{k + 1}") for k in range(n)]


def test_a_ledger_losing_one_of_a_records_two_events_in_each_run_is_not_passed() -> None:
    """One payment per event, one customer paying twice: the clean run lost that customer's
    second payment, this run its first. One record is no sign of a record's work done once by
    whichever came first — it is also one loss in each run — so this run's is not passed."""
    twins, events = payments("zqclean", 4), payments("zqrun", 4)
    clean = clean_run(twins, [write("/contacts", [e]) for e in twins if e is not twins[1]])
    h = run(
        events,
        [ok(e, at=0.01 * n) for n, e in enumerate(events)],
        [write("/contacts", [e]) for e in events if e is not events[0]],
        tag="zqrun",
        baseline=clean,
    )
    v = lost(h)
    assert v.status is not Status.PASS, v.summary


def test_a_registers_newest_state_written_by_an_older_event_is_not_passed() -> None:
    """A register's record must end in its newest event's state: a sync that wrote each
    record's newest update in the clean run (the older one coalesced) and here an older one
    only, the newest making nothing, left the record on its older state — not a record's work
    done once by whichever came first."""
    twins, events = customers("zqclean", 2), customers("zqrun", 2)
    clean = clean_run(twins, [write("/contacts", [e]) for e in twins[2::3]], model=Model.REGISTER)
    made = [events[0], events[5]]  # customer 0's oldest, customer 1's newest
    h = run(
        events,
        [ok(e, at=0.01 * n) for n, e in enumerate(events)],
        [write("/contacts", [e], at=0.01 * n + 0.005) for n, e in enumerate(events) if e in made],
        tag="zqrun",
        baseline=clean,
        model=Model.REGISTER,
    )
    v = lost(h)
    assert v.status is Status.FAIL, v.summary
    assert events[2].id in str(v.evidence), v.summary


def test_a_contact_made_by_a_checkout_owed_only_its_deal_is_not_lost() -> None:
    """The sync makes a customer's contact for their first checkout, and a deal for every
    checkout. Three checkouts at once: the contact made by whichever came first, the first
    checkout making its deal only — one contact per customer as in the clean run, not loss."""
    twins, events = customers("zqclean", 4), customers("zqrun", 4)
    clean = clean_run(
        twins,
        [write("/contacts", [e]) for e in twins[::3]] + [write("/deals", [e]) for e in twins],
    )
    makers = [events[1], *events[3::3]]  # customer 0's second checkout made the contact
    h = run(
        events,
        [ok(e, at=0.01 * n) for n, e in enumerate(events)],
        [write("/contacts", [e]) for e in makers] + [write("/deals", [e]) for e in events],
        tag="zqrun",
        baseline=clean,
    )
    v = lost(h)
    assert v.status is Status.PASS, v.summary
    assert f"(e.g. {events[0].id}'s, by {events[1].id})" in v.summary, v.summary
    # The checkout that made the contact instead still owes its own deal: missing, lost.
    h = run(
        events,
        [ok(e, at=0.01 * n) for n, e in enumerate(events)],
        [write("/contacts", [e]) for e in makers]
        + [write("/deals", [e]) for e in events if e is not events[1]],
        tag="zqrun",
        baseline=clean,
    )
    v = lost(h)
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == (events[1].id,), v.summary


def test_acting_once_per_record_needs_two_records_and_none_acted_on_twice() -> None:
    """The one predicate the expectation's learning (per type) and the stand-ins (per request)
    both read: per record, (its events that acted, those that did not)."""
    assert acted_once([(1, 2), (1, 1), (0, 3)])
    assert not acted_once([(1, 2), (0, 3)])  # one record shows it: one loss in each run, too
    assert not acted_once([(1, 2), (1, 1), (2, 1)])  # a record acted on twice
    assert not acted_once([(1, 0), (1, 0), (1, 0)])  # one event each: nothing left alone
