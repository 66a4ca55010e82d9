"""A distributed Locust run's shares: every worker's deliveries reach the master's journal
before the run is judged, or the run says whose are missing and is not judged.

Real Locust processes (a master and its workers) on loopback against the sound demo
automation. What a loaded machine does by chance is done here by construction, in the
locustfile: a worker whose plan is slow to prepare (the master ends the test meanwhile), a
worker whose rows never reach the master.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from harness.cli._processes import free_port
from harness.history import load_all

from .conftest import REPO, SECRET, Automation

pytestmark = pytest.mark.integration

LOCUSTFILE = """
import os

import gevent
from gevent import monkey
from locust import events
from locust.runners import MasterRunner, WorkerRunner

from harness_locust import ScenarioUser, _hooks

_sleep = monkey.get_original("time", "sleep")
_prepare = _hooks._prepare_worker


def _slow(data):
    _sleep(float(os.environ.get("PLAN_DELAY", "0")))  # a busy machine, by construction
    return _prepare(data)


_hooks._prepare_worker = _slow


@events.test_start.add_listener
def _stop_at_start(environment, **_):
    # After the harness's own test_start (registered first): the plans are sent.
    runner = environment.runner
    if os.environ.get("STOP_AT_START") and isinstance(runner, MasterRunner):
        gevent.spawn(runner.quit)


@events.init.add_listener
def _lossy(environment, **_):
    runner, lose = environment.runner, os.environ.get("LOSE_ROWS")
    if not lose or not isinstance(runner, WorkerRunner):
        return
    send, lost = runner.send_message, []

    def send_message(kind, data=None, client_id=None):
        if kind == "harness_rows" and lose == "all":
            return  # no row, nor the final word, ever reaches the master
        if kind == "harness_rows" and data["rows"] and not lost:
            lost.append(data["rows"])  # one batch's rows lost, the count still said
            data = {**data, "rows": []}
        send(kind, data, client_id)

    runner.send_message = send_message


class Orders(ScenarioUser):
    scenario = "bulk-import-burst"
    path = "/hooks/orders"
"""

HEADLESS = ("--headless", "--only-summary", "--loglevel", "INFO")


def distributed(
    sound: Automation,
    tmp: Path,
    workers: Sequence[dict[str, str]],
    *master: str,
    master_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """A Locust master (its environment added ``master_env``) and one worker per environment
    in ``workers``, on the locustfile above; the master's completed process."""
    locustfile = tmp / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    port = free_port()
    env = {
        **os.environ,
        "HARNESS_SECRET": SECRET,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
    }
    locust = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    started = [
        subprocess.Popen(
            [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=tmp,
            env={**env, **extra},
        )
        for extra in workers
    ]
    command = [
        *locust, "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
        "--expect-workers", str(len(workers)), "--expect-workers-max-wait", "30",
        "--host", sound.service.url, "--harness-downstream", f"127.0.0.1:{sound.downstream_port}",
        "--harness-journal", str(tmp / "run.db"), "--harness-seed", "11", *HEADLESS, *master,
    ]  # fmt: skip
    try:
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp,
            env={**env, **(master_env or {})},
        )
    finally:
        for w in started:
            if w.poll() is None:
                w.kill()
            w.wait()


def test_a_stop_while_a_worker_prepares_its_plan_still_gets_its_share_said(
    sound: Automation, tmp_path: Path
) -> None:
    # The master ends the test as soon as it has sent the plans; the worker's plan is ready
    # 3 s later. The worker ignored the master's stop (it had no plan yet), so its final word
    # never came: the master waited 15 s, then judged a "complete" run without its share
    # (and with whatever its users, never stopped, had delivered meanwhile).
    workers = [{"PLAN_DELAY": "3"}]
    master = ("-u", "5", "-r", "5", "-t", "60s")
    r = distributed(sound, tmp_path, workers, *master, master_env={"STOP_AT_START": "1"})
    (history,) = load_all(tmp_path / "run.db")
    shares = [m.detail for m in history.marks if m.name.startswith("locust.share")]
    assert shares == ["worker index 0 of 1: 0 of 200 deliveries"], r.stderr
    assert "worker index 0 of 1 delivered 0 of its 200 slots before the test ended" in r.stderr
    assert not history.deliveries
    # Judged on no delivery: never a pass, nor a finding — `harness run`'s rule (exit 1 before).
    assert r.returncode == 3, r.stderr
    assert "no delivery reached the target: nothing was put to the test" in r.stderr, r.stderr


def test_a_workers_rows_missing_leave_the_run_aborted_naming_the_worker(
    sound: Automation, tmp_path: Path
) -> None:
    # One worker's rows never reach the master, nor its final word; the other's first batch of
    # rows is lost, its count said. Judged, the run would look complete on part of what was
    # delivered.
    workers = [{"LOSE_ROWS": "all"}, {"LOSE_ROWS": "one batch"}]
    r = distributed(sound, tmp_path, workers, "-u", "10", "-r", "10", "-t", "60s")
    assert r.returncode == 3, r.stderr
    (history,) = load_all(tmp_path / "run.db")
    assert history.status == "aborted"
    missing = [m.detail for m in history.marks if m.name == "locust.share_missing"]
    never = [m for m in missing if "sent no final word within 15 s" in m]
    assert len(never) == 1 and "(0 of its deliveries reached the master)" in never[0], missing
    # The other worker's final word came: its share, and its lost batch if it delivered any
    # (a loaded machine may end the test before it does).
    (share,) = [m.detail for m in history.marks if m.name == "locust.share"]
    index, delivered = share.split(" of 2: ")[0], int(share.split(": ")[1].split(" of ")[0])
    short = [m for m in missing if m not in never]
    if delivered:
        (line,) = short
        reached = int(line.split("of which ")[1].split()[0])
        assert line.startswith(f"{index} of 2 delivered {delivered}, of which "), missing
        assert reached < delivered, missing
    else:
        assert not short, missing
    for line in missing:
        assert line in r.stderr
    assert "the history lacks what they delivered, so the run is not judged" in r.stderr
    assert "harness check" in r.stderr


def test_a_worker_builds_locusts_default_parser_once_not_once_per_option() -> None:
    # Locust's worker, for every spawn message, built its whole parser once per option the
    # master sent (69 here, 0.6 CPU-s) in the greenlet that answers heartbeats: on a loaded
    # machine the master marked both workers missing and ended the test before either sent a
    # delivery (the journal: 0 deliveries). A real WorkerRunner calls it as below.
    code = """
from locust import argument_parser as ap
from harness_locust import _hooks
built = []
setup = ap.setup_parser_arguments
ap.setup_parser_arguments = lambda parser: (built.append(1), setup(parser))[1]
_hooks.defaults_parsed_once()
options = vars(ap.get_parser().parse_args(["-f", "locustfile.py"]))
built.clear()
custom = {k: v for k, v in options.items() if k not in ap.default_args_dict()}
print(len(options), len(built))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])}
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert run.returncode == 0, run.stderr
    options, built = map(int, run.stdout.split())
    assert options > 50 and built == 1, run.stdout
