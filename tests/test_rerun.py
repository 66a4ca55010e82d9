"""Writes made again by the automation itself after the API had answered the first 2xx
(``harness/invariants/_rerun.py``).

Found on job queues that run a job again: a lease shorter than the payout call
(tests/gallery/leased_jobs.py under provider-retry-storm-stripe, every call 1 s, the lease 1 s)
and a worker killed after its payout and before marking the job done (reaped_jobs.py). No note
said why: '4 of 16 events produced duplicate effects: 4 repeated requests (4 POST)'. And where
a replay the target refused (400, past Stripe's tolerance) was sent between the two payouts, the
re-run was blamed on the replay: rejects_forged failed ('2 caused an effect'), and
no_duplicate_effects said the target does not deduplicate — which it does.
"""

from __future__ import annotations

from dataclasses import replace

from harness.core._model import Delivery, Outcome, Status

from .test_duplicates_unattributed import ev, run
from .test_record_attribution import verdict_of
from .test_unshared_dedup import order, sent

NOTE = "made again by the automation itself after the API had answered the first 2xx"


def test_a_write_made_again_with_no_delivery_between_is_a_job_run_twice() -> None:
    """One delivery, its payout answered 201, then the same payout a second later."""
    first, other = ev("zqjob", 0), ev("zqjob", 1)
    deliveries = [sent(first, 1, 0.0), sent(other, 1, 0.1)]
    effects = [order(first, 1, 0.01), order(other, 1, 0.11), order(first, 2, 1.01)]
    v = verdict_of(run([first, other], deliveries, effects, tag="zqjob"), "no_duplicate_effects")
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "1 of 2 events produced duplicate effects: 1 repeated request (1 POST); all of them "
        f"{NOTE}, with no delivery of the event in between (e.g. POST /orders eff_evt_zqjobe0_1, "
        "answered 201, made again as eff_evt_zqjobe0_2 1.0 s later): the same work run twice"
    ), v.summary


def test_a_refused_replay_between_is_no_cause_of_the_second_write() -> None:
    """A replay of the event, refused 400, sent between the two payouts: it caused nothing,
    and the re-run is still the job's own."""
    first = ev("zqreplay", 0)
    replay = Delivery(f"dlv_{first.id}_r", first.id, 2, 0.5, 0.5, 0.52, 400, Outcome.REJECTED)
    deliveries = [sent(first, 1, 0.0), replay]
    effects = [order(first, 1, 0.01), order(first, 2, 1.01)]
    h = run([first], deliveries, effects, tag="zqreplay")
    h.info = replace(h.info, settings={**h.info.settings, "tampered": {replay.id: "replayed"}})
    dup = verdict_of(h, "no_duplicate_effects")
    assert dup.status is Status.FAIL, dup.summary
    assert NOTE in dup.summary, dup.summary
    assert "does not deduplicate" not in dup.summary, dup.summary
    forged = verdict_of(h, "rejects_forged")
    assert forged.status is Status.PASS, forged.summary
