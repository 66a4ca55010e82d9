"""Guessing where an event's id, record key, type and time live (``harness init``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core import _library, _paths
from harness.core._providers import PROVIDERS
from harness.scenario._guess import HEADERS, guess_model, guess_paths


def paths(payload: Any, provider: str | None, **given: str) -> dict[str, str | None]:
    return {name: g.path for name, g in guess_paths(payload, provider, given).items()}


STRIPE_WITH_CUSTOMER = {
    "id": "evt_1",
    "type": "checkout.session.completed",
    "created": 1722249417,
    "data": {"object": {"id": "cs_1", "customer": "cus_1", "amount_total": 4900}},
}


def test_stripe_layout_first_the_customer_as_the_record() -> None:
    guesses = guess_paths(STRIPE_WITH_CUSTOMER, "stripe")
    assert {n: g.path for n, g in guesses.items()} == {
        "id": "$.id",
        "key": "$.data.object.customer",
        "type": "$.type",
        "time": "$.created",
    }
    assert "stripe layout" in guesses["key"].reason
    assert guesses["key"].value == "cus_1"


def test_stripe_without_a_customer_keys_on_the_object() -> None:
    guest = {**STRIPE_WITH_CUSTOMER, "data": {"object": {"id": "cs_1", "customer": None}}}
    assert paths(guest, "stripe")["key"] == "$.data.object.id"


def test_generic_names_when_the_provider_layout_does_not_fit() -> None:
    payload = {
        "event_id": "e_1",
        "topic": "order.created",
        "created_at": "2026-01-01T00:00:00Z",
        "data": {"order_id": "ord_1", "amount": 5},
    }
    guesses = guess_paths(payload, "stripe")
    assert {n: g.path for n, g in guesses.items()} == {
        "id": "$.event_id",
        "key": "$.data.order_id",
        "type": "$.topic",
        "time": "$.created_at",
    }
    assert "order_id" in guesses["key"].reason
    assert "topic" in guesses["type"].reason


def test_the_key_is_never_the_id_path() -> None:
    # Two paths naming one field would write the record key over the event id.
    assert paths({"id": "evt_1", "data": {"id": "rec_1"}}, None) == {
        "id": "$.id",
        "key": "$.data.id",
        "type": None,
        "time": None,
    }


def test_a_type_must_be_text_and_flags_win() -> None:
    payload = {"id": "x", "event": {"kind": "created"}, "user_id": "u_1"}
    assert paths(payload, None)["type"] == "$.event.kind"
    given = guess_paths(payload, None, {"key": "$.id"})
    assert given["key"].path == "$.id" and given["key"].reason == "given"
    assert given["id"].path is None  # $.id is taken by the key; nothing else fits


def test_a_batch_is_guessed_from_its_first_event() -> None:
    batch = [{"eventId": 1, "objectId": 42, "subscriptionType": "contact.propertyChange"}]
    assert paths(batch, "hubspot")["key"] == "$.objectId"


def test_nothing_fits_says_so() -> None:
    guesses = guess_paths({"x": {"y": True}}, None)
    assert all(g.path is None and g.reason == "no field fits" for g in guesses.values())


# Where the library and the guesses part, both right: a Shopify order reads the same for
# orders/create (the customer is the record) and orders/updated (the order is), the topic being
# in a header; init guesses the customer and says so, the user corrects it with --key. Its time
# is guessed as updated_at, which an order created has too.
_APART = {"shopify:orders/updated": "key", "shopify:orders/create": "time"}


@pytest.mark.parametrize("name", _library.names())
def test_the_guesses_agree_with_the_library(name: str) -> None:
    """The library's paths were written from each provider's documentation: a guess from the
    bare payload and the provider finds the same paths, and none where a header carries it."""
    entry = _library.entry(name)
    guesses = guess_paths(entry.payload, entry.provider)
    for field, guess in guesses.items():
        if _APART.get(name) == field:
            assert guess.path != entry.paths[field]
        elif field in entry.paths:
            assert guess.path == entry.paths[field], (field, guess)
        elif field in HEADERS.get(entry.provider, {}):
            assert guess.path is None and "header carries it" in guess.reason, (field, guess)


def test_a_provider_that_sends_the_id_in_a_header_needs_no_id_path() -> None:
    guesses = guess_paths(
        {"id": 820982911946154500, "customer": {"id": 115310627314723950}}, "shopify"
    )
    assert guesses["id"].path is None
    assert guesses["id"].reason == "the X-Shopify-Webhook-Id header carries it"
    assert guesses["type"].reason == "the X-Shopify-Topic header carries it"
    assert guesses["key"].path == "$.customer.id"


def test_a_nested_id_is_a_key_a_top_level_one_is_not() -> None:
    # No event id fits at the top ("id" is null), so the key must not fall back to it either.
    guesses = guess_paths(
        {"id": None, "uid": "u1", "object": {"id": None, "item": {"id": "i_1"}}}, None
    )
    assert guesses["key"].path == "$.object.item.id"
    assert guesses["id"].path is None


_NAMES = (
    *("id", "event_id", "type", "topic", "created_at", "order_id", "data", "object", "customer"),
    *("a b_id", "x.y_at", "9_id", "é_id"),
)
_PROVIDERS = st.none() | st.sampled_from(sorted(PROVIDERS))
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(_NAMES) | st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@given(payload=st.dictionaries(st.sampled_from(_NAMES), _JSON, max_size=6), provider=_PROVIDERS)
def test_any_payload_gets_paths_that_lead_to_a_value_never_one_for_two_fields(
    payload: dict[str, Any], provider: str | None
) -> None:
    guesses = guess_paths(payload, provider)
    found = [g.path for g in guesses.values() if g.path is not None]
    assert len(found) == len(set(found))
    for guess in guesses.values():
        if guess.path is not None:
            assert _paths.get(payload, _paths.parse(guess.path)) == guess.value
            assert guess.value is not None and guess.value != "" and guess.reason


@pytest.mark.parametrize(
    ("event_type", "model"),
    [
        ("contact.updated", "register"),
        ("orders/updated", "register"),
        ("contact.propertyChange", "register"),
        ("customer_changed", "register"),
        ("deal.upserted", "register"),
        ("order.created", "ledger"),
        ("invoice.paid", "ledger"),
        ("payment_intent.succeeded", "ledger"),
        ("checkout.session.completed", "ledger"),
        ("customer.updated.v2", "register"),
        ("order_paid_v1", "ledger"),
        ("order.not_paid", None),
        ("issues", None),
        ("push", None),
        ("contact.deleted", None),
        ("", None),
        (7, None),
    ],
)
def test_a_model_is_guessed_from_the_type_only_where_its_last_word_says(
    event_type: object, model: str | None
) -> None:
    """A change of a record's state reads as a register, a fact of its own as a ledger; a type
    that says neither (a GitHub ``issues`` event, a deletion) is left to the hazard."""
    found = guess_model(event_type)
    assert (found[0] if found else None) == model
    if found:
        assert str(event_type) in found[1]
