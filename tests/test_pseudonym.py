"""The capture's Scrubber: consistent, format-preserving pseudonyms; secrets never kept."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core._errors import InputError
from harness.core._sensitive import is_sensitive_key
from harness.drive._pseudonym import Scrubber

KEY = b"a-key-the-user-keeps-0123456789"


def scrub(value: Any, *paths: str, key: bytes | None = KEY) -> Any:
    return json.loads(Scrubber(key, paths).body(json.dumps(value).encode()))


def shape(text: str) -> str:
    return re.sub(r"\d", "9", re.sub(r"[a-z]", "a", re.sub(r"[A-Z]", "A", text)))


def test_one_key_one_pseudonym_another_key_another() -> None:
    body = {"email": "jane@example.com"}
    assert scrub(body) == scrub(body)
    assert scrub(body) != scrub(body, key=b"another-key-0123456789")
    # The case of an address does not make another person.
    assert scrub({"email": "Jane@Example.COM"}) == scrub(body)


def test_an_email_stays_an_email_nobody_can_receive() -> None:
    found = scrub({"to": "ada.lovelace+orders@mail.example.co.uk"})["to"]
    assert re.fullmatch(r"user_[0-9a-f]{10}@example\.invalid", found)


@pytest.mark.parametrize(
    "phone",
    ["+44 20 7946 0958", "+15551234567", "(555) 987-6543", "555.123.4567", "555-123-4567x89"],
)
def test_a_phone_number_keeps_its_shape_and_country_code(phone: str) -> None:
    found = scrub({"note": f"call {phone} today"})["note"]
    new = found.removeprefix("call ").removesuffix(" today")
    assert new != phone and shape(new) == shape(phone)
    if phone.startswith("+"):
        assert new[:2] == phone[:2]


@pytest.mark.parametrize(
    "text",
    [
        "2026-03-01T12:00:00+01:00",
        "1700000000",
        "cus_555-123-4567",
        "order 12345678 of 3 items",
        "+01:00",
    ],
)
def test_ids_times_and_amounts_are_not_taken_for_phone_numbers(text: str) -> None:
    assert scrub({"v": text}) == {"v": text}


def test_a_configured_path_keeps_words_digits_and_numbers_in_shape() -> None:
    body = {"customer": {"name": "Jane O'Neil", "address": {"line1": "12 Baker St", "zip": 94107}}}
    found = scrub(body, "$.customer.name", "$.customer.address")["customer"]
    assert shape(found["name"]) == shape("Jane O'Neil") and found["name"] != "Jane O'Neil"
    assert shape(found["address"]["line1"]) == shape("12 Baker St")
    assert isinstance(found["address"]["zip"], int) and len(str(found["address"]["zip"])) == 5
    assert found["address"]["zip"] != 94107
    # One word, one pseudonym: "Jane" elsewhere reads the same.
    again = scrub({"customer": {"name": "Jane Doe"}}, "$.customer.name")["customer"]["name"]
    assert again.split()[0] == found["name"].split()[0]


def test_the_body_text_changes_only_where_a_value_is_replaced() -> None:
    text = '{"amount": 1.50,   "email" : "jane@example.com", "n": 1e3, "u": "caf\\u00e9"}'
    new = Scrubber(KEY).body(text.encode()).decode()
    assert new.startswith('{"amount": 1.50,   "email" : "user_') and new.endswith(
        '@example.invalid", "n": 1e3, "u": "caf\\u00e9"}'
    )


def test_secrets_are_redacted_with_or_without_a_key() -> None:
    body = {"api_key": "sk_live_x", "card": {"cvc": 123, "card_number": 4242424242424242}}
    for key in (KEY, None):
        found = scrub(body, key=key)
        assert found == {
            "api_key": "[redacted]",
            "card": {"cvc": "[redacted]", "card_number": "[redacted]"},
        }


def test_no_key_keeps_pii() -> None:
    assert scrub({"email": "jane@example.com"}, key=None) == {"email": "jane@example.com"}


def test_text_bodies_queries_and_binary_bodies() -> None:
    scrubber = Scrubber(KEY)
    assert b"jane@example.com" not in scrubber.body(b"from=jane@example.com&x=1")
    assert scrubber.body(b"\xff\xfe jane@example.com") == b"\xff\xfe jane@example.com"
    query = scrubber.query("email=jane%40example.com&access_token=abc&page=2")
    assert "jane" not in query and "abc" not in query and query.endswith("&page=2")
    assert "access_token=%5Bredacted%5D" in query


def test_a_path_that_does_not_parse_is_an_input_error() -> None:
    with pytest.raises(InputError):
        Scrubber(KEY, ["data.email"])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


def kinds(value: Any) -> Any:
    """A JSON value's structure: its containers, in order, and the types of its leaves."""
    if isinstance(value, dict):
        return ("dict", [kinds(v) for v in value.values()])
    if isinstance(value, list):
        return ["list", *(kinds(v) for v in value)]
    return type(value).__name__


@given(json_values)
def test_any_json_body_stays_json_of_the_same_structure(value: Any) -> None:
    # "$.a" and "$[0]" pseudonymise whatever sits there: a number stays a number of its kind.
    found = scrub(value, "$.a", "$[0]")
    if not any(is_sensitive_key(k) for k in keys(value)):  # a secret becomes a string
        assert kinds(found) == kinds(value)


def keys(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [*value, *(k for v in value.values() for k in keys(v))]
    if isinstance(value, list):
        return [k for v in value for k in keys(v)]
    return []


def test_a_number_is_replaced_where_it_sits_only() -> None:
    body = {"cvc": 123, "quantity": 123, "customer": {"zip": 94107}, "other_zip": 94107}
    found = scrub(body, "$.customer.zip")
    assert (found["cvc"], found["quantity"], found["other_zip"]) == ("[redacted]", 123, 94107)
    assert found["customer"]["zip"] != 94107
    assert scrub([1e300, 2.5e-3], "$[0]", "$[1]")[0] > 1e299  # the exponent is kept
