"""Which differences of a final state are a float's rounding (harness/invariants/_rounding.py):
two numbers, one a float at least, a few units in the last place apart — never a cent of a
balance, an integer's step or a flag."""

from __future__ import annotations

import math
import random

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


def test_epoch_seconds_a_few_units_apart_are_a_rounding_a_millisecond_is_not() -> None:
    """1e-12 of 1.7e9 epoch seconds is 1.7 ms: a relative tolerance called two times a
    millisecond apart a float's rounding. A rounding is a few units in the last place (2.4e-7
    s here), or the same decimal to 15 digits."""
    at = 1_764_979_200.123456
    later = math.nextafter(math.nextafter(at, math.inf), math.inf)  # 2 units in the last place
    gap = rounding_gap(at, later)
    assert gap is not None and gap == 2 * math.ulp(at)
    assert rounding_gap(1_700_000_000.0017, 1_700_000_000.0) is None
    assert rounding_gap(at, at + 0.001) is None


def test_a_thousand_amounts_summed_backwards_are_a_rounding() -> None:
    """12 units in the last place apart, the same decimal to 15 digits (504385.42)."""
    draw = random.Random(1)
    amounts = [draw.randint(1, 100_000) / 100 for _ in range(1_000)]
    forwards = backwards = 0.0
    for x in amounts:
        forwards += x
    for x in reversed(amounts):
        backwards += x
    assert abs(forwards - backwards) == 12 * math.ulp(forwards)
    assert rounding_gap(forwards, backwards) is not None
