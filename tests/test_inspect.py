"""``harness inspect``: a real run's journal listed in the terminal, filtered. The run's
downstream is a pass-through double forwarding to a second process (a standalone double on
loopback) that stands in for the real API, so the listing shows the real answers too."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.cli._processes import free_port

from .conftest import SECRET, harness, listening, run_against, start_automation

pytestmark = pytest.mark.integration

SCENARIO = """\
name: passing
model: ledger
source:
  synthetic:
    example:
      id: evt_1
      type: order.paid
      occurred_at: "2026-01-01T00:00:00Z"
      sequence: 1
      data:
        order_id: ord_1
        customer: {{name: Ada Lovelace, email: ada@example.com}}
        amount: 1999
        currency: usd
        note: Gift wrap please
    events: 6
    records: 3
    over: 1s
    id: $.id
    key: $.data.order_id
    type: $.type
    sequence: $.sequence
    time: $.occurred_at
invariants: [no_lost_events]
downstreams:
  - name: api
    forward_to: http://127.0.0.1:{port}
faults:
  - {{downstream: api, mode: commit-then-fail, at: 0s, for: 0.8s, status: 502}}
delivery: {{signing: standard-webhooks, secret_env: HARNESS_SECRET, timeout: 5s}}
settle: {{quiet: 1s, deadline: 20s}}
"""


@pytest.fixture(scope="module")
def real_api() -> Iterator[int]:
    """A standalone double in its own process: the "real API" the pass-through forwards to."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", "downstream", "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    listening(port, 15, poll=0.05)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture(scope="module")
def journal(real_api: int, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real run for the module (the sound demo, the real API, the run: ~1.3 CPU-s): its
    tests only read the journal."""
    tmp = tmp_path_factory.mktemp("inspect")
    scenario = tmp / "passing.scenario.yaml"
    scenario.write_text(SCENARIO.format(port=real_api), encoding="utf-8")
    path = tmp / "run.db"
    sound = start_automation("sound", tmp / "sound")
    try:
        done = run_against(sound, scenario, path)
    finally:
        sound.service.stop()
    assert done.code in (0, 1), done.err
    return path


def test_inspect_lists_runs_then_a_run_in_time_order_with_real_answers(journal: Path) -> None:
    listed = harness("inspect", str(journal))
    assert listed.code == 0, listed.err
    runs = [line for line in listed.out.splitlines() if "@" in line and " " not in line]
    assert len(runs) == 2 and "name one" in listed.out  # the clean run and the run
    run = next(r for r in runs if not r.startswith("passing-baseline"))
    shown = harness("inspect", str(journal), run.split("@")[0] + "@")  # a prefix will do
    assert shown.code == 0, shown.err
    lines = shown.out.splitlines()
    assert lines[0].startswith(run) and "6 events" in lines[0]
    deliveries = [line for line in lines if " delivery " in line]
    effects = [line for line in lines if " effect " in line]
    assert len(deliveries) >= 6 and len(effects) >= 6
    times = [float(line.split("s", 1)[0]) for line in lines[1:] if re.match(r"\s*\d", line)]
    assert times == sorted(times)
    # The pass-through: what the real API answered, beside what the automation was told.
    real = [line for line in lines if "real answer" in line]
    assert len(real) == len(effects) and all("real answer 201" in line for line in real)
    assert SECRET not in shown.out and "ada@example.com" not in shown.out


def test_inspect_filters_by_route_status_and_event(journal: Path) -> None:
    run = [r for r in harness("inspect", str(journal)).out.splitlines() if r.startswith("passing@")]
    by_route = harness("inspect", str(journal), run[0], "--route", "POST /payouts")
    lines = by_route.out.splitlines()[1:]
    assert lines and not any(" delivery " in line for line in lines)
    assert all("POST /payouts" in line for line in lines if " effect " in line)
    failed = harness("inspect", str(journal), run[0], "--status", "5xx")
    shown = [line for line in failed.out.splitlines()[1:] if re.match(r"\s*\d", line)]
    # The fault's window failed the first calls with 502; the automation retried them. Each
    # says which window answered it, as a repeat's verdict reads it (none held it open).
    assert shown and all("-> 502" in line for line in shown)
    assert all(
        line.endswith("  · api commit-then-fail fault") for line in shown if " effect " in line
    )
    assert "fault" not in "".join(line for line in lines if "-> 201" in line)
    first = re.search(r"(evt_\w+)", by_route.out)
    assert first is not None
    one = harness("inspect", str(journal), run[0], "--event", first.group(1))
    items = [line for line in one.out.splitlines()[1:] if re.match(r"\s*\d", line)]
    assert items and all(first.group(1) in line for line in items)
    assert any(" delivery " in line for line in items)
    none = harness("inspect", str(journal), run[0], "--event", "evt_nothing")
    assert "nothing matches" in none.out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--status", "5x"], "--status"),
        (["--route", "POST payouts"], "--route"),
        (["nosuchrun"], "no run 'nosuchrun'"),
    ],
)
def test_bad_inspect_inputs_exit_2(journal: Path, args: list[str], says: str) -> None:
    done = harness("inspect", str(journal), *args)
    assert done.code == 2 and says in done.err and "Traceback" not in done.err


def test_inspect_of_a_missing_file_exits_2(tmp_path: Path) -> None:
    done = harness("inspect", str(tmp_path / "none.db"))
    assert done.code == 2 and "no such journal" in done.err
