"""The example compiled into a payload builder (``drive._template``)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.core import _paths
from harness.drive._template import Spans, Whole, compile_payload

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=20,
)


@given(JSON_VALUES.filter(lambda v: isinstance(v, dict | list)))
def test_an_example_without_atoms_is_built_equal_and_new(example: Any) -> None:
    build = compile_payload(example, {})
    made = build({})
    assert repr(made) == repr(example)  # repr: nan is not equal to itself
    assert made is not example


def test_leaves_are_filled_whole_or_in_spans_and_containers_are_never_shared() -> None:
    example = {"id": "evt_1", "n": 5, "url": "https://x/evt_1/y", "tags": [], "deep": {"a": 1}}
    build = compile_payload(
        example,
        {
            ("id",): Whole("evt_1", as_text=True),
            ("n",): Whole("5", as_text=False),
            ("url",): Spans("https://x/evt_1/y", ((10, 15, "evt_1"),)),
        },
    )
    first, second = build({"evt_1": "evt_2", "5": 7}), build({"evt_1": 3, "5": 8})
    assert first == {
        "id": "evt_2",
        "n": 7,
        "url": "https://x/evt_2/y",
        "tags": [],
        "deep": {"a": 1},
    }
    assert second["id"] == "3" and second["url"] == "https://x/3/y"
    assert first["tags"] is not second["tags"] and first["deep"] is not second["deep"]


def test_an_example_nested_deeper_than_the_parser_allows_is_built() -> None:
    example: Any = {"leaf": "evt_1"}
    steps: tuple[_paths.Step, ...] = ("leaf",)
    for n in range(300):
        example = {f"k{n}": example} if n % 2 else [example]
        steps = ((f"k{n}",) if n % 2 else (0,)) + steps
    made = compile_payload(example, {steps: Whole("evt_1", as_text=True)})({"evt_1": "evt_9"})
    assert _paths.get(made, steps) == "evt_9"
    assert _paths.get(made, steps[:-1]) is not _paths.get(example, steps[:-1])
