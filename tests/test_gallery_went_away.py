"""A worker process that dies and is forked again, seen by the run (tests/gallery/restarts_midrun).

Each worker acknowledges its orders, queues them in memory and dies after its fifth; deliveries
in flight as it dies are reset. ``target_available`` fails on those resets, and that is the
one failure they are: ``ack_within`` failed on them too ('2 of 42 deliveries over the 2 s
budget (0 slow answers, 0 timed out, 2 reset)'), though no ack was slow. The orders lost with a
dead worker were told "raise the settle quiet" (maybe late); ``no_lost_events`` now names the
restart the run saw (``invariants/_went_away``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.core._model import CONNECTION_BROKE, Outcome
from harness.history import load_all

from .test_gallery import SCENARIOS, automation, run, said, verdicts

pytestmark = pytest.mark.integration


def test_a_restarted_worker_is_named_by_the_loss_and_its_resets_counted_once(
    tmp_path: Path,
) -> None:
    options = ("--die-after", "5", "--work", "0.05")
    with automation("restarts_midrun", "/webhook/orders", options=options) as target:
        done, report = run(target, str(SCENARIOS / "orders-worker-restarted-burst.yaml"), tmp_path)
    found = verdicts(report)
    [h] = load_all(tmp_path / "journal.db")
    reset = {d.id for d in h.deliveries if (d.error or "").startswith(CONNECTION_BROKE)}
    assert reset, "no delivery was reset as a worker died"
    available = found["target_available"]
    assert available["status"] == "fail", said(available)
    # Every reset counted once: in one "(N reset)", or split where the last restart came as the
    # run ended ("stopped answering at 1.99 s: … (1 reset); before that, … (17 reset)").
    run_part = available["summary"].split("; during the clean baseline run")[0]
    counted = [int(n) for n in re.findall(r"\((\d+) reset\)", run_part)]
    assert sum(counted) == len(reset), said(available)
    acks = found["ack_within"]
    assert f"({len(reset)} reset: broken before any answer, no ack to time)" in acks["summary"]
    assert not reset & set(acks["evidence"]["deliveries"]), said(acks)
    if acks["status"] == "fail":  # a loaded machine's slow answers, never a reset
        assert "(0 slow answers" not in acks["summary"], said(acks)
    lost = found["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    paid = {i for e in h.effects if e.committed for i in e.event_ids}
    accepted = {d.event_id for d in h.deliveries if d.outcome is Outcome.OK}
    assert set(lost["evidence"]["events"]) <= accepted - paid, said(lost)
    assert "before the target went away" in lost["summary"], said(lost)
    # "… and answered again after each: its process died and was started again: work it held
    # in memory …", or where the last restart came as the run ended "… and answered nothing
    # after the last: its process died: work it held in memory …" (.ci/run's load).
    assert re.search(
        r"its process died(?: and was started again)?: work it held in memory, queued or in "
        r"flight, died with the process",
        lost["summary"],
    ), said(lost)
    assert done.code == 1


def test_a_restart_between_deliveries_is_not_told_to_raise_the_quiet_alone(
    tmp_path: Path,
) -> None:
    """Orders 125 ms apart, each worker dying 50 ms after its fifth answer: no delivery is in
    flight as it dies, so none fails, and the orders it had queued are gone with nothing the
    sender sees. The loss said only "if it works slower than that …, raise the settle quiet"
    (5 of the standard suite's runs on this automation): the run cannot tell late from lost
    here, and says so, naming the restart it could not see as one way to lose them."""
    options = ("--die-after", "5")
    with automation("restarts_midrun", "/webhook/orders", options=options) as target:
        done, report = run(
            target,
            str(SCENARIOS / "orders-worker-restarted.yaml"),
            tmp_path,
            "--time-scale",
            "0.15",
        )
    found = verdicts(report)
    [h] = load_all(tmp_path / "journal.db")
    lost = found["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    paid = {i for e in h.effects if e.committed for i in e.event_ids}
    accepted = {d.event_id for d in h.deliveries if d.outcome is Outcome.OK}
    assert set(lost["evidence"]["events"]) <= accepted - paid, said(lost)
    if any(d.status is None for d in h.deliveries):  # a loaded machine: one was in flight
        assert "before the target went away" in lost["summary"], said(lost)
    else:
        assert (
            "in a process that then ended (this run cannot tell which: a crash, an OOM kill or "
            "a restart between deliveries fails none of them and leaves no other trace here — "
            "look in the target's log for one during the run)"
        ) in lost["summary"], said(lost)
    assert done.code == 1
