"""A target gone mid-run (engine/_gone): the run stops sending once the target answers nothing
and calls nothing for a while, is judged for what it recorded, and no later scenario is run.

Before, a target that hung made every delivery wait out its timeout: a clean run sends one event
at a time, and 200 of them at 5 s each held ``harness run standard`` 17 minutes in one scenario
(tests/gallery/fetch_upsert.py with its log pipe full), then as long in the next.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.core._model import (
    CONNECT_FAILED,
    CONNECTION_BROKE,
    NO_ANSWER_WITHIN,
    STOPPED_MARK,
    UNAVAILABLE,
    Delivery,
    Outcome,
)
from harness.engine._gone import GONE_AFTER, GONE_QUIET, GoneWatch
from harness.history import load_all

from .conftest import harness

# --- the rule, on a clock of the test's own ---------------------------------------------------


@dataclass
class Double:
    effects_recorded: int = 0
    in_flight: int = 0


class Watched:
    def __init__(self) -> None:
        self.now = 0.0
        self.double = Double()
        self.stops = 0
        self.watch = GoneWatch(lambda: self.now, [self.double], self.stop)  # type: ignore[list-item]
        self.n = 0

    def stop(self) -> None:
        self.stops += 1

    def unanswered(self, after: float, error: str = f"{NO_ANSWER_WITHIN} 5 s") -> None:
        """A delivery sent now that got no answer, ``after`` seconds later."""
        self.n += 1
        sent, self.now = self.now, self.now + after
        outcome = Outcome.FAILED if error.startswith(CONNECT_FAILED) else Outcome.INDETERMINATE
        d = Delivery(f"dlv_{self.n}", "evt_1", 1, sent, sent, None, None, outcome, error)
        self.watch.delivery(d)

    def answered(self, status: int = 200) -> None:
        self.n += 1
        d = Delivery(f"dlv_{self.n}", "evt_1", 1, self.now, self.now, self.now, status, Outcome.OK)
        self.watch.delivery(d)


def test_a_target_answering_nothing_and_calling_nothing_is_gone_once() -> None:
    w = Watched()
    for _ in range(GONE_AFTER - 1):
        w.unanswered(GONE_QUIET)  # long quiet, but too few in a row
    assert w.stops == 0 and w.watch.reason is None
    w.unanswered(1.0)
    assert w.stops == 1
    assert w.watch.reason == (
        f"none of the last {GONE_AFTER} deliveries was answered ({GONE_AFTER} timed out, from "
        f"dlv_1 on) and no downstream call came for {(GONE_AFTER - 1) * GONE_QUIET + 1:.0f} s"
    )
    w.unanswered(1.0)
    assert w.stops == 1  # stopped once


def test_many_unanswered_within_the_quiet_are_not_gone() -> None:
    # A burst of 200 timing out together: the target may be busy, not gone, so far.
    w = Watched()
    for _ in range(200):
        w.unanswered(0.1)
    assert w.stops == 0
    w.unanswered(GONE_QUIET)
    assert w.stops == 1


@pytest.mark.parametrize("life", ["answer", "4xx", "call", "held call"])
def test_any_sign_of_life_starts_the_count_again(life: str) -> None:
    w = Watched()
    for _ in range(GONE_AFTER - 1):
        w.unanswered(GONE_QUIET / GONE_AFTER)
    if life == "answer":
        w.answered()
    elif life == "4xx":
        w.answered(401)
    elif life == "call":
        w.double.effects_recorded += 1
    else:
        w.double.in_flight = 1
    w.unanswered(GONE_QUIET)  # the first of a new count (or still alive: a call held open)
    for _ in range(GONE_AFTER - 2):
        w.unanswered(1.0)
    assert w.stops == 0, w.watch.reason


def test_connections_refused_or_reset_count_and_say_so() -> None:
    w = Watched()
    w.unanswered(0.0, f"{CONNECT_FAILED}: Connection refused")
    w.unanswered(0.0, f"{CONNECTION_BROKE}: reset")
    for _ in range(GONE_AFTER - 2):
        w.unanswered(GONE_QUIET / 2, f"{CONNECT_FAILED}: Connection refused")
    assert w.stops == 1
    assert "(4 could not connect, 1 reset, from dlv_1 on)" in (w.watch.reason or "")


def test_a_delivery_ended_by_the_sender_is_not_the_targets() -> None:
    w = Watched()
    for _ in range(GONE_AFTER + 2):
        w.unanswered(GONE_QUIET, "the load test stopped its user")
    assert w.stops == 0


# --- through `harness run`, against a process that never answers ------------------------------

PAYMENTS = """
name: {name}
description: Sixty payments over six seconds, a second of patience each.
model: ledger
source:
  synthetic:
    example: {{id: evt_1, type: order.paid, sequence: 1, occurred_at: "2026-01-01T00:00:00Z",
              data: {{order_id: ord_1, amount: 1999, currency: usd}}}}
    events: 60
    records: 60
    over: 6s
    id: $.id
    key: $.data.order_id
    type: $.type
    sequence: $.sequence
    time: $.occurred_at
invariants: [no_lost_events, no_duplicate_effects]
downstreams:
  - name: api
    routes:
      - {{method: POST, path: /payouts, status: 201}}
delivery: {{signing: standard-webhooks, secret_env: HARNESS_SECRET, timeout: 1s}}
settle: {{quiet: 0.5s, deadline: 10s}}
"""


@pytest.fixture
def hung(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A target that takes every connection and never answers (a deadlock, a full log pipe):
    a real listening socket on loopback, in a thread of its own. The in-process runs take it
    as gone after 5 s of silence, not GONE_QUIET's 30: the rule's own seconds are the tests
    above, on a clock of their own; these show what a run does once it holds (the 30 s were
    30 of the run's test's 36 s; the year's waits out its deliveries' timeouts too)."""
    monkeypatch.setattr("harness.engine._gone.GONE_QUIET", 5.0)
    server = socket.create_server(("127.0.0.1", 0), backlog=256)
    held: list[socket.socket] = []

    def take() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:  # closed: the test is over
                return

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hooks/payments"
    finally:
        server.close()
        for conn in held:
            conn.close()
        thread.join(timeout=5)


@pytest.mark.long  # a hung target's silence: started first, it overlaps the rest
@pytest.mark.timeout(120)
def test_a_hung_target_stops_the_run_judges_it_and_runs_nothing_after(
    hung: str, tmp_path: Path
) -> None:
    for name in ("payments", "refunds"):
        (tmp_path / f"{name}.yaml").write_text(PAYMENTS.format(name=name))
    journal, report = tmp_path / "run.db", tmp_path / "report.json"
    done = harness(
        "run",
        str(tmp_path / "payments.yaml"),
        str(tmp_path / "refunds.yaml"),
        "--target",
        hung,
        "--downstream",
        "127.0.0.1:0",  # not the default 9100, which another test may be listening on
        "--journal",
        str(journal),
        "--report",
        str(report),
    )
    # A finding about the automation, target_available's: exit 1, not 3.
    assert done.code == 1, done.out + done.err
    said = " ".join(done.err.split())
    assert re.search(
        r"the target stopped answering in the clean run of payments — none of the last \d+ "
        r"deliveries was answered \(\d+ timed out, from dlv_000001 on\) and no downstream call "
        r"came for \d+ s: hung or gone; the run stopped sending; not run: 1 scenario \(refunds\)",
        said,
    ), said
    assert f"`curl -i -X POST {hung}` should get an answer" in said
    # The clean run, judged alone: what it saw of the target.
    [run] = json.loads(report.read_text())["runs"]
    assert run["status"] == UNAVAILABLE
    found = {v["invariant"]: v for v in run["verdicts"]}
    assert found["target_available"]["status"] == "fail", found["target_available"]
    assert "no delivery was ever answered" in json.dumps(found["target_available"])
    [history] = load_all(journal)
    assert history.status == UNAVAILABLE and history.info.scenario == "payments-baseline"
    [stopped] = [m for m in history.marks if m.name == STOPPED_MARK]
    assert stopped.detail.startswith("none of the last ")
    # It stopped: fewer deliveries than the 60 planned, one a second of patience.
    assert GONE_AFTER <= len(history.deliveries) < 60


@pytest.mark.long
@pytest.mark.timeout(180)
def test_a_hung_target_stops_the_year_and_says_how_to_go_on(hung: str, tmp_path: Path) -> None:
    journal = tmp_path / "year.db"
    done = harness(
        "run", "year", "--no-project", "--target", hung, "--downstream", "127.0.0.1:0",
        "--events-per-day", "20", "--day-seconds", "0.4", "--months", "2",
        "--journal", str(journal), "--report", str(tmp_path / "year.json"),
    )  # fmt: skip
    assert done.code == 1, done.out + done.err
    said = " ".join(done.err.split())
    assert "the target stopped answering in the clean run of year — none of the last " in said
    assert f"go on with `harness run year --resume {journal}`" in said, said
    assert (tmp_path / "year.json").is_file()
    [history] = load_all(journal)
    assert history.status == UNAVAILABLE
