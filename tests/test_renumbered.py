"""Ids and keys held as JSON numbers, renumbered per run (``drive/_tracer.renumbered``).

A number cannot carry a tracer token, so before this a run sent its clean run's numbers again,
and a receiver that remembers the ids it handled skipped the whole run (tests/test_gallery.py,
``shopify_dedup``)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.core._model import Event
from harness.drive._tracer import number_mask, renumbered, trace

MASKS = st.integers(min_value=0, max_value=2**64 - 1)
IDS = st.integers(min_value=0, max_value=2**70)


@given(IDS, MASKS)
def test_a_number_keeps_its_bit_length_and_what_a_double_rounds_away(n: int, mask: int) -> None:
    new = renumbered(n, mask)
    if n.bit_length() > 16 and n.bit_length() != 31:
        assert new.bit_length() == n.bit_length()
    elif n > 1:  # a short one among the 31-bit numbers, and a 31-bit one at times in its place
        assert {new.bit_length(), n.bit_length()} <= {31, *range(2, 17)}
    # A 64-bit id a float mangles stays one it mangles (the big-number hazards), and one it
    # keeps stays kept.
    assert (int(float(new)) == new) == (int(float(n)) == n)


SHORT = st.integers(min_value=0, max_value=2**16 - 1)
WIDE = st.integers(min_value=2**30, max_value=2**31 - 1)


@given(st.sets(IDS | SHORT | WIDE, min_size=2, max_size=50), MASKS)
def test_one_run_never_gives_two_numbers_one(ns: set[int], mask: int) -> None:
    assert len({renumbered(n, mask) for n in ns}) == len(ns)


@given(SHORT, MASKS)
def test_a_31_bit_number_landing_where_a_short_one_went_takes_its_place(n: int, mask: int) -> None:
    """The short numbers' block of the 31-bit ones is the run's: a 31-bit number whose flip
    lands there goes to where the short ones came from, and no two meet."""
    if n < 2:
        return
    moved = renumbered(n, mask)
    wide = moved ^ (mask & ((1 << 30) - 1))  # the 31-bit number whose flip lands on ``moved``
    assert wide.bit_length() == 31
    assert 1 < renumbered(wide, mask) < 1 << 16


def test_a_short_number_is_another_in_every_run() -> None:
    """An issue's ``number`` 1347 (11 bits) kept its bit length: 1,024 values, one in 1,024
    runs alike, and in one ``harness run`` a late run's issues met an earlier run's numbers
    for over a third of them — to a sync keeping a ticket per ``repo#number`` the same issues
    (tests/test_gallery_github.py, ``issue_tickets``)."""
    tags = [f"zq{a}{b}{c}xy" for a in "abcdefgh" for b in "abcdefgh" for c in "abcd"]
    made = [renumbered(1347, number_mask(tag)) for tag in tags]
    assert len(set(made)) == len(tags) == 256
    assert all(2**30 <= m < 2**31 for m in made)  # still an int4


def test_each_run_renumbers_its_own_way_and_rewrites_every_occurrence() -> None:
    payload = {"id": 820982911946154508, "customer": {"id": 7234567891234}, "copy": 7234567891234}
    ev = Event("820982911946154508", "7234567891234", 0, "orders/create", 0.0, payload)
    first, second = (trace([ev], tag).events[0] for tag in ("zqfirst", "zqsecon"))
    for made in (first, second):
        assert made.id.isdigit() and made.key.isdigit()
        assert made.payload == {
            "id": int(made.id),
            "customer": {"id": int(made.key)},
            "copy": int(made.key),
        }
    assert first.id != second.id != ev.id and first.key != second.key != ev.key
    assert int(first.id) == renumbered(int(ev.id), number_mask("zqfirst"))


def test_an_id_written_as_a_string_is_still_a_token() -> None:
    ev = Event("5040876904547", "7580209803191", 0, "orders/create", 0.0, {"id": "5040876904547"})
    made = trace([ev], "zqtoken").events[0]
    assert made.id == "zqtokene0" and made.payload == {"id": "zqtokene0"}


def test_the_other_ids_held_as_numbers_are_renumbered_per_run_too() -> None:
    """An issue's ``number`` is neither the event's id nor its record's key (``$.issue.id``),
    and went out the same in a run and its clean run: a sync that keeps a ticket per
    ``repo#number`` met the run's issues as the clean run's, and updated tickets it had made
    there (tests/test_gallery_github.py)."""
    issue = {"id": 2651234567, "number": 1347, "comments": 1347, "user": {"id": 90123456}}
    payload = {"action": "opened", "issue": issue, "repository": {"id": 1012345678}}
    ev = Event("d0c5e3a1-8f5e-4c7a-9a59-5a2f0e1c9b7d", "2651234567", 0, "issues", 0.0, payload)
    first, second = (trace([ev], tag).events[0] for tag in ("zqfirst", "zqsecon"))
    for made, tag in ((first, "zqfirst"), (second, "zqsecon")):
        mask = number_mask(tag)
        got = made.payload["issue"]
        assert got["number"] == renumbered(1347, mask) != 1347
        assert got["user"]["id"] == renumbered(90123456, mask)
        assert made.payload["repository"]["id"] == renumbered(1012345678, mask)
        assert got["id"] == int(made.key)  # the key the same way, wherever it is
        assert got["comments"] == 1347  # a count, not an id
    assert first.payload["issue"]["number"] != second.payload["issue"]["number"]
