"""Three Stripe receivers written as FastAPI's docs teach, served by uvicorn (tests/gallery/
background_tasks.py, customer_then_order.py, fire_and_forget.py), driven the way a new user drives
theirs — ``harness init`` for Stripe checkouts, then ``harness run`` of a hazard — or with a
scenario file, each verdict read against the run's journal.

``BackgroundTasks`` under ``uvicorn --workers 2``: every order comes after its 200 (late work,
never called lost), the ``seen`` set is one per process (copies landing on the other are ordered
again), and an order the CRM refused is lost, the event marked seen. Two writes per event in the
endpoint, 500 on an error: a customer made and its order refused is made again by Stripe's
retry (a partial write, named, not a loss); a write applied and answered 502, made again. The
deliveries after an app's 500 must not be reset by the harness's own connection reuse (they
were: target_available failed, '6 of the 60 deliveries got no answer (6 reset)'). Each try
bounded by ``asyncio.wait_for`` and tried again at its timeout: made while the first was open.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.history import History, load_all

from .conftest import free_port, start_module
from .test_gallery import QUICK, SCENARIOS, Target, automation, run, said, verdicts
from .test_gallery_round8 import hazards, project
from .test_gallery_round10 import written_twice

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0fastapi0not0real"}  # the test's own
CHECKOUTS = "stripe:checkout.session.completed"


@contextmanager
def watched(name: str, env: dict[str, str]) -> Iterator[tuple[Target, str]]:
    """``automation(name, "/webhooks/stripe", env)`` (one uvicorn process), with its pid for
    ``--target-pid``: an answer late because the machine gave the app's CPU to others is told
    as such."""
    port = free_port()
    args = ["--port", "0", "--downstream", f"http://127.0.0.1:{port}"]
    service = start_module(name, f"tests.gallery.{name}", args, env)
    try:
        yield Target(service.url + "/webhooks/stripe", port), str(service.process.pid)
    finally:
        service.stop()


def judged_runs(cwd: Path) -> dict[str, History]:
    """Each hazard's run (not its clean run) in the project's journal, by scenario."""
    [db] = (cwd / "harness-runs").glob("*.db")
    return {r.info.scenario: r for r in load_all(db) if r.baseline is not None}


@pytest.mark.long  # 17-27 s here: two spawned uvicorn workers, and 60 events' clean run
def test_background_tasks_in_two_processes_order_copies_twice_and_late_work_is_not_lost(
    tmp_path: Path,
) -> None:
    """duplicate-storm, each order 50 ms after its 200 in the process that took the copy:
    late work is not lost, and a copy that landed on the other process is ordered again."""
    env = {**STRIPE, "LOOKUP": "0.05"}
    with project(tmp_path, "background_tasks", "/webhooks/stripe", env, CHECKOUTS):
        done, found = hazards(tmp_path, "duplicate-storm", env=STRIPE)
    storm = found["duplicate-storm"]
    late, dup = storm["no_lost_events"], storm["no_duplicate_effects"]
    assert late["status"] == "pass", said(late)  # every order came after its ack: late, not lost
    twice = written_twice(judged_runs(tmp_path)["duplicate-storm"])
    if not twice:  # every copy met the process that took its checkout's first
        assert dup["status"] == "pass", said(dup)
        return
    assert dup["status"] == "fail", said(dup)
    assert dup["summary"].startswith(f"{len(twice)} of 60 events produced duplicate effects")
    assert set(dup["evidence"]["events"]) <= twice, said(dup)
    assert done.code == 1


def test_a_customer_made_again_after_its_order_was_refused_is_a_partial_write_not_a_loss(
    tmp_path: Path,
) -> None:
    """checkouts-orders-outage: the CRM refuses orders alone for 0.6 s; the endpoint answers
    500 and Stripe's retry makes the customer again, then the order."""
    with automation("customer_then_order", "/webhooks/stripe", STRIPE) as target:
        done, report = run(
            target, str(SCENARIOS / "checkouts-orders-outage.yaml"), tmp_path, *QUICK, env=STRIPE
        )
    found = verdicts(report)
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    dup = found["no_duplicate_effects"]
    [judged] = [r for r in load_all(tmp_path / "journal.db") if r.baseline is not None]
    twice = written_twice(judged)
    if not twice:  # no attempt made its customer and met the refused order (a loaded machine)
        assert dup["status"] == "pass", said(dup)
        return
    assert dup["status"] == "fail", said(dup)
    assert "made again by the sender's redelivery after a partial write" in dup["summary"]
    assert set(dup["evidence"]["events"]) <= twice, said(dup)
    customers = Counter(
        e for eff in judged.effects if eff.committed and eff.path == "/customers"
        for e in eff.event_ids
    )  # fmt: skip
    assert all(customers[e] == 2 for e in dup["evidence"]["events"]), customers
    assert found["final_state_matches_baseline"]["status"] == "fail"
    assert done.code == 1


def test_deliveries_after_a_fastapi_500_are_answered_and_writes_applied_are_made_again(
    tmp_path: Path,
) -> None:
    """ambiguous-commit for 5 real seconds: each customer applied and answered 502, the
    endpoint's 500 (uvicorn closes the connection after it), Stripe's retry after the window
    makes the customer again. Every delivery is answered: none reset by the harness reusing a
    connection uvicorn closed. The built-in hazard's 0.75 s window was missed by an app short
    of CPU on a loaded machine: its calls came after it, and nothing was made again."""
    scenario = str(SCENARIOS / "checkouts-customers-applied-502.yaml")
    with watched("customer_then_order", STRIPE) as (target, pid):
        done, report = run(target, scenario, tmp_path, *QUICK, "--target-pid", pid, env=STRIPE)
    found = verdicts(report)
    assert found["target_available"]["status"] == "pass", said(found["target_available"])
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    [judged] = [r for r in load_all(tmp_path / "journal.db") if r.baseline is not None]
    met = {
        e for eff in judged.effects if eff.committed and eff.status == 502 for e in eff.event_ids
    }
    assert met, "no write met the fault: the window closed before the app's calls"
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "fail", said(dup)
    assert "made again a write the API had applied but answered 502" in dup["summary"]
    assert met <= set(dup["evidence"]["events"]) <= written_twice(judged), said(dup)
    assert done.code == 1


def test_an_order_tried_again_at_its_own_wait_for_timeout_is_made_while_the_first_is_open(
    tmp_path: Path,
) -> None:
    """slow-downstream for 8 real seconds, ``MODE=wait_for``: each try bounded by
    ``asyncio.wait_for(…, 0.5)`` and tried again on the timeout, while the CRM takes 2.2 s and
    applies every try: the orders made again are named for what they are — made before the
    first call was answered. In the built-in hazard's 1 s window an app short of CPU made its
    later tries after it (or timed them out before they left): no order was made twice."""
    env = {**STRIPE, "MODE": "wait_for"}
    scenario = str(SCENARIOS / "checkouts-crm-slow-tried-again.yaml")
    with watched("fire_and_forget", env) as (target, pid):
        done, report = run(target, scenario, tmp_path, *QUICK, "--target-pid", pid, env=STRIPE)
    found = verdicts(report)
    assert found["no_lost_events"]["status"] == "pass", said(found["no_lost_events"])
    [judged] = [r for r in load_all(tmp_path / "journal.db") if r.baseline is not None]
    # The orders name their checkout alone (the record's key): the events of the records
    # ordered more than once, one event a record here.
    orders = Counter(eff.key for eff in judged.effects if eff.committed)
    twice = {e.id for e in judged.events if orders[e.key] > 1}
    assert twice, "no order was tried again: no try of the app met the CRM's slow answers"
    dup = found["no_duplicate_effects"]
    assert dup["status"] == "fail", said(dup)
    assert dup["summary"].startswith(f"{len(twice)} of 6 events produced duplicate effects")
    assert set(dup["evidence"]["events"]) == twice, said(dup)
    assert "made again before the double had answered the first call" in dup["summary"]
    assert "a client timeout shorter than the call" in dup["summary"], said(dup)
    assert done.code == 1


def test_an_order_posted_again_for_a_redelivery_after_an_applied_502_is_not_called_a_retry(
    tmp_path: Path,
) -> None:
    """ambiguous-commit, ``MODE=task``: the endpoint answers 200 and posts the order in a task
    that never retries; the CRM applies the post and answers 502, and the sender's redelivery
    posts it again. No retry was made: the note said "a retry after a failure that was no
    failure — the automation's own, or …", as of huey's task retried a second after its 502.
    Each event had two deliveries here, so the note says the write was made again by the
    automation's own retry or its work for another delivery, and that one run does not tell
    which."""
    with project(tmp_path, "fire_and_forget", "/webhooks/stripe", STRIPE, CHECKOUTS):
        done, found = hazards(tmp_path, "ambiguous-commit", env=STRIPE)
    dup = found["ambiguous-commit"]["no_duplicate_effects"]
    assert dup["status"] == "fail", said(dup)
    run_ = judged_runs(tmp_path)["ambiguous-commit"]
    twice = written_twice(run_)
    assert dup["summary"].startswith(f"{len(twice)} of 30 events produced duplicate effects")
    assert "a retry after a failure" not in dup["summary"], said(dup)
    assert done.code == 1
    # Whether a post the API applied and answered 502 was made again after that answer is the
    # machine's timing (a loaded CI run had none: the copies' own cause then): said where so.
    writes = sorted((e for e in run_.effects if e.method == "POST"), key=lambda e: e.at)
    redone = any(
        w.committed
        and w.status == 502
        and any(later.at > w.at and later.event_ids == w.event_ids for later in writes)
        for w in writes
    )
    if not redone:
        return
    assert "made again a write the API had applied but answered 502" in dup["summary"]
    assert (
        "by a retry of the automation's own or by its work for another delivery of the event "
        "(each was delivered 2 times): this run does not tell which"
    ) in dup["summary"], said(dup)
    assert "send an Idempotency-Key made from the event id" in dup["summary"], said(dup)
