"""A streamed run's payload-less events as columns: read back as the Events they were, found by
id through the tracer token in it, and ids of another shape kept as they are."""

from __future__ import annotations

import pytest

from harness.core._model import Event
from harness.drive._event_columns import EventColumns

TAG = "zqcolum"


def ev(
    seq: int, event_id: str | None = None, type_: str = "order.paid", key: str | None = None
) -> Event:
    return Event(
        event_id or f"evt_{TAG}e{seq}",
        key or f"ord_{TAG}k{seq // 2}",
        seq,
        type_,
        seq * 0.5,
        None,
        {},
    )


def test_events_read_back_as_they_were_added_without_their_payloads() -> None:
    made = [
        ev(0),
        ev(1, type_="order.refunded"),
        ev(2, f"{TAG}e2", key=f"{TAG}k1"),
        ev(3, "custom-id-3", key="cus_42"),
        ev(4, key=f"ord_{TAG}k07"),  # not a token of this run: kept as it is
        ev(5, key=f"ord_{TAG}k"),  # no number, Arabic-Indic digits, two tokens: as they are
        ev(6, key=f"ord_{TAG}k\u0661"),
        ev(7, key=f"{TAG}k1-{TAG}k12"),
    ]
    columns = EventColumns(TAG)
    for e in made:
        columns.append(e)
    assert list(columns) == made and len(columns) == 8
    assert columns[-5] == made[3] and columns[1:3] == made[1:3]
    assert list(columns.subset([4, 0])) == [made[4], made[0]]
    with pytest.raises(IndexError):
        columns[8]


def test_found_by_id_through_the_token_or_as_kept() -> None:
    columns = EventColumns(TAG)
    for e in (ev(0), ev(1, "custom-id-1"), ev(2)):
        columns.append(e)
    assert columns.find(f"evt_{TAG}e2") == ev(2)
    assert columns.find("custom-id-1") == ev(1, "custom-id-1")
    # Another prefix, another run's tag, a seq not made yet, a token ending in more digits.
    for other in (f"cus_{TAG}e2", "evt_zqother e2", f"evt_{TAG}e3", f"evt_{TAG}e21", "x"):
        assert columns.find(other) is None, other


def test_an_event_out_of_seq_order_is_refused() -> None:
    columns = EventColumns(TAG)
    columns.append(ev(0))
    with pytest.raises(ValueError, match="expected 1"):
        columns.append(ev(2))


def test_a_batch_is_held_as_its_events_one_by_one() -> None:
    """``extend`` (the Feed's, 256 events at a time: their ids checked against the first's
    prefix at once) holds what ``append`` holds event by event: ids of one prefix, of
    another, kept as they are; keys of every kind; the numbers of the keys' tokens."""
    mixed = [
        ev(0),
        ev(1, f"cus_{TAG}e1"),
        ev(2, "custom-id-2"),
        ev(3),
        ev(4, key=f"ord_{TAG}k07"),
        ev(5, key="cus_42"),
        ev(6, type_="order.refunded"),
    ]
    plain = [ev(n) for n in range(7, 20)]
    one, many = EventColumns(TAG), EventColumns(TAG)
    numbers = [one.append(e) for e in mixed + plain]
    assert many.extend(mixed) + many.extend(plain) == numbers
    assert list(many) == list(one) == mixed + plain
    assert many.find("custom-id-2") == mixed[2] and many.find(f"cus_{TAG}e1") == mixed[1]
    with pytest.raises(ValueError, match="seq 22, expected 21"):
        many.extend([ev(20), ev(22)])
    assert len(many) == 20  # a batch out of order is refused whole
