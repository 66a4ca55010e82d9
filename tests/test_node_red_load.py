"""Node-RED's flows under the front doors a user reaches after ``harness run``: ``harness locust``
(docs/load-testing.md), each flow's project made by ``harness init`` as a user makes it, and
each verdict read against the run's own journal and against what the flow's nodes do.

- tests/node-red/batch.json, ``/hooks/stripe/batched``: Stripe checkouts answered at once,
  joined 10 to a call (or what came in 2 s), one ``POST /contacts/batch/upsert`` a batch, its
  answer looked at by nothing: a batch the API refused is lost, never retried; and ``harness
  explore`` (docs/explore.md) at ``/hooks/stripe/batched-by-count``, its join of 10 with no
  timeout, which fills across runs.
- tests/node-red/flow.json, ``/hooks/queued``: each webhook answered at once, its call queued
  behind a ``delay`` node (25 a second), one queue in arrival order; and ``/hooks/orders``, the
  API's status passed back, a flow that keeps nothing, under ``harness explore`` of a fault
  hazard.

Skipped only when npm cannot reach its registry to install Node-RED (tests/node_red.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

import harness

from .conftest import REPO, SECRET, Completed
from .conftest import harness as harness_cli
from .node_red import FILES, NodeRed, started
from .test_gallery_examples import ORDER  # a paid order, as the flow's nodes read it
from .test_locust import forked_locust  # noqa: F401
from .test_node_red import TIMEOUT, Run, red

__all__ = ["red"]  # the session's Node-RED install, a fixture shared with test_node_red

# One worker takes the module (conftest.py); its Locust forked from the Locust zygote.
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("forked_locust")]

# The secret, and this checkout's harness and Locust plugin for the Locust process it starts.
ENV = {
    "STRIPE_WEBHOOK_SECRET": SECRET,
    "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
}
# Bounded: the run ends when every planned delivery was answered, -t at the latest.
LOAD = ("--headless", "--only-summary", "--loglevel", "WARNING", "-t", "40s")


@pytest.fixture(scope="module")
def batch(red: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeRed]:
    with started(red, tmp_path_factory.mktemp("node-red"), FILES / "batch.json") as running:
        yield running


@pytest.fixture(scope="module")
def rated(red: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeRed]:
    with started(red, tmp_path_factory.mktemp("node-red")) as running:
        yield running


def project(
    node_red: NodeRed, hook: str, events: str, tmp_path: Path, provider: str | None = None
) -> None:
    """``harness init`` in ``tmp_path`` for the flow at ``hook``, events ``events`` (a library
    payload, whose provider it is, or an example file and ``provider``)."""
    provider = provider or events.split(":")[0]
    downstream = node_red.downstream.rsplit(":", 1)[1]
    init = harness_cli(
        "init", "--provider", provider, "--events", events, "--target", node_red.url + hook,
        "--downstream", f"api={downstream}", "--yes", cwd=tmp_path, env=ENV,
    )  # fmt: skip
    assert init.code == 0, init.out + init.err


def orders(tmp_path: Path) -> str:
    """A paid order written as the example file ``harness init --events`` takes."""
    example = tmp_path / "order.json"
    example.write_text(json.dumps(ORDER))
    return str(example)


def explore(node_red: NodeRed, scenario: str, examples: int, tmp_path: Path) -> Completed:
    """``harness explore scenario`` in the project in ``tmp_path``, ``examples`` at most."""
    return harness_cli(
        "explore", scenario, "--seed", "5", "--downstream", node_red.downstream,
        "--no-database", "--max-examples", str(examples), cwd=tmp_path, env=ENV,
    )  # fmt: skip


def load_test(
    node_red: NodeRed,
    hook: str,
    events: str,
    scenario: str,
    count: int,
    tmp_path: Path,
    provider: str | None = None,
    users: int = 10,
) -> Run:
    """``harness init`` for the flow at ``hook`` with ``events`` (``project``), then ``harness
    locust scenario --events count`` in that project with ``users``; its report and journal."""
    project(node_red, hook, events, tmp_path, provider)
    report, journal = tmp_path / "report.json", tmp_path / "run.db"
    done = harness_cli(
        "locust", scenario, "--seed", "5", "--events", str(count),
        "--downstream", node_red.downstream, "--report", str(report), "--journal", str(journal),
        "--", *LOAD, "-u", str(users), "-r", str(users), cwd=tmp_path, env=ENV,
    )  # fmt: skip
    assert report.is_file(), done.out + done.err + node_red.output()
    [found] = json.loads(report.read_text())["runs"]
    assert found["status"] == "complete", found
    [history] = harness.load_all(journal)
    return Run({}, found, {v["invariant"]: v for v in found["verdicts"]}, history)


@pytest.mark.timeout(TIMEOUT)
def test_a_load_test_of_a_fault_hazard_says_only_that_it_sends_no_retry(
    batch: NodeRed, tmp_path: Path
) -> None:
    # downstream-outage applied to a Stripe project: `harness run` sends Stripe's first retry,
    # and says so; a load test sends none. Its run said both, one after the other.
    r = load_test(
        batch, "/hooks/stripe/batched", "stripe:checkout.session.completed", "downstream-outage",
        40, tmp_path,
    )  # fmt: skip
    said = r.history.info.settings["adapted"]
    assert any("Run under Locust: none of the stripe retries is sent" in n for n in said), said
    assert not [n for n in said if "the run sends" in n], said
    assert r.history.info.settings["retries"] == []
    assert r.run["counts"]["deliveries"] == 40  # one request a planned delivery
    # What the flow did: every contact of a batch the API refused lost, nothing else.
    made = {i for e in r.history.effects if e.committed for i in e.event_ids}
    refused = {i for e in r.history.effects if not e.committed for i in e.event_ids}
    lost = {e.id for e in r.history.events} - made
    assert lost and lost <= refused, (lost, refused)
    assert r.verdicts["no_lost_events"]["status"] == "fail"


@pytest.mark.timeout(TIMEOUT)
def test_explore_refuses_a_join_that_fills_across_runs(batch: NodeRed, tmp_path: Path) -> None:
    # The join writes 10 contacts a call, whichever runs they came in: explore's probe (the
    # pool's 5 events, in a clean run and a run, twice) fills it across runs, each time alike,
    # and each example after would be judged on what those before it left in the join — an
    # example failed, and passed when replayed ("a race narrower than the schedule pins").
    project(batch, "/hooks/stripe/batched-by-count", "stripe:checkout.session.completed", tmp_path)
    done = explore(batch, "simultaneous-same-record", 3, tmp_path)
    assert done.code == 2, done.out + done.err
    assert (
        "wrote events of an earlier run in one call with this one's (POST /contacts/batch/upsert"
        in done.err
    )
    assert "it keeps state between runs" in done.err, done.err
    assert "Traceback" not in done.out + done.err


@pytest.mark.timeout(TIMEOUT)
def test_a_queue_in_arrival_order_is_told_it_took_the_newer_first(
    rated: NodeRed, tmp_path: Path
) -> None:
    # 200 payments of 50 orders from 40 users at once: a user's first delivery, sent first,
    # is answered 0.3-0.7 s later (its connection opened under load), after a newer payment
    # of its order sent after it. The flow answers each as it takes it and queues its call in
    # that order: the newer is written first. per_key_order was told only "worked at the same
    # time by more than one worker … or taken off a queue out of order", neither of which a
    # single Node-RED queue does.
    r = load_test(
        rated, "/hooks/queued", orders(tmp_path), "bulk-import-burst", 200, tmp_path, "none", 40
    )
    h = r.history
    made = {i: e.at for e in h.effects if e.committed for i in e.event_ids}
    assert len(made) == len(h.events)  # every call made, in the queue's order
    first = {d.event_id: d for d in sorted(h.deliveries, key=lambda d: -d.sent_at)}
    events = sorted(h.events, key=lambda e: (e.key, e.seq))
    answered_first = {
        older.key
        for older, newer in pairwise(events)
        if older.key == newer.key
        and made[older.id] > made[newer.id]
        and first[older.id].sent_at < first[newer.id].sent_at
        and (first[newer.id].answered_at or 0) < (first[older.id].answered_at or 0)
    }
    assert answered_first, "no record's newer payment was answered first: nothing to read"
    order = r.verdicts["per_key_order"]
    assert order["status"] == "fail", order
    assert (
        "the newer, sent after, was answered first (taken first, where it answers at once)"
        in (order["summary"])
    ), order["summary"]


@pytest.mark.timeout(TIMEOUT)
def test_explore_of_a_fault_hazard_is_not_refused_for_a_race_with_its_window(
    rated: NodeRed, tmp_path: Path
) -> None:
    # The probe for a target that keeps state sent the pool's events at once as the outage
    # opened: how many of the flow's calls met its 503s changed from one run to the next (3
    # orders of 9, then 4), and the flow, which keeps nothing, was refused as one that "keeps
    # state between runs". The probe runs without the scenario's fault windows; the search
    # keeps them.
    project(rated, "/hooks/orders", orders(tmp_path), tmp_path, "none")
    done = explore(rated, "downstream-outage", 2, tmp_path)
    assert "keeps state" not in done.err, done.err
    # The flow passes the API's 503 back: the first example, sent into the outage, fails.
    assert done.code == 1, done.out + done.err
    assert "fails no_server_errors" in done.out, done.out


def counted_join(red: Path, scenario: str, count: int, tmp_path: Path) -> Run:
    """``load_test`` of the join of 10 with no timeout in a Node-RED of its own: the join keeps
    what it holds from run to run."""
    with started(red, tmp_path / "node-red", FILES / "batch.json") as fresh:
        return load_test(
            fresh, "/hooks/stripe/batched-by-count", "stripe:checkout.session.completed",
            scenario, count, tmp_path,
        )  # fmt: skip


@pytest.mark.timeout(TIMEOUT)
def test_a_join_by_count_under_a_burst_is_told_it_holds_its_last_events(
    red: Path, tmp_path: Path
) -> None:
    # 45 checkouts from 10 users into the join of 10 with no timeout: 4 calls of 10, each
    # within ~50 ms of its last answer, and the last 5 held. A brisk run was read as "passed
    # these over" or "it stopped working — a worker that died"; a slow one as held, which it is.
    r = counted_join(red, "bulk-import-burst", 45, tmp_path)
    h = r.history
    made = [e for e in h.effects if e.committed]
    assert [len(e.event_ids) for e in made] == [10] * 4, made
    lost = r.verdicts["no_lost_events"]
    assert lost["status"] == "fail", lost
    assert "5 of 45 accepted events produced no effect (lost)" in lost["summary"], lost
    assert (
        "these were the last 5 it accepted, after every event it worked, and waited"
        in lost["summary"]
    ), lost["summary"]
    assert "held until more come (a batch written only when full" in lost["summary"]
    assert "passed these over" not in lost["summary"], lost["summary"]


@pytest.mark.timeout(TIMEOUT)
def test_a_join_by_count_under_a_duplicate_storm_is_not_said_to_deduplicate(
    red: Path, tmp_path: Path
) -> None:
    # 200 checkouts and their copies into the join of 10 with no timeout: each copy is a new
    # message, an item of whichever batch is filling — beside its twin in one call, in a later
    # call, or held in the last batch. No clean run under Locust says how many items a checkout
    # makes, and a copy beside its twin, or held, was counted skipped: "it deduplicates, but
    # its record … does not reach every copy" (4 runs of 4), of a join that skips nothing.
    r = counted_join(red, "duplicate-storm", 200, tmp_path)
    h = r.history
    accepted = sum(1 for d in h.deliveries if d.status == 200)
    items = [len(json.loads(e.body)["inputs"]) for e in h.effects if e.committed]
    assert set(items) == {10}, items  # every copy an item: 10 a call, the rest held
    assert 0 <= accepted - sum(items) < 10, (accepted, items)
    dup = r.verdicts["no_duplicate_effects"]
    assert dup["status"] == "fail", dup
    assert "it deduplicates" not in dup["summary"], dup["summary"]
    assert "once however many copies it accepted" not in dup["summary"]
    assert (
        "no copy of any event was skipped: nothing in this run shows that the automation "
        "deduplicates"
    ) in dup["summary"], dup["summary"]
