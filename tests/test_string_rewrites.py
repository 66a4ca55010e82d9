"""A run works each recurring string out once (``drive._string_rewrites``) and writes, for every
event, what rewriting the string as it stands writes: a string met a first time is rewritten as
it stands, a second time worked out, a third time taken from the plan — the three must agree,
whatever ids, numbers, emails, free text, times and tokens the string holds, and whichever ids
the event renumbers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core._model import Event
from harness.drive._tracer import Tokens

# Characters that make or break ids, digit runs, emails and free text.
_CHARS = "0123456789abfzAFZ_.:+-/ @\u0663"
_PIECES = (
    "acct_1PgcR8QWoDuPnP",
    "cus_XiAPyhzAnar3ZL",
    "123456",
    "7",
    "9f1c2b3a-4d5e-4f60-8a7b-0c1d2e3f4a5b",
    "gid://shopify/Order/",
    "jenny.rosen+old@example.com",
    "Dr. Jenny Rosen",
    "2024-11-10T10:30:00-05:00",
    "8d4f0a7e2b5c9f1a3e6d8b0c2a4f6e8d",
)
strings = st.lists(
    st.sampled_from(_PIECES) | st.text(_CHARS, max_size=12), min_size=1, max_size=4
).map("".join)
KEYS = ("cus_XiAPyhzAnar3ZL", "123456", "alice")


def _three(s: str, key: str, number_first: bool, ids: bool, mark: bool) -> list[Any]:
    fields: dict[str, Any] = {"id": "evt_1PgcStripe0001Inv", "a": s, "b": [s], "c": {"d": s}}
    number = {"customer_id": 123456, "order_number": 7}
    payload = {**number, **fields} if number_first else {**fields, **number}
    tokens = Tokens("zqplain", ids, mark=mark)
    made = tokens.event(Event("evt_1PgcStripe0001Inv", key, 0, "t", 0.0, payload)).payload
    assert isinstance(made, dict)
    return [made["a"], made["b"][0], made["c"]["d"]]


@pytest.mark.parametrize(
    ("ids", "mark"), [(False, True), (True, True), (True, False)], ids=["tokens", "both", "own"]
)
@given(s=strings, key=st.sampled_from(KEYS), number_first=st.booleans())
def test_a_string_worked_out_once_is_written_as_it_is_rewritten_as_it_stands(
    ids: bool, mark: bool, s: str, key: str, number_first: bool
) -> None:
    first, second, third = _three(s, key, number_first, ids, mark)
    assert first == second == third, (s, first, second, third)
