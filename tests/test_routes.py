"""``METHOD /path`` routes, parsed and matched in one place (_routes) for fault windows, the
scenario loader and drift_is_loud's alert route."""

from __future__ import annotations

import pytest

from harness.core._errors import ScenarioError
from harness.double._routes import compile_route, route_matches, split_route


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("POST /payouts", ("POST", "/payouts")),
        ("post /payouts/{id}", ("POST", "/payouts/{id}")),
        ("* /contacts/*", ("*", "/contacts/*")),
        ("POST", None),
        ("FETCH /x", None),
        ("POST payouts", None),
        ("", None),
    ],
)
def test_split_route_takes_a_method_or_star_and_a_path(
    text: str, parts: tuple[str, str] | None
) -> None:
    assert split_route(text) == parts


def test_a_route_matches_its_method_and_path_whatever_the_case_and_query() -> None:
    route = compile_route("post /alerts/{id}", where="test")
    assert route_matches(route, "POST", "/alerts/7?x=1")
    assert route_matches(route, "post", "/alerts/7")
    assert not route_matches(route, "PUT", "/alerts/7")
    assert not route_matches(route, "POST", "/alerts/7/more")
    anything = compile_route("* /contacts/*", where="test")
    assert route_matches(anything, "DELETE", "/contacts")
    assert route_matches(anything, "GET", "/contacts/9")


def test_a_bad_route_path_is_refused_where_it_was_given() -> None:
    with pytest.raises(ScenarioError) as info:
        compile_route("POST /a*b", where="faults on 'api': route")
    assert "faults on 'api': route" in str(info.value) and "'/a*b'" in str(info.value)
