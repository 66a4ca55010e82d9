"""per_key_order on a ledger whose record's events are about different objects of it
(``invariants._objects``): two invoices of one customer, each kept by its own id, may be
written in either order; a refund before the payment of the same charge may not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.core._model import Event, Model, Status, Verdict

from .conftest import Automation, run_text
from .test_invariants import delivery, effect, history, one

APART = "PUT /invoices/{id}: an idempotent write to a path holding an id only its own event carries"
LONE = (
    "no two events of one record wrote one resource (each wrote a path of its own, "
    "idempotently: PUT /invoices/{id}), so no order was shown kept"
)
# What a project can answer it with, when order cannot apply (docs/project.md#leave-out).
ADVICE = (
    "; if order cannot apply to this automation, leave per_key_order out in harness.yaml with "
    "the reason (docs/project.md#leave-out)"
)


def _invoice(n: int, invoice: str, **more: Any) -> Event:
    """Event ``evt_<n>`` of customer cus_1 about invoice ``invoice``, as Stripe sends one."""
    obj = {"id": invoice, "object": "invoice", "customer": "cus_1", **more}
    payload = {"id": f"evt_{n}", "object": "event", "data": {"object": obj}}
    return Event(f"evt_{n}", "cus_1", n, "invoice.paid", 0.0, payload)


def _judged(events: list[Event], writes: list[tuple[int, str, str]]) -> Verdict:
    """per_key_order over ``events`` (each delivered and answered before any write) and their
    first writes: (event number, method, path), in time order."""
    return one(
        history(
            events,
            [delivery(f"dlv_{e.seq}", e.id, sent=0.01 * e.seq) for e in events],
            [
                effect(f"eff_{n}", [f"evt_{n}"], 1.0 + i / 10, method, path)
                for i, (n, method, path) in enumerate(writes)
            ],
        ),
        "per_key_order",
    )


def _written(invoices: list[str], order: list[int]) -> Verdict:
    """Events 1, 2, … of cus_1 about ``invoices`` in turn, each written ``PUT /invoices/<id>``,
    the writes made in ``order``."""
    events = [_invoice(n, inv) for n, inv in enumerate(invoices, 1)]
    return _judged(events, [(n, "PUT", f"/invoices/{invoices[n - 1]}") for n in order])


def test_two_invoices_of_one_customer_written_newer_first_are_not_failed() -> None:
    """The sound demo's Stripe objects: each invoice written by its own id. Failed before
    ('1 of 1 records had effects applied out of event order'); each invoice had one event, so
    no order was shown kept either."""
    v = _written(["in_1A", "in_2B"], [2, 1])
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary == (
        f"{LONE}; 1 out-of-order write not judged: each was about another object of its record "
        f"than the newer events written before it ({APART}), so their order changed neither"
        f"{ADVICE}"
    )


def test_an_invoice_whose_id_starts_another_s_is_still_its_own() -> None:
    """Traced per run, a customer's invoices are ``in_zqrune1`` and ``in_zqrune10``: the first
    is no id the second's event names (it was taken as one, 'nothing told whether the two were
    about one object')."""
    v = _written(["in_zqrune1", "in_zqrune10"], [2, 1])
    assert v.summary.startswith(LONE + "; 1 out-of-order write not judged: each was about"), (
        v.summary
    )


def test_a_write_per_event_named_by_the_event_s_id_is_a_ledger_line_kept_in_order() -> None:
    events = [_invoice(1, "in_1A"), _invoice(2, "in_2B")]
    in_order = _judged(events, [(1, "PUT", "/entries/evt_1"), (2, "PUT", "/entries/evt_2")])
    assert in_order.status is Status.PASS, in_order.summary
    lone = _judged(events, [(1, "PUT", "/invoices/in_1A"), (2, "PUT", "/invoices/in_2B")])
    assert (lone.status, lone.summary) == (Status.INCONCLUSIVE, LONE + ADVICE)


def test_an_invoice_with_two_events_is_judged_and_an_order_kept_there_passes() -> None:
    v = _written(["in_1A", "in_2B", "in_1A"], [2, 1, 3])
    assert v.status is Status.PASS, v.summary
    assert v.summary == (
        "no record's effects went against event order on any one object (1 record, 3 effects "
        "checked); 1 out-of-order write not judged: each was about another object of its record "
        f"than the newer events written before it ({APART}), so their order changed neither"
    )


def test_an_older_event_of_one_invoice_after_its_newer_one_fails_behind_another_invoice() -> None:
    """The record's newest write (invoice B) is about another invoice; the older event of
    invoice A still came after A's newer one, and that pair is the one shown."""
    v = _written(["in_1A", "in_1A", "in_3B"], [2, 3, 1])
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_1", "evt_2")
    assert v.evidence.lines == (
        "effects for record cus_1 applied out of event order: seq 1 (evt_1, eff_1) at 1.20 s "
        "after seq 2 (evt_2, eff_2) at 1.00 s",
    )


def test_a_refund_written_before_the_payment_of_its_charge_still_fails() -> None:
    """Different paths, but the payment's holds the charge the refund carries: one object."""
    payment = Event(
        "evt_1", "cus_1", 1, "charge.succeeded", 0.0,
        {"data": {"object": {"id": "ch_1", "customer": "cus_1"}}},
    )  # fmt: skip
    refund = Event(
        "evt_2", "cus_1", 2, "charge.refunded", 0.0,
        {"data": {"object": {"id": "re_2", "charge": "ch_1", "customer": "cus_1"}}},
    )  # fmt: skip
    v = _judged([payment, refund], [(2, "PUT", "/refunds/re_2"), (1, "PUT", "/charges/ch_1")])
    assert v.status is Status.FAIL, v.summary
    # Both answered before either's write: said to have been worked at once (tests/test_invariants).
    assert v.summary.startswith(
        "1 of 1 record had effects applied out of event order (1 violation); on 1 of these "
        "records both events were delivered and accepted before either's effect"
    ), v.summary


@pytest.mark.parametrize(
    ("method", "paths"),
    [
        ("POST", ("/invoices", "/invoices")),  # appended to one collection
        ("POST", ("/invoices/in_2B/payments", "/invoices/in_1A/payments")),  # not idempotent
        ("PUT", ("/entries/evt_2", "/entries/evt_1")),  # a line per event: the ledger's own
        ("PUT", ("/invoices/in_2B", "/invoices/in_1A?customer=cus_1")),  # query aside, apart
    ],
)
def test_only_idempotent_writes_to_paths_of_their_own_objects_are_apart(
    method: str, paths: tuple[str, str]
) -> None:
    v = _judged(
        [_invoice(1, "in_1A"), _invoice(2, "in_2B")], [(2, method, paths[0]), (1, method, paths[1])]
    )
    apart = paths[0].startswith("/invoices/in_") and method == "PUT"
    assert v.status is (Status.INCONCLUSIVE if apart else Status.FAIL), v.summary


def test_paths_holding_no_id_their_events_carry_are_not_judged_and_not_passed() -> None:
    """A member id hashed from the address: nothing tells whether two are one object."""
    v = _judged(
        [_invoice(1, "in_1A"), _invoice(2, "in_2B")],
        [(2, "PUT", "/members/5d41402a"), (1, "PUT", "/members/7d793037")],
    )
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary == (
        "no record's effects went against event order where the harness could tell their "
        "objects (1 record, 2 effects checked); 1 out-of-order write not judged: an idempotent "
        "write to another path of its record than the newer events' (PUT /members/{id}) "
        "holding no id only its own event carries (derived, hashed, or one the other event "
        "names too), so nothing told whether the two were about one object; "
        "final_state_matches_baseline compares the objects themselves"
    )


def test_a_register_is_judged_per_resource_as_before() -> None:
    events = [_invoice(1, "in_1A"), _invoice(2, "in_1A")]
    h = history(
        events,
        [delivery(f"dlv_{e.seq}", e.id, sent=0.01 * e.seq) for e in events],
        [
            effect("eff_2", ["evt_2"], 1.0, "PUT", "/invoices/in_1A"),
            effect("eff_1", ["evt_1"], 1.1, "PUT", "/invoices/in_1A"),
        ],
        Model.REGISTER,
    )
    assert one(h, "per_key_order").status is Status.FAIL


OUTAGE = """\
name: invoices-paid-outage
model: ledger
time_scale: 0.01
provider: {name: stripe, retries: 0}
source:
  synthetic:
    library: "stripe:invoice.paid"
    events: 40
    records: 10
    over: 100s
faults:
  - {downstream: api, at: 5s, for: 60s, mode: status, status: 503}
invariants: [no_lost_events, per_key_order]
downstreams: [{name: api, stateful: true}]
delivery: {secret_env: HARNESS_SECRET, timeout: 5s}
settle: {quiet: 2s, deadline: 60s}
"""


@pytest.mark.integration
def test_the_sound_demo_keeping_each_invoice_apart_is_not_failed_through_an_outage(
    sound: Automation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`harness init --provider stripe --events stripe:invoice.paid` + `harness run`: the ledger
    is keyed by the customer, and the sound demo retries each invoice on its own through an
    outage, so a customer's invoices land in another order than their events'. per_key_order
    failed it ('14 of 20 records had effects applied out of event order'); each invoice had a
    single event, so no order was shown kept either."""
    verdicts = run_text(sound, OUTAGE, tmp_path, 3, monkeypatch)
    found = {v.invariant: v for v in verdicts}
    assert found["no_lost_events"].status is Status.PASS, found["no_lost_events"].summary
    order = found["per_key_order"]
    assert order.status is Status.INCONCLUSIVE, order.summary
    assert order.summary.startswith(LONE + "; "), order.summary
    assert "out-of-order write" in order.summary and APART in order.summary, order.summary
