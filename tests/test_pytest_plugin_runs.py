"""The pytest plugin against real automations: the demo ones over real sockets, and under
pytest-xdist with two workers (real processes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli._processes import free_port

from .conftest import SECRET, Automation
from .test_pytest_plugin import ENGINE, INI, SHOP_APP, TINY

pytestmark = pytest.mark.integration
pytest_plugins = ["pytester"]
assert ENGINE  # the engine loaded once for pytester's in-process runs (see there)

# The demo automations acknowledge first and pay out from a queue: wait longer for late effects.
DEMO = TINY.replace("settle: {quiet: 0.3s, deadline: 5s}", "settle: {quiet: 1s, deadline: 10s}")


@pytest.fixture
def demo_project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeini(INI)
    pytester.makefile(".scenario.yaml", tiny=DEMO)
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    monkeypatch.setenv("COLUMNS", "200")
    return pytester


def against(automation: Automation, *extra: str) -> list[str]:
    return [
        "--harness-target",
        automation.hook,
        "--harness-downstream",
        f"127.0.0.1:{automation.downstream_port}",
        "--harness-seed",
        "11",
        *extra,
    ]


def test_fragile_demo_fails_with_evidence_over_real_sockets(
    demo_project: pytest.Pytester, fragile: Automation
) -> None:
    result = demo_project.runpytest(*against(fragile, "--harness-report", "fragile.json"))
    # It forwards each delivery inline as it comes: where a loaded machine lets two events of a
    # record overtake each other, per_key_order fails too, rightly.
    outcomes = result.parseoutcomes()
    failed = [line for line in result.outlines if line.startswith("FAILED ")]
    assert outcomes["passed"] + outcomes["failed"] == 6, outcomes
    assert any("::no_duplicate_effects" in line for line in failed), failed
    assert all(("::no_duplicate_effects" in f) or ("::per_key_order" in f) for f in failed), failed
    result.stdout.fnmatch_lines(
        [
            "no_duplicate_effects FAILED (silent): 8 of 8 events produced duplicate effects*",
            f"target     {fragile.hook} (127.0.0.1:*)",
            "evidence   event evt_* was delivered 2 times * and produced 2 effects: POST /payouts*",
            f"reproduce  pytest tiny.scenario.yaml::tiny-storm --harness-target {fragile.hook} "
            f"--harness-seed 11 --harness-downstream 127.0.0.1:{fragile.downstream_port}",
        ]
    )
    (run,) = json.loads((demo_project.path / "fragile.json").read_text())["runs"]
    assert run["counts"]["effects"] == 16 and run["seed"] == 11


def test_sound_demo_holds_over_real_sockets(
    demo_project: pytest.Pytester, sound: Automation
) -> None:
    result = demo_project.runpytest(*against(sound))
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        [
            "harness: tiny-storm · 127.0.0.1:*: 6/6 invariants hold",
            "harness:   16 deliveries: 16 accepted (2xx), 0 rejected (4xx), 0 failed (5xx), 0 "
            "unanswered (no connection, reset, timeout)",
            "harness: 1/1 scenarios hold (checks: 6 held)",
        ]
    )


def test_two_xdist_workers_each_drive_with_a_double_of_their_own(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI)
    for name in ("alpha", "beta", "gamma"):
        pytester.makefile(".scenario.yaml", **{name: TINY.replace("tiny-storm", name)})
    pytester.makepyfile(shop_app=SHOP_APP)
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    monkeypatch.setenv("PYTHONPATH", str(pytester.path))
    base = free_port()
    result = pytester.runpytest_subprocess(
        "-p",
        "xdist.plugin",
        "-n",
        "2",
        "-v",
        "--harness-target",
        "shop_app:app",
        "--harness-httpx-route",
        "https://api.shop.example",
        "--harness-downstream",
        f"127.0.0.1:{base}",
        "--harness-seed",
        "5",
        "--harness-report",
        "all.json",
        "--harness-journal",
        "runs/ci.db",
    )
    result.assert_outcomes(passed=15, failed=3)
    # Each scenario's six items (accepts_genuine among them: signed) ran on one worker, which
    # drove it once.
    for name in ("alpha", "beta", "gamma"):
        workers = {
            line.split()[0]
            for line in result.stdout.lines
            if f"{name}.scenario.yaml::{name}::" in line and line.startswith("[gw")
        }
        assert len(workers) == 1, (name, workers)
    runs = json.loads((pytester.path / "all.json").read_text())["runs"]
    assert sorted(run["scenario"] for run in runs) == ["alpha", "beta", "gamma"]
    assert {run["seed"] for run in runs} == {5}
    ports = {run["reproduce"].split("--harness-downstream ")[1].split()[0] for run in runs}
    assert ports <= {f"127.0.0.1:{base + 10}", f"127.0.0.1:{base + 20}"} and len(ports) == 2
    journals = sorted(p.name for p in (pytester.path / "runs").glob("ci-gw*.db"))
    assert journals == ["ci-gw0.db", "ci-gw1.db"]
    result.stdout.fnmatch_lines(
        ["harness: 0/3 scenarios hold (checks: 3 failed, 15 held) — failed: *"]
    )


def test_network_target_runs_take_turns_under_xdist(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fragile: Automation
) -> None:
    """A network target calls one double address: the workers' runs take turns on it."""
    pytester.makeini(INI)
    for name in ("alpha", "beta"):
        pytester.makefile(".scenario.yaml", **{name: DEMO.replace("tiny-storm", name)})
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    result = pytester.runpytest_subprocess("-p", "xdist.plugin", "-n", "2", *against(fragile))
    # Each run's duplicates fail no_duplicate_effects; on a loaded machine the fragile
    # automation may also apply one record's two events out of order (per_key_order), as
    # designed. The subject here is the two runs taking turns, each judged whole.
    outcomes = result.parseoutcomes()
    seen = (outcomes, result.stdout.str()[-4000:], result.stderr.str()[-2000:])  # if it fails
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 12, seen  # six items each
    assert 2 <= outcomes.get("failed", 0) <= 4, seen
    for name in ("alpha", "beta"):  # in whichever order the workers ended
        result.stdout.fnmatch_lines([f"FAILED*{name}*no_duplicate_effects*"])
    lock = Path(
        pytester.path / "harness-runs" / f".harness-downstream-{fragile.downstream_port}.lock"
    )
    assert lock.is_file()
