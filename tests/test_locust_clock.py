"""A distributed load test whose worker's clock is 2 s ahead: master + 2 workers, real Locust
processes on loopback, against a correct newest-wins contact sync (tests/gallery/stale_guard.py).

Its writes name only their contact (the tracer rewrites the ids alone), so ``no_lost_events``
times each contact's last write against its newest update's send (``invariants/_newest``): a
send stamped by a clock 2 s ahead came 2 s after the write it caused, and the correct sync
failed ("6 records short of PUT /contacts/{id}") before each worker's clock was measured as it
joined (``harness_locust._clock``).

And a worker that never answers the measurement stops the test before anything is sent.

The skew is the whole worker process's: the test's locustfile moves ``time.time`` when
``TEST_CLOCK_SKEW`` is set, as a machine whose clock is off would — Locust's own request stamps
included — and the plugin ships no knob that fakes its clock.
"""

from __future__ import annotations

import functools
import json
import os
import re
from pathlib import Path

import pytest

from harness.cli._processes import free_port
from harness.history import load_all

from .conftest import REPO, SECRET
from .test_gallery import automation
from .test_locust import forked_locust, locust_started, worker_processes  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("forked_locust")]

REORDERED = REPO / "tests" / "gallery" / "scenarios" / "contacts-reordered.yaml"
IMPORTABLE = os.pathsep.join([str(REPO), str(REPO / "plugins")])

LOCUSTFILE = """
import os
import time

_ahead = [float(os.environ.get("TEST_CLOCK_SKEW", "0"))]
_step = float(os.environ.get("TEST_CLOCK_STEP", "0"))
if _ahead[0] or _step:  # this process's clock, ahead by _ahead[0] s, for everything that reads it
    _real = time.time
    time.time = lambda: _real() + _ahead[0]

from harness_locust import ScenarioUser
from locust import events


@events.test_start.add_listener
def _stepped(environment, **_):
    if _step:  # the worker's test begins, its clock measured as it joined: NTP steps it
        _ahead[0] += _step


@events.init.add_listener
def _deaf(environment, **_):
    if os.environ.get("TEST_CLOCK_DEAF"):  # after the plugin's own init: its asks unanswered
        environment.runner.custom_messages.pop("harness_clock_ask", None)


class Contacts(ScenarioUser):
    path = "/webhooks/contacts"
"""


def scenario(tmp: Path) -> Path:
    """contacts-reordered, 120 updates of 12 contacts, with the PUT each owes declared (a load
    test has no clean run to learn it from) and only the ids traced, so the writes name only
    their contact; per_key_order, which then cannot tell a write's event, is not asked."""
    text = REORDERED.read_text()
    text = text.replace("events: 36", "events: 120").replace("records: 6", "records: 12")
    text = text.replace("  - per_key_order\n", "").replace("  - final_state_matches_baseline\n", "")
    text += '\nexpect:\n  contact.updated: ["PUT /contacts/{id}"]\n'
    text += "tracer: {paths: [$.id, $.data.contact_id]}\n"
    path = tmp / "contacts.yaml"
    path.write_text(text)
    return path


def distributed(tmp: Path, envs: list[dict[str, str]]) -> tuple[str, int]:
    """A master and a worker per environment in ``envs`` (on top of this one's), on the test's
    locustfile, delivering ``scenario`` to stale_guard; what the processes said and the
    master's exit code."""
    locustfile = tmp / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    env = {**os.environ, "HARNESS_SECRET": SECRET, "PYTHONPATH": IMPORTABLE}
    port = free_port()
    locust = ["-f", str(locustfile)]
    worker = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    starts = [functools.partial(locust_started, worker, {**env, **more}, tmp) for more in envs]
    with (
        automation("stale_guard", "/webhooks/contacts") as target,
        worker_processes(starts) as workers,
    ):
        master = locust_started(
            [
                *locust, "--master", "--master-bind-host", "127.0.0.1",
                "--master-bind-port", str(port), "--expect-workers", str(len(envs)),
                "--expect-workers-max-wait", "30", "--headless", "--only-summary",
                "-u", "12", "-r", "12", "-t", "60s", "--host", target.url.rsplit("/", 2)[0],
                "--harness-scenario", str(scenario(tmp)), "--harness-seed", "7",
                "--harness-downstream", f"127.0.0.1:{target.downstream_port}",
                "--harness-journal", str(tmp / "run.db"),
                "--harness-report", str(tmp / "report.json"),
            ],
            env, tmp,
        ).ended(150)  # fmt: skip
        worker_errs = [w.ended(30).err for w in workers]
    return master.err + "\n".join(worker_errs), master.code


def test_a_worker_whose_clock_is_2_s_ahead_fails_no_correct_automation(tmp_path: Path) -> None:
    said, code = distributed(tmp_path, [{"TEST_CLOCK_SKEW": "2"}, {}])
    (run,) = json.loads((tmp_path / "report.json").read_text())["runs"]
    verdicts = {v["invariant"]: v for v in run["verdicts"]}
    lost = verdicts["no_lost_events"]
    # Held; or, where a write came within the measured uncertainty of its record's newest send
    # (2.11 ms of it on a loaded CI machine), not known for the clocks — never failed, as it
    # was on the worker's own clock.
    if lost["status"] == "pass":
        assert "name only their record" in lost["summary"]  # the newest rule was what judged
        assert code == 0, said
    else:
        assert lost["status"] == "inconclusive", (lost["summary"], said)
        assert "the Locust workers' clocks being known only to within" in lost["summary"], said
    (history,) = load_all(tmp_path / "run.db")
    clocks = history.info.settings["clocks"]
    assert run["clocks"] == clocks
    offsets = sorted(w["offset"] for w in clocks["workers"])
    # Measured on loopback within a fraction of a millisecond; a loaded machine's round
    # trips are longer, and the bound is the uncertainty the run says it has.
    u = clocks["uncertainty"]
    assert 0 <= u < 0.25, clocks
    assert abs(offsets[0]) <= u and abs(offsets[1] - 2.0) <= u, clocks
    assert "measured against the master's as they joined" in " ".join(run["done"]), run["done"]


def test_a_worker_that_does_not_answer_the_clock_measurement_stops_the_test_before_it_sends(
    tmp_path: Path,
) -> None:
    """A worker whose deliveries cannot be put on the run's clock (here it drops the master's
    asks, as a worker of a harness without the measurement would never answer them): the test
    ends with exit code 3 before any delivery, saying which worker and why, never judged on
    times off by an unknown amount."""
    said, code = distributed(tmp_path, [{"TEST_CLOCK_DEAF": "1"}])
    assert code == 3, said
    assert "did not answer the master's clock measurement within 10 s" in said, said
    assert "nothing sent or judged" in said
    assert not (tmp_path / "report.json").exists()


def test_a_worker_clock_stepped_during_the_test_is_measured_again_and_the_bound_widened(
    tmp_path: Path,
) -> None:
    """A worker on time when it joined, its clock stepped 2 s ahead as its test begins (NTP, or
    an hour's drift writ large): its sends were put on the run's clock with the join's offset,
    2 s off, and the correct sync failed no_lost_events as a worker 2 s ahead did before
    clocks were measured. Read again as the test ends, before the run is judged, the worker's
    offset moved 2 s, and the run's bound is widened by it: no record is failed on the clock."""
    said, _ = distributed(tmp_path, [{"TEST_CLOCK_STEP": "2"}, {}])
    (run,) = json.loads((tmp_path / "report.json").read_text())["runs"]
    verdicts = {v["invariant"]: v for v in run["verdicts"]}
    (history,) = load_all(tmp_path / "run.db")
    assert len(history.deliveries) == 120, said  # judged on what both workers sent
    lost = verdicts["no_lost_events"]
    # Not known for the clocks where a write came within the bound of its record's newest
    # send; held where none did — never failed, as on the join's offset alone.
    if lost["status"] == "pass":
        assert "name only their record" in lost["summary"], lost
    else:
        assert lost["status"] == "inconclusive", (lost["summary"], said)
        assert "the Locust workers' clocks being known only to within 2 s" in lost["summary"]
    clocks = history.info.settings["clocks"]
    assert run["clocks"] == clocks
    steady, stepped = sorted(clocks["workers"], key=lambda w: w["end"]["offset"])
    for worker in (steady, stepped):  # both on time as they joined
        assert abs(worker["offset"]) <= worker["uncertainty"] < 0.25, clocks
    assert abs(stepped["end"]["offset"] - 2.0) <= stepped["end"]["uncertainty"] < 0.25, clocks
    moved = stepped["end"]["offset"] - stepped["offset"]
    assert stepped["bound"] == moved + stepped["end"]["uncertainty"] > 1.9, clocks
    assert steady["bound"] < 0.5 and clocks["uncertainty"] == stepped["bound"], clocks
    # The master's log line of the second reading.
    found = re.findall(
        r"'s clock is [+-][\d.]+ s from the master's at the end, moved ([+-][\d.]+)", said
    )
    assert sorted(round(float(m)) for m in found) == [0, 2], said
    done = " ".join(run["done"])
    assert "when the test ended (the bound is the join's, widened" in done, done
    assert "known to within 2 s" in done, done
