"""A batch of synthetic events' times written from numpy's microseconds (``drive/_instants``)
is what the datetimes wrote: the same microseconds as ``timedelta`` rounds them, the same Unix
seconds, milliseconds and Slack times as ``_vary.render_time``, the same integer amounts as
``_vary._scaled``."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.drive import _vary
from harness.drive._instants import Instants, micros, unix_times

_MICRO = timedelta(microseconds=1)
_SECONDS = st.floats(min_value=-4e9, max_value=4e9, allow_nan=False)


def as_timedelta(seconds: list[float]) -> list[int]:
    return [timedelta(seconds=s) // _MICRO for s in seconds]


@given(st.lists(_SECONDS, min_size=1, max_size=50))
def test_microseconds_are_timedeltas(seconds: list[float]) -> None:
    assert micros(np.array(seconds)).tolist() == as_timedelta(seconds)


def test_halves_round_to_the_even_total_as_timedelta_does() -> None:
    """Exactly half a microsecond left over once the fraction is made microseconds (most of
    ``k + (m + 0.5) / 1e6`` leave that), either sign, odd and even totals: a naive rounding
    differs there; and a run's jitter draws and times."""
    halves = [s * (k + (m + 0.5) / 1e6) for s in (1, -1) for k in range(3) for m in range(999)]
    rng = random.Random(5)
    drawn = [600.0 * rng.random() for _ in range(100_000)]
    spread = [i * 0.001 for i in range(100_000)] + [i / 3 for i in range(10_000)]
    for seconds in (halves, drawn, spread):
        assert micros(np.array(seconds)).tolist() == as_timedelta(seconds)


@pytest.mark.parametrize(
    "epoch", [None, datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=-5)))]
)
def test_unix_times_are_render_times(epoch: datetime | None) -> None:
    """Every unit (Unix seconds, milliseconds, Slack's), times a fraction of a second apart:
    ``unix_times`` of the microseconds is ``render_time`` of the datetime."""
    rng = random.Random(2)
    at = sorted(rng.uniform(0, 40 * 86400) for _ in range(20_000)) + [i / 7 for i in range(500)]
    instants = Instants(at, epoch)
    assert instants.micros is not None
    for unit in ("s", "ms", "slack"):
        atom = _vary._Atom("1722249416", "time", 1722249416, "created", unit=unit)
        rendered = [_vary.render_time(atom, when) for when in instants.whens]
        assert unix_times(unit, instants.micros) == rendered


def test_a_zone_with_dst_moves_its_times_as_datetimes() -> None:
    """A time of a Paris calendar moved by months moves on the wall clock (an hour across a
    DST change), as the datetimes do: not by microseconds."""
    paris = Instants([0.0, 60.0], datetime(2026, 3, 1, tzinfo=ZoneInfo("Europe/Paris")))
    fixed = Instants([0.0, 60.0], datetime(2026, 3, 1, tzinfo=timezone(timedelta(hours=1))))
    assert paris.micros is None
    assert fixed.micros is not None


def test_an_instant_beyond_a_doubles_microseconds_is_made_as_a_datetime() -> None:
    far = Instants([0.0, 8e9], None)  # year 2279: its microseconds are not exact in a double
    assert far.micros is None
    assert far.whens[1] == datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=8e9)


@given(
    st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1),
    st.lists(st.floats(min_value=0.25, max_value=4.0), min_size=1, max_size=30),
)
def test_integer_amounts_scale_as_one_by_one(value: int, factors: list[float]) -> None:
    assert _vary._scaled_column(value, factors) == [_vary._scaled(value, f) for f in factors]


def test_halfway_amounts_round_to_even_as_round_does() -> None:
    factors = [0.5, 1.5, 2.5, 0.25, 0.75, math.nextafter(0.5, 1), math.nextafter(0.5, 0)]
    for value in (1, 3, 5, 7, -1, -3, -5, 4900, 2**52 + 1):
        assert _vary._scaled_column(value, factors) == [_vary._scaled(value, f) for f in factors]
