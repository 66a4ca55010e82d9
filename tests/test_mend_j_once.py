"""A record's resource made again by events whose clean twins made none is a repeat only where
the clean run shows a once-per-record design — two records or more each acted on once among
several events (``_shortfalls.acted_once``); one record showing it is also one loss in each
run, and stays undecided (tests/test_swapped_events.py has the case that fails)."""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Event, Status

from .test_creations import dup, raced
from .test_expected import clean_run, ev, write
from .test_swapped_events import contacts, verdicts


def _checkouts(tag: str) -> list[Event]:
    """Customer 0's three checkouts, then three customers' one each."""
    three = [ev(tag, i, key=f"cus_{tag}k0") for i in range(3)]
    return three + [ev(tag, 3 + k, key=f"cus_{tag}k{k + 1}") for k in range(3)]


def test_a_repeat_where_one_record_shows_the_design_stays_undecided() -> None:
    twins, events = _checkouts("zqclean"), _checkouts("zqrun")
    clean = clean_run(twins, [write("/contacts", [e]) for e in twins if e.seq in (0, 3, 4, 5)])
    _, dup = verdicts(contacts(events, events, clean), "no_duplicate_effects")
    assert dup.status is Status.INCONCLUSIVE, dup.summary
    assert "more resources created" not in dup.summary, dup.summary


def test_a_race_against_twins_silent_by_design_fails() -> None:
    """Every record's first change made its customer in the clean run and its second made no
    call: a customer made once a record, by its first change, in three records — the second
    customer here is made twice (it was not judged: 'the clean run lost those events … or
    found the resource made without a call')."""
    clean = raced("zqclean", 1)
    clean.effects = [e for e in clean.effects if e.method == "POST"]  # the second: no call
    v = dup(raced("zqrun", 2, clean))
    assert v.status is Status.FAIL, v.summary
    assert "(record zqrunk0: 2 created, where its clean twin got 1)" in v.summary, v.summary
    # The first change of one record silent there, its second making it: not by the first.
    clean = raced("zqclean", 1)
    posts = [e for e in clean.effects if e.method == "POST"]
    second = replace(posts[0], event_ids=(clean.events[1].id,))
    clean.effects = [second, *posts[1:]]
    assert dup(raced("zqrun", 2, clean)).status is Status.INCONCLUSIVE
