"""Which differing texts final_state_matches_baseline leaves out as made by the automation
(harness/invariants/_made.py): a hash, a time it stamped, an id of its own — never a value the
events carried, a word of the automation's vocabulary, or a value the other run's state holds."""

from __future__ import annotations

from typing import Any

import pytest

from harness.core._model import Event
from harness.invariants._made import Made

RUN = "{run}"


def _neutral(tag: str) -> Any:
    def normal(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace(tag, RUN)
        if isinstance(value, list):
            return [normal(v) for v in value]
        if isinstance(value, dict):
            return {k: normal(v) for k, v in value.items()}
        return value

    return normal


def _event(tag: str, email: str) -> Event:
    payload = {"data": {"id": f"c_{tag}1", "email": email, "plan": "pro"}}
    return Event(f"e_{tag}1", f"c_{tag}1", 1, "contact.updated", 0.0, payload)


def _made(
    mine_state: list[Any], theirs_state: list[Any], their_writes: tuple[Any, ...] = ()
) -> Made:
    mine = [_event("zqaa", "Ada+zqaa1@example.org")]
    theirs = [_event("zqbb", "Ada+zqbb1@example.org")]
    return Made(
        ((mine, _neutral("zqaa")), (theirs, _neutral("zqbb"))),
        (mine_state, theirs_state),
        RUN,
        (((), _neutral("zqaa")), (their_writes, _neutral("zqbb"))),
    )


@pytest.mark.parametrize(
    ("mine", "theirs", "made"),
    [
        # md5 of each run's address: made
        ("969d0e2b918763bee271dc3e44f28d22", "1d20d9a3398e4267f93e3b8529824acf", True),
        # the same in a path: only the hashed part differs
        ("PUT /members/969d0e2b918763bee271dc3e44f28d22", "PUT /members/1d20d9a3398e", True),
        # another method: a word, compared
        ("PUT /members/969d0e2b918763bee271dc3e44f28d22", "POST /members/1d20d9a3398e", False),
        # the automation's vocabulary: no digit, compared
        ("active", "cancelled", False),
        # a value the events carried (without case), compared
        ("ada+{run}1@example.org", "bo+{run}2@example.org", False),
        ("PRO", "x9", False),
        # numbers are compared
        (1999, 2500, False),
    ],
)
def test_a_difference_is_left_out_only_where_both_texts_were_made(
    mine: Any, theirs: Any, made: bool
) -> None:
    assert _made([], []).texts(mine, theirs) is made


def test_a_text_the_other_runs_state_holds_is_compared() -> None:
    """A value a record could take in either run (another record of the baseline holds it) is
    not the automation's per-run making: compared."""
    state = [{"status": "v2"}]
    assert _made([], []).texts("v1", "v2") is True
    assert _made([], state).texts("v2", "v1") is False


def test_a_text_the_other_run_wrote_is_compared() -> None:
    """A stale overwrite's value, derived from an older event ('basic_2023' from the plan
    'Basic 2023'): the baseline wrote it too, when it applied that event, then the newer one
    over it. It is a value the record could take in either run, not one run's making."""
    wrote = (["PUT /contacts/c_zqbb1", {"plan": "basic_2023"}],)
    assert _made([], []).texts("basic_2023", "pro_2024") is True
    assert _made([], [], wrote).texts("basic_2023", "pro_2024") is False


def test_a_number_the_events_carried_written_as_text_is_compared() -> None:
    """A company's id the events carried as a number (7001), written into a path or a text
    field: it is the event's, not the automation's making — it was left out as made, so a
    write to another company ('/companies/7001' against the baseline's '/companies/7002')
    passed."""
    mine = [Event("e_zqaa1", "d_zqaa1", 1, "deal.updated", 0.0, {"companyId": 7001})]
    theirs = [Event("e_zqbb1", "d_zqbb1", 1, "deal.updated", 0.0, {"companyId": 7002})]
    made = Made(
        ((mine, _neutral("zqaa")), (theirs, _neutral("zqbb"))),
        ([], []),
        RUN,
        (((), _neutral("zqaa")), ((), _neutral("zqbb"))),
    )
    assert made.texts("PUT /companies/7001", "PUT /companies/7002") is False
    assert made.texts("7001", "7002") is False
    assert made.texts("co_7001", "co_7002") is True  # derived, in no event: made
