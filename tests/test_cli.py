"""The CLI as a user meets it: exit codes, one clear message for bad input, journals kept."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.history import load_all

from .conftest import REPO, SECRET, Automation, harness, harness_process

SMALL = """
name: small
model: ledger
source:
  synthetic:
    example: {id: evt_1, type: order.paid, sequence: 1, occurred_at: "2026-01-01T00:00:00Z",
              data: {order_id: ord_1, customer: {name: Ada Lovelace, email: ada@example.com},
                     amount: 10, currency: usd, note: hi there}}
    events: 12
    records: 4
    over: 0.5s
    id: $.id
    key: $.data.order_id
    sequence: $.sequence
    time: $.occurred_at
perturbations:
  - duplicate: {rate: 1.0, copies: 2}
settle: {quiet: 0.5s, deadline: 10s}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_scenarios_lists_builtins_one_line_each() -> None:
    r = harness("scenarios")
    assert r.code == 0
    lines = r.out.strip().splitlines()
    names = [line.split()[0] for line in lines]
    for n in (
        "duplicate-storm",
        "bulk-import-burst",
        "simultaneous-same-record",
        "out-of-order",
        "standard",
    ):
        assert n in names
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_unknown_scenario_suggests_nearest(tmp_path: Path) -> None:
    # As a process: exit 2 and the message through the entry point itself (`python -m harness`).
    r = harness_process("run", "dupliate-storm", "--target", "http://127.0.0.1:1/h", cwd=tmp_path)
    assert r.code == 2
    assert "did you mean 'duplicate-storm'" in r.err and "Traceback" not in r.err


def test_malformed_and_mistyped_yaml(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.scenario.yaml", "name: x\nsource: [unclosed\n")
    r = harness("run", str(bad), "--target", "http://127.0.0.1:1/h", cwd=tmp_path)
    assert r.code == 2 and "bad.scenario.yaml:" in r.err and "Traceback" not in r.err
    typed = write(tmp_path, "typed.scenario.yaml", SMALL.replace("events: 12", "events: many"))
    r = harness("run", str(typed), "--target", "http://127.0.0.1:1/h", cwd=tmp_path)
    assert r.code == 2
    assert "typed.scenario.yaml:9:" in r.err and "events" in r.err and "'many'" in r.err


def test_jsonl_line_that_is_not_json(tmp_path: Path) -> None:
    write(tmp_path, "events.jsonl", '{"id": "a", "key": "k", "payload": {}}\n{oops\n')
    sc = write(
        tmp_path,
        "rec.scenario.yaml",
        "name: rec\nsource:\n  recorded: {file: events.jsonl}\ndelivery: {signing: none}\n",
    )
    r = harness("run", str(sc), "--target", "http://127.0.0.1:1/h", cwd=tmp_path)
    assert r.code == 2 and "events.jsonl:2: not JSON" in r.err


def test_unreachable_target_exits_3(tmp_path: Path) -> None:
    r = harness("run", "duplicate-storm", "--target", "http://127.0.0.1:1/hooks", cwd=tmp_path)
    assert r.code == 3
    assert "cannot connect to the target http://127.0.0.1:1/hooks" in r.err


def test_target_outside_loopback_is_refused(tmp_path: Path) -> None:
    r = harness("run", "duplicate-storm", "--target", "https://api.example.com/h", cwd=tmp_path)
    assert r.code == 2 and "--allow-host api.example.com" in r.err


def test_missing_secret_says_which_variable(tmp_path: Path) -> None:
    r = harness(
        "run",
        "duplicate-storm",
        "--target",
        "http://127.0.0.1:1/h",
        cwd=tmp_path,
        env={"HARNESS_SECRET": ""},
    )
    assert r.code == 2 and "HARNESS_SECRET is not set" in r.err


def test_bad_downstream_address(tmp_path: Path) -> None:
    r = harness(
        "run",
        "duplicate-storm",
        "--target",
        "http://127.0.0.1:1/h",
        "--downstream",
        "127.0.0.1:http",
        cwd=tmp_path,
    )
    assert r.code == 2 and "bad downstream address" in r.err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--settle-quiet", "0"], "--settle-quiet: settle time 0.0 is not usable"),
        (["--settle-quiet", "-1"], "--settle-quiet: settle time -1.0 is not usable"),
        (["--settle-quiet", "soon"], "--settle-quiet: 'soon' is not a duration"),
        (["--settle-deadline", "nan"], "--settle-deadline: settle time nan is not usable"),
        (["--settle-deadline", "inf"], "--settle-deadline: settle time inf is not usable"),
        (
            ["--settle-quiet", "5s", "--settle-deadline", "2"],
            "--settle-deadline: the deadline 2 s is shorter than the quiet period 5 s",
        ),
    ],
)
def test_bad_settle_times_exit_2_before_anything_is_sent(
    tmp_path: Path, flags: list[str], message: str
) -> None:
    # The target does not exist: a check made after reaching for it would exit 3 instead.
    r = harness("run", "duplicate-storm", "--target", "http://127.0.0.1:1/h", *flags, cwd=tmp_path)
    assert r.code == 2, r.err
    assert message in r.err and "hint: " in r.err
    assert "Traceback" not in r.err and not (tmp_path / "harness-runs").exists()


def test_check_on_missing_journal(tmp_path: Path) -> None:
    r = harness("check", str(tmp_path / "nope.db"))
    assert r.code == 2 and "no such journal file" in r.err


@pytest.mark.integration
def test_run_then_check_offline(fragile: Automation, tmp_path: Path) -> None:
    sc = write(tmp_path, "small.scenario.yaml", SMALL)
    journal, report = tmp_path / "run.db", tmp_path / "out" / "report.json"
    r = harness(
        "run",
        str(sc),
        "--target",
        fragile.hook,
        "--downstream",
        f"127.0.0.1:{fragile.downstream_port}",
        "--seed",
        "3",
        "--journal",
        str(journal),
        "--report",
        str(report),
        "--target-name",
        "fragile",
        cwd=tmp_path,
    )
    assert r.code == 1, r.err
    doc = json.loads(report.read_text())
    assert doc["schema"] == "harness.report/1" and doc["passed"] is False
    (run,) = doc["runs"]
    assert (run["scenario"], run["seed"], run["target"], run["target_name"]) == (
        "small",
        3,
        fragile.hook,
        "fragile",
    )
    assert run["counts"]["events"] == 12 and run["counts"]["deliveries"] == 24
    assert run["counts"]["effects"] == 24
    verdicts = {v["invariant"]: v for v in run["verdicts"]}
    dup = verdicts["no_duplicate_effects"]
    assert dup["status"] == "fail" and dup["class"] == "silent"
    assert len(dup["evidence"]["events"]) == 10 and dup["evidence"]["effects"]
    assert verdicts["no_lost_events"]["status"] == "pass"
    assert "--seed 3" in run["reproduce"] and fragile.hook in run["reproduce"]

    # In this process: `harness check` as a process, exit 1 through the entry point itself, is
    # test_check_as_its_own_process_writes_everything_before_it_ends's.
    again = harness("check", str(journal), "--report", str(tmp_path / "again.json"))
    assert again.code == 1
    redo = json.loads((tmp_path / "again.json").read_text())
    assert redo["runs"][0]["verdicts"] == run["verdicts"]
    assert "no_duplicate_effects" in again.out


@pytest.mark.integration
def test_downstream_port_in_use_exits_3(fragile: Automation, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        r = harness(
            "run",
            "duplicate-storm",
            "--target",
            fragile.hook,
            "--downstream",
            f"127.0.0.1:{port}",
            "--journal",
            str(tmp_path / "j.db"),
            cwd=tmp_path,
        )
    assert r.code == 3 and "address already in use" in r.err and "Traceback" not in r.err


@pytest.mark.integration
def test_ctrl_c_keeps_the_journal(fragile: Automation, tmp_path: Path) -> None:
    journal = tmp_path / "int.db"
    # No clean run first: the interrupt must land in the scenario's own run.
    slow = write(
        tmp_path,
        "slow.scenario.yaml",
        SMALL.replace("over: 0.5s", "over: 30s") + "baseline: false\n",
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "harness",
            "run",
            str(slow),
            "--target",
            fragile.hook,
            "--downstream",
            f"127.0.0.1:{fragile.downstream_port}",
            "--journal",
            str(journal),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HARNESS_SECRET": SECRET},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # wait until a few deliveries were journaled
        time.sleep(0.3)
        try:
            if len(load_all(journal)[0].deliveries) >= 2:
                break
        except Exception:
            continue
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 3, err
    assert "interrupted" in err and f"harness check {journal}" in err and "Traceback" not in err
    (history,) = load_all(journal)
    assert history.status == "aborted" and len(history.deliveries) >= 2
    r = harness("check", str(journal))
    # Judged as far as it went, and never passed off as a finished run: exit 3 (incomplete).
    assert r.code == 3 and "small" in r.out and "incomplete (aborted" in r.err


def test_help_and_init_start_without_the_engine() -> None:
    # Each command imports what it needs when it runs: the short ones start in a fraction of
    # what the engine, aiohttp and the scenario schema's pydantic models take to import.
    script = (
        "import sys\n"
        "from harness.cli import main\n"
        "for argv in (['--help'], ['init', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = ('aiohttp', 'harness.engine', 'pydantic', 'harness.scenario._schema')\n"
        "print(sorted(name for name in heavy if name in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert "Usage: harness init" in proc.stdout, proc.stderr
    assert proc.stderr.strip() == "[]"


def test_check_as_its_own_process_writes_everything_before_it_ends(tmp_path: Path) -> None:
    # The process leaves its runs to the OS to free (os._exit): only once every line printed,
    # the report and the job summary are written; the same as the command run in-process.
    from harness.core._model import Delivery, Effect, Event, Model, Outcome
    from harness.history import Journal, RunInfo

    journal = Journal(tmp_path / "j.db")
    info = RunInfo("r1", "many", 1, "http://127.0.0.1:9/", "t", Model.LEDGER, (), "", "tr")
    events = [Event(f"evt_{i}", f"k{i % 7}", i, "t", float(i), {"i": i}) for i in range(3000)]
    journal.begin(info, events)
    for i in range(3000):  # every other event lost, every answer late: long evidence
        journal.delivery(Delivery(f"d{i}", f"evt_{i}", 1, i, i, i + 3.0, 200, Outcome.OK))
        if i % 2:
            ids = (f"evt_{i}",)
            journal.effect(Effect(f"e{i}", "api", i + 1.0, "POST", "/p", {}, "{}", 201, ids))
    journal.end("complete", 1.0)
    journal.close()
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "process.md")}
    report = str(tmp_path / "p.json")
    alone = harness_process("check", str(journal.path), "--report", report, env=env)
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "inside.md")}
    inside = harness("check", str(journal.path), "--report", str(tmp_path / "i.json"), env=env)
    assert alone.code == inside.code == 1
    assert alone.out == inside.out and "no_lost_events" in alone.out
    assert alone.err == inside.err
    assert (tmp_path / "process.md").read_text() == (tmp_path / "inside.md").read_text()
    written = json.loads((tmp_path / "p.json").read_text())
    assert written["runs"] == json.loads((tmp_path / "i.json").read_text())["runs"]
