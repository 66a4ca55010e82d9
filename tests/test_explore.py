"""harness explore end to end: real automations on loopback, Hypothesis searching schedules.

Each flawed automation's failure is found and shrunk to the schedule that explains it, the
minimal scenario file written replays it in 10 of 10 runs, and the sound demo passes.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings

import harness
from harness.core._model import Status
from harness.engine import RunOptions
from harness.explore import (
    ExploreSettings,
    Found,
    explore_schedules,
    failure_lines,
    write_minimal,
)
from harness.scenario._load import load_scenario, resolve

from .conftest import SECRET, Completed
from .conftest import harness as harness_cli
from .fault_scenarios import automation
from .test_gallery import STRIPE
from .test_gallery import automation as gallery_automation

pytestmark = [pytest.mark.integration, pytest.mark.long, pytest.mark.timeout(600)]

GALLERY = Path(__file__).resolve().parent / "gallery" / "scenarios"
SEED = 5
REPLAYS = 10


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    monkeypatch.setenv(*next(iter(STRIPE.items())))


@contextmanager
def users_profile() -> Iterator[None]:
    """Hypothesis's default settings, as a user's ``harness explore`` process has them, for
    the command run in this process (the suite's profile drops the deadline and a health
    check): the command without a Python of its own to start (0.9 CPU-s)."""
    settings.load_profile("default")
    try:
        yield
    finally:
        settings.load_profile("harness")


def explore_command(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Completed:
    """``harness explore ARGS`` in this process, under the user's Hypothesis settings."""
    with users_profile():
        return harness_cli("explore", *args, cwd=cwd, env=env)


def search(scenario: harness.Scenario, hook: str, port: int, tmp: Path, examples: int) -> Found:
    options = RunOptions.create(
        hook, seed=SEED, downstream=f"127.0.0.1:{port}", journal=tmp / "minimal.db"
    )
    how = ExploreSettings(max_examples=examples, seed=SEED, database=tmp / "db")
    found = explore_schedules(scenario, options, how).found
    assert found is not None, "explore found no failing schedule"
    assert not found.flaky
    return found


def replays(found: Found, hook: str, port: int, tmp: Path) -> list[tuple[str, ...]]:
    """The minimal scenario file, written and run REPLAYS times: what failed each time."""
    path = write_minimal(found.scenario, found.exploration, tmp / "minimal.yaml")
    scenario = load_scenario(path)
    failed = []
    for n in range(REPLAYS):
        (result,) = harness.run(
            scenario, hook, seed=SEED, downstream=f"127.0.0.1:{port}", journal=tmp / f"r{n}.db"
        )
        failed.append(tuple(v.invariant for v in result.verdicts if v.status is Status.FAIL))
    return failed


@pytest.mark.acceptance
def test_the_fragile_demo_shrinks_to_one_event_delivered_twice(tmp_path: Path) -> None:
    (scenario,) = resolve(["duplicate-storm"])
    with automation("harness.demo.fragile") as (hook, port):
        found = search(scenario, hook, port, tmp_path, 40)
        assert found.failed == ("no_duplicate_effects",)
        schedule = found.exploration.schedule
        assert len(schedule) == 2 and schedule[0].event == schedule[1].event, schedule
        # One after the other is enough to break it: the shrinker keeps no concurrency.
        assert schedule[0].at != schedule[1].at
        assert all(r == ("no_duplicate_effects",) for r in replays(found, hook, port, tmp_path))


@pytest.mark.acceptance
def test_a_check_then_act_dedup_shrinks_to_two_concurrent_copies(tmp_path: Path) -> None:
    scenario = load_scenario(GALLERY / "stripe-checkout-explore.yaml")
    with gallery_automation("marked_after", "/webhooks/stripe", STRIPE) as target:
        found = search(scenario, target.url, target.downstream_port, tmp_path, 60)
        assert found.failed == ("no_duplicate_effects",)
        first, second = found.exploration.schedule
        assert first.event == second.event and first.at == second.at
        failed = replays(found, target.url, target.downstream_port, tmp_path)
        assert all(r == ("no_duplicate_effects",) for r in failed), failed


@pytest.mark.acceptance
def test_a_read_modify_write_sync_shrinks_to_two_events_on_one_record(tmp_path: Path) -> None:
    scenario = load_scenario(GALLERY / "contacts-sync-explore.yaml")
    with automation("tests.broken_automations", "--mode", "read-modify-write") as (hook, port):
        found = search(scenario, hook, port, tmp_path, 60)
        assert found.failed == ("final_state_matches_baseline",)
        first, second = found.exploration.schedule
        events = found.result.history.events
        assert first.event != second.event
        assert len(events) == 2 and events[0].key == events[1].key
        assert first.at == second.at  # one after the other, the sync keeps both updates
        failed = replays(found, hook, port, tmp_path)
        assert all(r == ("final_state_matches_baseline",) for r in failed), failed


@pytest.mark.acceptance
def test_the_sound_demo_survives_a_search_of_100_examples(tmp_path: Path) -> None:
    """The sound demo's queue may still work on an example after its quiet (it holds a ledger
    event whose earlier one is missing for 2 s). Seed 7 is the search that reported a false flaky
    loss at example 42 when such a late payout was counted in the next example's clean run (which
    learned "2 payouts per run"), and once at example 68 when a held payout fell inside one run of
    an example and after the other; late effects now go back to their own example, an example
    waits 3 s for a pending effect, and nothing is found.

    Deliveries 0.1 s apart (or at once) instead of 0.3 s: each example is shorter (about a fifth
    less for the search), the same kinds of schedule are drawn, and the old code still failed
    this search at example 42."""
    (scenario,) = resolve(["duplicate-storm"])
    with automation("harness.demo.sound", state=tmp_path / "state") as (hook, port):
        options = RunOptions.create(
            hook, seed=7, downstream=f"127.0.0.1:{port}", journal=tmp_path / "minimal.db"
        )
        result = explore_schedules(
            scenario, options, ExploreSettings(max_examples=100, seed=7, database=None, spacing=0.1)
        )
    found = result.found
    assert found is None, failure_lines(found.result) if found else ""
    assert result.examples == 100


def test_the_command_writes_the_minimal_scenario_and_its_diagram(tmp_path: Path) -> None:
    calls = tmp_path / "resets"
    scenario = tmp_path / "storm.yaml"
    text = Path(harness.__file__).parent.parent / "scenarios" / "duplicate-storm.scenario.yaml"
    # A reset per example: a shell's append, not a Python's start (0.17 CPU-s each here).
    append = json.dumps(f"printf x >> {shlex.quote(str(calls))}")
    scenario.write_text(text.read_text() + f"\nreset: {{command: [sh, -c, {append}]}}\n")
    # fragile makes its call before it answers: 0.1 s of quiet sees it (0.5 s an example was
    # 18 of the test's 29 s).
    with automation("harness.demo.fragile") as (hook, port):
        done = explore_command(
            str(scenario), "--target", hook, "--downstream", f"127.0.0.1:{port}",
            "--seed", str(SEED), "--max-examples", "40", "--report", str(tmp_path / "r.html"),
            "--out", str(tmp_path / "min.yaml"), "--journal", str(tmp_path / "min.db"),
            "--settle-quiet", "0.1", cwd=tmp_path,
        )  # fmt: skip
        assert done.code == 1, done.out + done.err
        assert "fails no_duplicate_effects under this minimal schedule" in done.out
        assert "-> delivery 1 : 200" in done.out and "-> delivery 2 : 200" in done.out
        assert "POST /payouts 201" in done.out
        assert f"reproduce: harness run {tmp_path / 'min.yaml'}" in done.out
        # Reset before every example: as many as examples were run.
        assert len(calls.read_text()) > 1
        again = harness_cli(
            "run", str(tmp_path / "min.yaml"), "--target", hook, "--downstream",
            f"127.0.0.1:{port}", "--seed", str(SEED), "--report", str(tmp_path / "again.md"),
        )  # fmt: skip
    assert again.code == 1, again.out + again.err
    assert "<svg" in (tmp_path / "r.html").read_text()
    md = (tmp_path / "again.md").read_text()
    assert "The explicit schedule, per event" in md and "-> delivery 2 : 200" in md
    assert (tmp_path / ".harness" / "explore-db").is_dir()  # known failures, tried first next time
    assert SECRET not in done.out + done.err + md


def storm_on(tmp_path: Path, port: int) -> Path:
    """duplicate-storm as a scenario file whose downstream names its own ``port``."""
    text = Path(harness.__file__).parent.parent / "scenarios" / "duplicate-storm.scenario.yaml"
    scenario = tmp_path / "storm.yaml"
    scenario.write_text(
        text.read_text().replace("  - name: api\n", f"  - name: api\n    port: {port}\n")
    )
    return scenario


def test_the_reproduce_line_names_no_downstream_a_file_listens_elsewhere_than(
    tmp_path: Path,
) -> None:
    """A scenario whose downstream names its port (a project's `api=PORT`, the file explore
    writes of it) listens there: the reproduce line said `--downstream 127.0.0.1:9100` beside
    it (tests/gallery/member_sync, a project's port 34101)."""
    with automation("harness.demo.fragile") as (hook, port):
        scenario = storm_on(tmp_path, port)
        done = explore_command(
            str(scenario), "--target", hook, "--seed", str(SEED), "--max-examples", "20",
            "--out", str(tmp_path / "min.yaml"), "--journal", str(tmp_path / "min.db"),
            "--settle-quiet", "0.1", "--no-database", cwd=tmp_path,
        )  # fmt: skip
    assert done.code == 1, done.out + done.err
    [line] = [x for x in done.out.splitlines() if x.startswith("reproduce: ")]
    assert "--downstream" not in line, line
    assert f"port: {port}" in (tmp_path / "min.yaml").read_text()


def test_a_downstream_given_is_heard_over_a_files_own_port(tmp_path: Path) -> None:
    """docs/cli.md: "a downstream with a port of its own listens there, unless --downstream is
    given" — true of a project's, not of a scenario file's (explore's minimal file keeps its
    project's ports): `harness run FILE --downstream HOST:PORT` listened on the file's port, and
    the automation's calls to PORT met nothing."""
    with automation("harness.demo.fragile") as (hook, port):
        scenario = storm_on(tmp_path, port + 1)
        done = harness_cli(
            "run", str(scenario), "--target", hook, "--downstream", f"127.0.0.1:{port}",
            "--seed", str(SEED), "--no-baseline", "--report", str(tmp_path / "r.json"),
            "--settle-quiet", "0.1", cwd=tmp_path,
        )  # fmt: skip
    [run] = json.loads((tmp_path / "r.json").read_text())["runs"]
    assert run["counts"]["effects"] > 0, done.out + done.err


def test_a_target_that_remembers_without_a_reset_is_refused(tmp_path: Path) -> None:
    # Without tracer rewriting, the second run repeats the first one's event ids, which the
    # dedup remembers: it answers them as duplicates and books nothing.
    scenario = tmp_path / "remembers.yaml"
    scenario.write_text(
        (GALLERY / "stripe-checkout-explore.yaml")
        .read_text()
        .replace("stripe-checkouts.jsonl", str(GALLERY / "stripe-checkouts.jsonl"))
        + "\ntracer: {rewrite: false}\n"
    )
    with gallery_automation("marked_after", "/webhooks/stripe", STRIPE) as target:
        done = explore_command(
            str(scenario), "--target", target.url, "--downstream",
            f"127.0.0.1:{target.downstream_port}", "--max-examples", "5", "--no-database",
            cwd=tmp_path, env=STRIPE,
        )  # fmt: skip
    assert done.code == 2, done.out + done.err
    assert "answered the same schedule differently the second time" in done.err
    assert "add reset:" in done.err
    assert "Traceback" not in done.err
    assert os.listdir(tmp_path) == ["remembers.yaml"] or ".harness" in os.listdir(tmp_path)


def test_a_search_the_target_refused_throughout_is_incomplete(tmp_path: Path) -> None:
    with gallery_automation("marked_after", "/webhooks/stripe", STRIPE) as target:
        done = explore_command(
            str(GALLERY / "stripe-checkout-explore.yaml"), "--target", target.url,
            "--downstream", f"127.0.0.1:{target.downstream_port}", "--max-examples", "3",
            "--no-database", cwd=tmp_path,
            env={"STRIPE_WEBHOOK_SECRET": "whsec_not0the0secret0it0verifies"},
        )  # fmt: skip
    assert done.code == 3, done.out + done.err
    assert "in all 3 the target accepted none of the deliveries" in done.err
    assert "no schedule" not in done.out


def test_a_search_that_put_no_two_events_of_a_record_together_says_so(tmp_path: Path) -> None:
    """Drawn from two events of two contacts, no schedule can send a contact's updates out of
    order: arrival_wins' stale overwrites go unseen, and the search that found nothing says
    why instead of reading as a pass (out-of-order, seed 5, reported none before the default
    pool reached a second event of one record)."""
    with gallery_automation("arrival_wins", "/webhooks/contacts") as target:
        done = explore_command(
            str(GALLERY / "contacts-reordered.yaml"), "--target", target.url,
            "--downstream", f"127.0.0.1:{target.downstream_port}", "--seed", str(SEED),
            "--events", "2", "--max-examples", "3", "--no-database", "--report", "r.html",
            cwd=tmp_path,
        )  # fmt: skip
    assert done.code == 0, done.out + done.err
    # --report said, not silently skipped (sweep-lx: nothing written, nothing said).
    assert "no report written to r.html: the report is of the minimal failing run" in done.err
    assert not (tmp_path / "r.html").exists()
    assert "drawn from the first 2 events, about 2 records: no schedule" in done.out, done.out
    assert "each of these events is about a record of its own" in done.out, done.out
    assert "raise --events" in done.out
