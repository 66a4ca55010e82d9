"""``amounts_intact`` over hand-built Histories: decimal amounts carried to the cent.

Found on a Standard Webhooks billing sync written as practitioners write them (tests/gallery/
invoice_lines): ``int(float("64.32") * 100)`` booked 6431, on about one invoice in ten, and
every verdict held — its clean run books the same cent short, so nothing compared showed it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

import pytest

from harness.core._model import Effect, Event, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History
from harness.invariants import judge
from harness.invariants.amounts_intact import carries, kept, through_double

from .test_duplicates_unattributed import ok, run

TOTALS = ("64.32", "12.50", "4.35", "19.99", "7.00")


def invoice(seq: int, total: str, key: str | None = None) -> Event:
    payload = {"type": "invoice.paid", "data": {"id": f"inv_zqrunk{seq}", "total": total}}
    return Event(f"evt_zqrune{seq}", key or f"inv_zqrunk{seq}", seq, "invoice.paid", 0.0, payload)


def booked(event: Event, body: dict[str, object], *, named: bool = True) -> Effect:
    """The sync's POST /invoices for ``event``: naming the event, or only its record."""
    return Effect(
        f"eff_{event.seq}", "accounting", event.seq + 0.5, "POST", "/invoices", {},
        json.dumps(body), 201, (event.id,) if named else (), event.key,
    )  # fmt: skip


def sync(
    cents: str, totals: Sequence[str] = TOTALS, named: bool = True, key: str | None = None
) -> History:
    """Each total booked by ``cents``: ``float`` (int(float(x) * 100)), ``decimal``, ``text``
    (the total as it came) or ``derived`` (a tax of it, nothing the event carries)."""
    events = [invoice(i, t, key) for i, t in enumerate(totals)]
    convert = {
        "float": lambda t: int(float(t) * 100),
        "decimal": lambda t: int(Decimal(t).scaleb(2)),
        "text": lambda t: t,
        "derived": lambda t: int(Decimal(t) * 19),
    }[cents]
    effects = [
        booked(e, {"total_cents": convert(t)}, named=named)
        for e, t in zip(events, totals, strict=True)
    ]
    return run(events, [ok(e) for e in events], effects, tag="zqrun")


def amounts(h: History) -> Verdict:
    [v] = judge(h, [InvariantSpec("amounts_intact")])
    return v


@pytest.mark.parametrize(
    ("leaf", "value", "is_kept", "is_carried"),
    [
        (6432, "64.32", True, True),
        ("64.32", "64.32", True, True),
        (64.32, "64.32", True, True),
        (6431, "64.32", False, True),  # int(float("64.32") * 100)
        (6431.999999999999, "64.32", False, True),  # float("64.32") * 100
        (6430, "64.32", False, False),
        (1998, 19.99, False, True),
        (True, "1.00", False, False),
        ("n/a", "1.00", False, False),
    ],
)
def test_what_an_amount_arrives_as(
    leaf: object, value: object, is_kept: bool, is_carried: bool
) -> None:
    assert kept(leaf, value) is is_kept  # type: ignore[arg-type]
    assert carries(leaf, value) is is_carried  # type: ignore[arg-type]


def test_a_double_changes_some_amounts_not_others() -> None:
    assert through_double("4.35") == {Decimal(434), Decimal("434.99999999999994")}
    assert through_double("12.50") == set()


def test_totals_converted_through_a_float_fail_naming_each() -> None:
    v = amounts(sync("float"))
    assert v.status is Status.FAIL, v.summary
    assert v.summary == (
        "3 of 5 amounts arrived changed (in minor units through a double, or as another number) "
        "— $.data.total of 'invoice.paid' -> POST /invoices $.total_cents"
    )
    assert v.evidence.lines[0] == (
        'event evt_zqrune0 (record inv_zqrunk0, seq 0): $.data.total "64.32" arrived as 6431 (in '
        'minor units through a double: int(float("64.32") * 100)) in POST /invoices eff_0 at '
        "$.total_cents"
    )
    assert v.evidence.event_ids == ("evt_zqrune0", "evt_zqrune2", "evt_zqrune3")


@pytest.mark.parametrize("cents", ["decimal", "text"])
def test_amounts_carried_exactly_pass(cents: str) -> None:
    v = amounts(sync(cents))
    assert v.status is Status.PASS, v.summary
    assert v.summary.startswith("5 amounts arrived to the cent, 3 of them ones a double changes")


def test_amounts_no_double_changes_prove_nothing() -> None:
    v = amounts(sync("float", ["12.50", "7.00", "3.25"]))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert v.summary.startswith("3 amounts arrived exact, but none is one a double changes")


def test_a_value_the_target_derived_is_not_judged() -> None:
    v = amounts(sync("derived"))
    assert v.status is Status.INCONCLUSIVE, v.summary
    assert "no write of the target carries one it can be told to be its event's" in v.summary


def test_a_write_naming_only_a_record_of_one_event_is_that_events() -> None:
    v = amounts(sync("float", named=False))
    assert v.status is Status.FAIL, v.summary


def test_a_write_naming_only_a_record_of_several_events_is_the_one_whose_amount_it_carries() -> (
    None
):
    """An invoice whose id is the record key, paid twice (the practitioner's project): the
    amount tells the record's events apart, whichever delivery wrote it."""
    v = amounts(sync("float", named=False, key="cus_zqrunk0"))
    assert v.status is Status.FAIL, v.summary
    assert v.evidence.event_ids == ("evt_zqrune0", "evt_zqrune2", "evt_zqrune3")


def test_a_write_whose_amount_two_events_of_its_record_share_is_nobodys() -> None:
    v = amounts(sync("float", ["64.32", "64.32", "4.35", "4.35"], named=False, key="cus_zqrunk0"))
    assert v.status is Status.INCONCLUSIVE, v.summary


def test_no_decimal_amount_is_nothing_to_judge() -> None:
    events = [invoice(0, "64.32")]
    events = [Event(e.id, e.key, e.seq, e.type, 0.0, {"data": {"total": 6432}}) for e in events]
    h = run(
        events, [ok(e) for e in events], [booked(events[0], {"total_cents": 6432})], tag="zqrun"
    )
    assert amounts(h).summary == "no event carries a decimal amount; nothing to judge"
