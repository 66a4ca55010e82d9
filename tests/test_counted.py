"""A number a sender counts its orders by (Shopify's ``order_number``, the order's ``name``
"#1001" written from it: ``drive._vary.COUNTED``) is each order's own and each run's own, as an
id is. Before, every synthetic order carried the example's 1001 and "#1001", in every run, and a
recording's order its recorded ones in every run: a receiver keeping orders by name met them
all as one order."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.core._model import Event
from harness.core._scenario import TracerSpec
from harness.drive._sources import synthetic_events
from harness.drive._synthetic_text import traced_synthetic
from harness.drive._tracer import traced
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

TAGS = ("zqabcde", "zqxyzwv")


def _orders(library: str, tag: str, way: str) -> list[Any]:
    spec = _library_source(SyntheticDoc(library=library, events=12, records=4, over=3.0))
    if way == "text":
        return [json.loads(json.dumps(e.payload)) for e in traced_synthetic(spec, 3, tag)]
    return [e.payload for e in traced(synthetic_events(spec, 3, tag), tag)]


@pytest.mark.parametrize("way", ["text", "objects"])
def test_each_synthetic_order_has_its_own_number_and_name_in_each_run(way: str) -> None:
    runs = [_orders("shopify:orders/create", tag, way) for tag in TAGS]
    for orders in runs:
        assert len({p["order_number"] for p in orders}) == 12
        for p in orders:
            assert p["name"] == f"#{p['order_number']}"
    first, second = ({p["name"] for p in orders} for orders in runs)
    assert not first & second, (first, second)


@pytest.mark.parametrize("way", ["text", "objects"])
def test_an_id_of_one_digit_is_counted_each_orders_and_each_runs_own(way: str) -> None:
    """Shopify's order ``number`` (1 in the example: the order's place in the shop's count) is
    id-named, and an id is drawn keeping its first digit: a one-digit id came out 1 in every
    order of every run, and the tracer left 1 alone ("no bit to flip"). It is counted now,
    and 1 is renumbered as any short number is: the first order's too."""
    runs = [_orders("shopify:orders/create", tag, way) for tag in TAGS]
    for orders in runs:
        assert len({p["number"] for p in orders}) == 12, [p["number"] for p in orders]
    first, second = ({p["number"] for p in orders} for orders in runs)
    assert not first & second, (first, second)


@pytest.mark.parametrize("way", ["text", "objects"])
def test_an_updated_order_keeps_its_number(way: str) -> None:
    """``orders/updated``: the record is the order (its ``id``), so its number is counted per
    order, the same in each of its updates."""
    orders = _orders("shopify:orders/updated", TAGS[0], way)
    by_order: dict[int, set[int]] = {}
    for p in orders:
        by_order.setdefault(p["id"], set()).add(p["order_number"])
        assert p["name"] == f"#{p['order_number']}"
    assert len(by_order) == 4 and all(len(n) == 1 for n in by_order.values()), by_order
    assert len({n for numbers in by_order.values() for n in numbers}) == 4


def test_a_recorded_orders_number_and_name_are_each_runs_own() -> None:
    """A recording's default (its payloads as recorded but for their ids): the order's number
    is renumbered as an id is, and its name follows it; the rest stays as recorded."""
    payload = {"id": 5940139491234, "name": "#1001", "order_number": 1001, "note": "gift 1001"}
    made = []
    for tag in TAGS:
        event = Event("5940139491234", "5940139491234", 0, "orders/create", 0.0, payload)
        [ev] = traced([event], tag, TracerSpec(rewrite=False, ids=True))
        assert isinstance(ev.payload, dict)
        number = ev.payload["order_number"]
        assert number != 1001 and ev.payload["name"] == f"#{number}"
        made.append(number)
    assert made[0] != made[1]
