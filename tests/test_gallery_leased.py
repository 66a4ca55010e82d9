"""Queues whose workers lease their jobs (tests/gallery/leased_jobs.py, reaped_jobs.py: SQS's
visibility timeout, BullMQ's lock behind n8n's queue mode, Celery's ``acks_late``, a Sidekiq or
Oban reaper), driven the way a new
user drives it: ``harness init --provider stripe --events stripe:checkout.session.completed``,
then ``harness run`` of the hazards that fit, each verdict read against the run's journal.

* A payout call slower than the lease: the job is visible again and another worker pays it
  too. ``no_duplicate_effects`` fails naming the checkouts the journal shows written twice, and
  says which were made again before the double had answered the first call (it said nothing of
  it: only "2 effects: POST /payouts eff_4, eff_9"); renewing the lease, or an Idempotency-Key
  from the job id, passes, as every variant passes a duplicate storm.
* An outage longer than a job's attempts: the job is dead-lettered after Stripe heard 200.
  ``no_lost_events`` fails naming them, said to be tried and given up (it said "if it works
  slower than that … raise the settle quiet").
* A worker process killed after a payout, before its job was marked done
  (tests/gallery/reaped_jobs.py): the job is reaped and paid again. ``no_duplicate_effects``
  fails naming them, nothing lost — where the clean run's twins, paid twice the same way, were
  learned as owing two payouts and each checkout paid once here was called lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.core._model import Effect, Outcome
from harness.history import History, load_all

from .test_gallery import said
from .test_gallery_round8 import hazards, project
from .test_gallery_round10 import CHECKOUTS, STRIPE, lost, written_twice

pytestmark = pytest.mark.integration


def _journal(cwd: Path) -> dict[str, History]:
    [db] = (cwd / "harness-runs").glob("*.db")
    return {run.info.scenario: run for run in load_all(db)}


def _made_while_open(run: History) -> set[str]:
    """The events with a write made again before the double could have answered an earlier
    one of theirs, which arrived in the slow fault's window (held ``latency - jitter`` s)."""
    [slow] = [f for f in run.faults if f.mode == "slow"]
    held = float(slow.params["latency"]) - float(slow.params["jitter"])  # type: ignore[arg-type]
    writes: dict[str, list[Effect]] = {}
    for e in sorted(run.effects, key=lambda e: e.at):
        for eid in e.event_ids:
            writes.setdefault(eid, []).append(e)
    return {
        eid
        for eid, made in writes.items()
        if any(
            slow.start <= a.at < slow.end and a.at < b.at < a.at + held
            for i, a in enumerate(made)
            for b in made[i + 1 :]
        )
    }


@pytest.mark.parametrize("hold", ["plain", "renewed", "keyed"])
def test_a_job_whose_lease_a_slow_payout_outlasts_is_paid_again_by_another_worker(
    tmp_path: Path, hold: str
) -> None:
    env = {**STRIPE, "LEASED_JOBS": hold}
    with project(tmp_path, "leased_jobs", "/webhooks/stripe", env, CHECKOUTS):
        _, found = hazards(tmp_path, "duplicate-storm", "slow-downstream", env=STRIPE)
    runs = _journal(tmp_path)
    for name in ("no_lost_events", "no_duplicate_effects"):
        storm = found["duplicate-storm"][name]
        assert storm["status"] == "pass", said(storm)
    assert not lost(runs["slow-downstream"])
    twice = written_twice(runs["slow-downstream"])
    repeated = found["slow-downstream"]["no_duplicate_effects"]
    if hold != "plain":
        assert not twice, sorted(twice)
        assert repeated["status"] == "pass", said(repeated)
        return
    assert twice, "no job outlasted its lease: nothing paid twice"
    assert repeated["status"] == "fail", said(repeated)
    assert repeated["summary"].startswith(f"{len(twice)} of 30 events produced duplicate")
    assert set(repeated["evidence"]["events"]) <= twice
    held = _made_while_open(runs["slow-downstream"])
    assert held, "no payout was made again while its first call was open"
    which = "all" if held == twice else f"{len(held):,}"
    assert (
        f"; {which} of them made again before the double had answered the first call"
        in (repeated["summary"])
    ), said(repeated)
    assert (
        "a job whose lease (visibility timeout) ran out while its call was still open"
        in (repeated["summary"])
    )
    shown = [line for line in repeated["evidence"]["lines"] if "still open" in line]
    assert shown, said(repeated)


def _tries(run: History, events: Sequence[str]) -> set[int]:
    """How many calls each of ``events`` had, all refused (0 if one was committed)."""
    counts = {}
    for eid in events:
        mine = [e for e in run.effects if eid in e.event_ids]
        counts[eid] = 0 if any(e.committed for e in mine) else len(mine)
    return set(counts.values())


def test_jobs_dead_lettered_in_an_outage_are_lost_and_said_given_up(tmp_path: Path) -> None:
    """Three runs, 0.1 s and 0.2 s apart, then the dead-letter list: each checkout caught by
    the outage is lost though Stripe heard 200, and the verdict says it was tried and given up,
    not that the target may be slower than the settle quiet."""
    with project(tmp_path, "leased_jobs", "/webhooks/stripe", STRIPE, CHECKOUTS):
        _, found = hazards(tmp_path, "downstream-outage", env=STRIPE)
    run = _journal(tmp_path)["downstream-outage"]
    missing = lost(run)
    assert missing, "the outage refused no call: nothing dead-lettered"
    assert _tries(run, sorted(missing)) == {3}  # each given up after its ATTEMPTS
    verdict = found["downstream-outage"]["no_lost_events"]
    assert verdict["status"] == "fail", said(verdict)
    accepted = len({d.event_id for d in run.deliveries if d.outcome is Outcome.OK})
    assert verdict["summary"].startswith(f"{len(missing)} of {accepted} accepted events")
    assert set(verdict["evidence"]["events"]) <= missing
    assert (
        "each of these was tried 3 times, every call refused, and none again in the"
        in (verdict["summary"])
    ), said(verdict)
    assert (
        "it tried them and gave them up (a retry limit: a dead-letter queue" in (verdict["summary"])
    )
    assert "raise the settle quiet" not in verdict["summary"], said(verdict)
    assert found["downstream-outage"]["no_duplicate_effects"]["status"] == "pass"


@pytest.mark.parametrize("keyed", [False, True], ids=["plain", "keyed"])
def test_a_job_whose_worker_died_after_its_payout_is_reaped_and_paid_again(
    tmp_path: Path, keyed: bool
) -> None:
    """tests/gallery/reaped_jobs.py: the worker process is killed after every tenth payout,
    before it marks the job done; once its lease runs out the restarted worker pays it again.
    A duplicate, each named, nothing lost — and not said to be made while the first call was
    open (it had been answered). The clean run's worker died the same way, and its twins paid
    twice were learned as owing two payouts: every checkout of theirs paid once here was 'lost:
    only 1 of 2 POST /payouts'. Keyed, the second payout is answered with the first."""
    env = {**STRIPE, **({"REAPED_JOBS": "keyed"} if keyed else {})}
    with project(tmp_path, "reaped_jobs", "/webhooks/stripe", env, CHECKOUTS):
        # A worker's restart (a Python process) and its lease pass with no call: on a loaded
        # machine more than a second, the default quiet, and the jobs it held were called lost.
        _, found = hazards(tmp_path, "duplicate-storm", "--settle-quiet", "5", env=STRIPE)
    run = _journal(tmp_path)["duplicate-storm"]
    verdicts = found["duplicate-storm"]
    assert not lost(run)
    assert verdicts["no_lost_events"]["status"] == "pass", said(verdicts["no_lost_events"])
    twice = written_twice(run)
    repeated = verdicts["no_duplicate_effects"]
    if keyed:
        assert not twice, sorted(twice)
        assert repeated["status"] == "pass", said(repeated)
        return
    assert twice, "no worker died between a payout and its job's end"
    assert repeated["status"] == "fail", said(repeated)
    events = len(run.events)
    assert repeated["summary"].startswith(f"{len(twice)} of {events} events produced duplicate")
    assert set(repeated["evidence"]["events"]) <= twice
    assert "still open" not in said(repeated), said(repeated)
