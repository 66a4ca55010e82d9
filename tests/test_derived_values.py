"""Writes naming only their record whose bodies hold nothing that tells its events apart: the
advice to write a ``correlate:`` rule, which could never match, is replaced by what can be done
(invariants/_derived.py; found with tests/gallery/float_balance.py and loyalty_points.py)."""

from __future__ import annotations

import dataclasses

from harness.core._model import Event, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.invariants import judge

from .test_expected import CHECKOUT, ok, run, write


def _order(bodies: list[str]) -> str:
    """per_key_order of two invoices of one customer (amounts 1420 and 2210), each followed by
    a PUT naming only the customer, its body one of ``bodies`` in turn."""
    events = [
        Event(f"evt_zqrune{n}", "cus_zqrunk1", n, CHECKOUT, 0.0, {"amount_paid": amount})
        for n, amount in ((1, 1420), (2, 2210))
    ]
    puts = [
        dataclasses.replace(write("/contacts/x", method="PUT", key=e.key, at=n + 0.5), body=body)
        for n, (e, body) in enumerate(zip(events, bodies, strict=True))
    ]
    h = run(events, [ok(e, at=float(n)) for n, e in enumerate(events)], puts, tag="zqrun")
    [v] = judge(h, [InvariantSpec("per_key_order")])
    assert v.status is Status.INCONCLUSIVE, v.summary
    return v.summary


def test_a_running_balance_is_said_no_rule_can_name_its_event() -> None:
    summary = _order(
        ['{"balance": 14.2, "currency": "usd"}', '{"balance": 36.3, "currency": "usd"}']
    )
    assert (
        "no value in the bodies of PUT /contacts/x ($.balance, $.currency) is one that tells "
        "its record's events apart — derived (a balance, a sum) or the same for all of them — so "
        "no correlate: rule can name their event: if per_key_order cannot apply to this "
        "automation, leave it out in harness.yaml with the reason"
    ) in summary, summary
    assert "add a correlate: rule" not in summary


def test_a_body_carrying_an_events_own_value_still_gets_the_rule_advice() -> None:
    summary = _order(['{"last_amount": 1420}', '{"last_amount": 2210.0}'])
    assert "add a correlate: rule mapping a field of PUT /contacts/x" in summary, summary


BALANCES = ['{"balance": 14.2, "currency": "usd"}', '{"balance": 36.3, "currency": "usd"}']


def _lost(bodies: list[str], settings: dict[str, object] | None = None, drop: int = 0) -> Verdict:
    """no_lost_events of two invoices of one customer and another's one, with no clean run,
    each followed by a PUT naming only its customer (``bodies`` in turn), the last ``drop``
    PUTs not made."""
    events = [
        Event(f"evt_zqrune{n}", f"cus_zqrunk{1 + n // 3}", n, CHECKOUT, 0.0, {"amount_paid": a})
        for n, a in ((1, 1420), (2, 2210), (3, 990))
    ]
    puts = [
        dataclasses.replace(
            write(f"/contacts/{e.key}", method="PUT", key=e.key, at=n + 0.5), body=body
        )
        for n, (e, body) in enumerate(zip(events, [*bodies, bodies[0]], strict=True))
    ]
    h = run(
        events, [ok(e, at=float(n)) for n, e in enumerate(events)], puts[: len(puts) - drop],
        tag="zqrun", settings=settings,
    )  # fmt: skip
    [v] = judge(h, [InvariantSpec("no_lost_events")])
    return v


def test_loss_without_a_clean_run_is_told_to_get_one_not_a_rule_that_cannot_match() -> None:
    # float_balance under downstream-outage with --no-baseline (a load test has none either):
    # "add a correlate: rule mapping a field of PUT /customers/{id}/balance …", which no value
    # of a running balance could match.
    v = _lost(BALANCES)
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert (
        "so no correlate: rule can name their event: with a clean run (`harness run` drives one "
        "unless --no-baseline) or the expected effects declared (`expect:`, docs/invariants.md), "
        "this verdict compares each record's writes with what its events owe, per record"
    ) in v.summary, v.summary
    assert "add a correlate: rule" not in v.summary
    assert "leave it out" not in v.summary


def test_declared_expected_effects_judge_such_writes_per_record() -> None:
    # The advice followed: the PUT each invoice owes declared, the writes are judged per
    # record — all made, held; the last customer's PUT not made, failed.
    declared = {
        "expect": {
            CHECKOUT: [{"downstream": None, "method": "PUT", "path": "/contacts/{id}", "count": 1}]
        }
    }
    held = _lost(BALANCES, declared)
    assert held.status is Status.PASS, held.summary
    short = _lost(BALANCES, declared, drop=1)
    assert short.status is Status.FAIL, short.summary
    assert short.summary.startswith("1 record short of PUT /contacts/{id}"), short.summary
