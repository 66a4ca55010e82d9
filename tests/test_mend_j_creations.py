"""A single record created more times than its clean twin: said in the singular ('1 records got
more resources created by …' before)."""

from __future__ import annotations

from harness.core._model import Status
from harness.history import History

from .test_creations import customer, dup, events
from .test_duplicates_unattributed import ok, run


def _sync(tag: str, copies: int, baseline: History | None = None) -> History:
    """One record's two changes, each delivered ``copies`` times; every delivery of the first
    creates the customer (the look-up raced), the second updates it."""
    evs = events(tag, records=1)
    deliveries = [ok(e, c) for e in evs for c in range(1, copies + 1)]
    effects = [customer(e, c, created=e.seq == 0) for e in evs for c in range(1, copies + 1)]
    return run(evs, deliveries, effects, tag=tag, baseline=baseline)


def test_one_record_created_twice_is_said_in_the_singular() -> None:
    v = dup(_sync("zqrun", 2, baseline=_sync("zqclean", 1)))
    said = "1 record got more resources created by POST /customers than the clean run storm@zqclean"
    assert (v.status, v.summary[: len(said)]) == (Status.FAIL, said), v.summary
