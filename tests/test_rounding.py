"""Which differences of a final state are a float's rounding (harness/invariants/_rounding.py):
two numbers, one a float at least, a few units in the last place apart — never a cent of a
balance, an integer's step or a flag."""

from __future__ import annotations

from harness.invariants._rounding import only_rounding, rounding_gap


def test_a_sum_in_another_order_is_a_rounding() -> None:
    assert (0.1 + 0.2) + 0.3 != (0.3 + 0.2) + 0.1  # the order a sum was made in shows
    gap = rounding_gap((0.1 + 0.2) + 0.3, (0.3 + 0.2) + 0.1)
    assert gap is not None and 0 < gap < 1e-15


def test_a_cent_an_integer_a_flag_or_a_text_is_no_rounding() -> None:
    assert rounding_gap(89.8, 89.79) is None
    assert rounding_gap(10_000_000_000.01, 10_000_000_000.0) is None
    assert rounding_gap(8980, 8979) is None
    assert rounding_gap(True, 1.0) is None
    assert rounding_gap("0.6", 0.6000000000000001) is None
    assert rounding_gap(0.6, 0.6) is None


def test_a_record_differs_only_by_rounding_where_every_other_field_is_alike() -> None:
    slot = ("crm", "/customers")
    here = {slot: [{"balance": 89.8, "currency": "usd"}]}
    assert only_rounding(here, {slot: [{"balance": 89.79999999999998, "currency": "usd"}]})
    assert not only_rounding(here, {slot: [{"balance": 89.79999999999998, "currency": "eur"}]})
    assert not only_rounding(here, {slot: [{"balance": 89.7, "currency": "usd"}]})
    assert not only_rounding(here, here)
