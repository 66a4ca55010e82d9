"""A payout retried with an Idempotency-Key made per attempt (tests/gallery/fresh_key_retry.py),
judged through ``harness run`` and read against the run's journal: a duplicate is an order with
more than one committed ``POST /payouts``.

The key looks right — every call carries one — but a ``uuid4()`` made inside the retry loop
gives each attempt its own, and the payments API books each retry. The verdict failed it, and
its reason read as a retry sent with no key ("… or send an Idempotency-Key made from the job or
event id"): it now says that every repeat carried a key, no two the same.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.history import load_all

from .test_gallery import QUICK, automation, run, said, verdicts
from .test_gallery_round10 import written_twice

pytestmark = pytest.mark.integration

PER_CALL = (
    "every write of these carried an Idempotency-Key, no two the same: a key made per call (a "
    "uuid4() where the call is made, in a retry loop or an HTTP helper), not per event"
)


@pytest.mark.parametrize("key", ["attempt", "event"])
def test_a_payout_retried_past_a_client_timeout_with_a_key_per_attempt_is_paid_twice(
    tmp_path: Path, key: str
) -> None:
    """Each call takes 2.2 s while the payments API is slow, the client gives up after 1 s and
    tries again: the API books both. Each attempt with its own key: a duplicate, said to be
    one of keys made per attempt (not of no key). The key made once per event
    (``payout-<event id>``): the retries are one payout, harmless."""
    env = {"PAYOUT_KEY": key}
    with automation("fresh_key_retry", "/webhook/orders", env) as target:
        _, report = run(target, "slow-downstream", tmp_path, *QUICK)
    [slow] = load_all(tmp_path / "journal.db")
    assert slow.baseline is not None and not written_twice(slow.baseline)  # in time: once each
    found = verdicts(report)
    repeated = found["no_duplicate_effects"]
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    retried = len(slow.effects) > len(slow.events)
    if key == "event":
        assert repeated["status"] == "pass", said(repeated)
        harmless = r"\d+ repeats? with the same Idempotency-Key: harmless"
        assert bool(re.search(harmless, said(repeated))) == retried, said(repeated)
        return
    twice = written_twice(slow)
    if not twice:  # a machine so loaded that no call came while the API was slow
        assert repeated["status"] == "pass", said(repeated)
        return
    assert repeated["status"] == "fail", said(repeated)
    assert repeated["summary"].startswith(f"{len(twice)} of 30 events produced duplicate")
    assert set(repeated["evidence"]["events"]) <= twice
    assert PER_CALL in repeated["summary"], said(repeated)
    assert "each write with an Idempotency-Key of its own" in said(repeated)
    assert re.search(r"produced \d+ effects: POST /payouts eff_\d+, eff_\d+", said(repeated))


@pytest.mark.parametrize("hazard", ["ambiguous-commit", "duplicate-storm"])
def test_a_payout_made_again_under_a_new_key_is_a_duplicate(tmp_path: Path, hazard: str) -> None:
    """The payments API books each payout, then answers 502: every retry, under a key of its
    own, is booked again — up to four payouts an order. Copies of an order delivered at once
    (it does not deduplicate events) each pay it, under keys of their own: the key made once
    per event would have made them one payout too, and the reason says a redelivery's call as
    well as a retry."""
    with automation("fresh_key_retry", "/webhook/orders") as target:
        _, report = run(target, hazard, tmp_path, *QUICK)
    [h] = load_all(tmp_path / "journal.db")
    twice = written_twice(h)
    repeated = verdicts(report)["no_duplicate_effects"]
    assert twice, "no payout was made again"
    assert repeated["status"] == "fail", said(repeated)
    assert re.match(rf"{len(twice)} of (30|60) events produced duplicate", repeated["summary"])
    assert PER_CALL in repeated["summary"], said(repeated)
    assert "a retry, a redelivery's call" in repeated["summary"], said(repeated)
