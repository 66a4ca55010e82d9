"""The indented layout (harness/core/_indented.py) writes what ``json.dumps(…, indent=…)``
writes, byte for byte, for anything ``json.loads`` makes — Stripe's bodies depend on it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.core._indented import indented
from harness.core._providers import LAYOUTS, PRETTY

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and the infinities too (json.loads reads them)
    | st.text()
)
_JSON = st.recursive(
    _SCALARS, lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner), max_leaves=40
)


@given(_JSON, st.sampled_from([(",", ": "), (", ", ": "), (",", ":")]), st.integers(0, 4))
def test_it_writes_what_json_dumps_writes(value: Any, separators: Any, indent: int) -> None:
    for ascii in (False, True):
        expected = json.dumps(value, separators=separators, indent=indent, ensure_ascii=ascii)
        assert indented(value, *separators, indent, ascii) == expected


def test_the_pretty_layout_is_the_indented_one() -> None:
    value = {"id": "evt_1", "data": {"object": {"lines": [1, 2.5, None, "é"], "meta": {}}}}
    assert LAYOUTS[PRETTY].dumps(value) == json.dumps(
        value, indent=2, separators=(",", ": "), ensure_ascii=False
    )
