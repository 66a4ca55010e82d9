"""An id inside a string takes the run's own value, as it does standing alone in the same payload
(``drive._inner_ids``): a Shopify order's gid names the order its ``id`` names in every run,
and another order in another run; a recorded URL's account id is the account id the payload
holds whole. Before, both went out as drawn or recorded, the same in every run."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.core._model import Event
from harness.core._scenario import SyntheticSource, TracerSpec
from harness.drive._sources import synthetic_events
from harness.drive._synthetic_text import traced_synthetic
from harness.drive._tracer import traced
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

TAGS = ("zqabcde", "zqxyzwv")


def _library(name: str) -> SyntheticSource:
    return _library_source(SyntheticDoc(library=name, events=6, records=3, over=3.0))


def _payloads(spec: SyntheticSource, tag: str, way: str) -> list[Any]:
    if way == "text":
        return [json.loads(json.dumps(e.payload)) for e in traced_synthetic(spec, 3, tag)]
    return [e.payload for e in traced(synthetic_events(spec, 3, tag), tag)]


@pytest.mark.parametrize("way", ["text", "objects"])
def test_a_gid_names_the_order_its_id_names_in_each_run(way: str) -> None:
    spec = _library("shopify:orders/create")
    runs = [_payloads(spec, tag, way) for tag in TAGS]
    for payloads in runs:
        for p in payloads:
            assert p["admin_graphql_api_id"] == f"gid://shopify/Order/{p['id']}"
            customer = p["customer"]
            assert customer["admin_graphql_api_id"] == f"gid://shopify/Customer/{customer['id']}"
            [line] = p["line_items"]
            assert line["admin_graphql_api_id"] == f"gid://shopify/LineItem/{line['id']}"
    first, second = ({p["admin_graphql_api_id"] for p in run} for run in runs)
    assert len(first) == 6 and not first & second, (first, second)


@pytest.mark.parametrize("way", ["text", "objects"])
def test_a_short_number_in_a_url_is_renumbered_as_it_is_alone(way: str) -> None:
    """A GitHub issue's ``number`` (1347: 16 bits) moves among the 31-bit numbers; its URLs end
    in the same number."""
    spec = _library("github:issues")
    runs = [_payloads(spec, tag, way) for tag in TAGS]
    for payloads in runs:
        for p in payloads:
            issue = p["issue"]
            assert issue["html_url"].endswith(f"/issues/{issue['number']}")
            assert issue["comments_url"].endswith(f"/issues/{issue['number']}/comments")
            assert issue["number"] >= 2**30
            avatar = issue["user"]["avatar_url"]
            assert f"/u/{issue['user']['id']}?" in avatar
    first, second = ({p["issue"]["html_url"] for p in run} for run in runs)
    assert not first & second


def test_a_key_inside_a_url_is_the_keys_token() -> None:
    """A subscription's items ``url`` names the subscription, the event's record key."""
    spec = _library("stripe:customer.subscription.updated")
    for way in ("text", "objects"):
        for p in _payloads(spec, TAGS[0], way):
            sub = p["data"]["object"]
            assert sub["items"]["url"].endswith(f"subscription={sub['id']}")
            assert TAGS[0] in sub["id"]


def test_digits_in_a_time_a_decimal_or_a_word_are_left_alone() -> None:
    """Only a digit run standing as a word is an id: the number an id-named field holds is no
    id inside a time, a decimal, an address or a longer word."""
    example = {
        "id": "evt_1A2b3C4d5E6f",
        "customer_id": 7,
        "at": "2024-07-07T07:07:07Z",
        "price": "7.77",
        "ip": "10.7.7.7",
        "sku": "part_7",
        "ref": "order 7 of 9",
    }
    [event] = traced([Event("evt_1A2b3C4d5E6f", "k", 0, "t", 0.0, example)], TAGS[0])
    p = event.payload
    assert isinstance(p, dict)
    new = p["customer_id"]
    assert new != 7
    assert (p["at"], p["price"], p["ip"], p["sku"]) == (
        "2024-07-07T07:07:07Z",
        "7.77",
        "10.7.7.7",
        "part_7",
    )
    assert p["ref"].startswith(f"order {new} of 9 ")  # then the token free text carries


def _invoice(account: str) -> Event:
    payload = {
        "id": "evt_1PgcStripe0001Inv",
        "type": "invoice.paid",
        "account": account,
        "data": {
            "object": {
                "id": "in_1PgdC3J27XDCG2R8QWoDuPnP",
                "hosted_invoice_url": f"https://invoice.stripe.com/i/{account}/live_YWNjdF8xUGdj"
                "UjhRV29EdVBuUCxfUWdEZ3Vzdk5yR0?s=ap",
                "description": "Invoice for acme, the plan of 2024",
            }
        },
    }
    return Event(
        "evt_1PgcStripe0001Inv", "in_1PgdC3J27XDCG2R8QWoDuPnP", 0, "invoice.paid", 0.0, payload
    )


def test_a_recorded_urls_id_is_permuted_as_the_same_id_whole() -> None:
    """A recording's default (``tracer: {rewrite: false}`` with its ids each run's own)."""
    account = "acct_1PgcR8QWoDuPnP"
    made = []
    for tag in TAGS:
        [ev] = traced([_invoice(account)], tag, TracerSpec(rewrite=False, ids=True))
        assert isinstance(ev.payload, dict)
        own = ev.payload["account"]
        invoice = ev.payload["data"]["object"]
        url = invoice["hosted_invoice_url"]
        assert own != account and own.startswith("acct_1") and len(own) == len(account)
        assert url.startswith(f"https://invoice.stripe.com/i/{own}/live_")
        assert url.endswith("?s=ap") and "live_YWNjdF8x" not in url  # its own id, too
        assert invoice["description"] == "Invoice for acme, the plan of 2024"  # no id in it
        made.append(own)
    assert made[0] != made[1]
