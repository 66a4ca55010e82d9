"""A deploy in the middle of a run: ``restart:`` in harness.yaml, ``restarts:`` in a scenario,
the built-in ``deploy-restart`` hazard, and the cause ``no_lost_events`` gives the work a
restarted process lost (tests/gallery/deploy_drain.py under gunicorn's ``kill -HUP``)."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from pathlib import Path

import pytest

from harness.core._errors import InputError, ScenarioError
from harness.core._model import Effect, Event, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.engine import RunOptions, check_unread, prepare
from harness.history import Mark, load_all
from harness.invariants import judge
from harness.invariants._restarts import RESTART_MARK
from harness.scenario._hazards import RESTART_FIX, resolve_hazards
from harness.scenario._load import resolve
from harness.scenario._project import load_project
from harness.scenario._project_text import Downstream, EventsItem, project_yaml
from harness.scenario._project_text import Project as TextProject

from .conftest import free_port, harness, held_but_late, start_module
from .test_expected import _settled, clean_run, ev, lost, ok, run, write
from .test_gallery import said

ASGI = "tests.project_asgi:app/webhooks/stripe"  # answers 200, calls nothing: cheap to drive
# A few events and a restart 0.1 s in, no clean run: what a failing hook needs to show.
SHORT = """\
name: short-deploy
restarts: [0.1s]
baseline: false
source:
  synthetic:
    example: {id: evt_1, type: order.paid, data: {order_id: ord_1}}
    events: 4
    records: 4
    over: 0.4s
    key: $.data.order_id
invariants: [no_lost_events]
settle: {quiet: 0.1s, deadline: 2s}
"""


def _project(tmp_path: Path, restart: str, target: str = ASGI) -> Path:
    path = tmp_path / "harness.yaml"
    path.write_text(f"target: {target}\n{restart}")
    return path


# --- the project's restart: --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("restart", "said_"),
    [
        (
            "restart: {post: 'http://127.0.0.1:9/r', command: [make, deploy]}\n",
            "harness.yaml:2: restart: has both of post and command — give exactly one of them",
        ),
        ("restart: {command: []}\n", "harness.yaml:2: restart.command:"),
        ("restart: [kill, -HUP]\n", "harness.yaml:2: restart:"),
        ("restart: {post: ftp://127.0.0.1/r}\n", "harness.yaml:2: restart.post:"),
    ],
    ids=["both", "empty-command", "a-list", "not-http"],
)
def test_a_bad_restart_is_told_with_its_line_and_fix(
    tmp_path: Path, restart: str, said_: str
) -> None:
    path = _project(tmp_path, restart)
    with pytest.raises(ScenarioError) as caught:
        load_project(path)
    assert said_ in str(caught.value), caught.value


def test_deploy_restart_is_skipped_with_the_fix_without_a_restart_and_run_with_one(
    tmp_path: Path,
) -> None:
    bare = resolve_hazards(["standard"], load_project(_project(tmp_path, "")))
    [skipped] = [s for s in bare.skipped if s.name == "deploy-restart"]
    assert skipped.not_tried and skipped.reason.startswith(RESTART_FIX)
    assert "the project gives no way to restart it" in skipped.reason
    assert "deploy-restart" not in {s.name for s in bare.scenarios}
    assert not resolve_hazards(["deploy-restart"], None).scenarios  # no project at all
    given = _project(tmp_path, "restart: {command: [systemctl, restart, orders]}\n")
    [scenario] = resolve_hazards(["deploy-restart"], load_project(given)).scenarios
    assert scenario.restarts == (2.0,)
    assert scenario.restart is not None
    assert scenario.restart.command == ("systemctl", "restart", "orders")
    assert "restarted at 2 s by the project's restart: — its command (systemctl)" in " ".join(
        scenario.adapted
    )


def test_init_offers_the_restart_commented_out_and_it_loads_uncommented(tmp_path: Path) -> None:
    events = (EventsItem("library", "stripe:checkout.session.completed"),)
    draft = TextProject(ASGI, "stripe", None, events, (Downstream("api", 9100),))
    text = project_yaml(draft, "project.schema.json")
    assert "\n# restart: {command: [sh, -c, " in text
    path = tmp_path / "harness.yaml"
    path.write_text(text.replace("\n# restart:", "\nrestart:"))
    restart = load_project(path).restart
    assert restart is not None and restart.command[:2] == ("sh", "-c")


def test_a_scenario_with_restarts_and_no_way_to_restart_is_never_run_without_them() -> None:
    """Through the Python API (``resolve``, no project): refused, not run as a plain stream
    that would pass a deploy it never made."""
    [scenario] = resolve(["deploy-restart"])
    with pytest.raises(InputError) as caught:
        check_unread(scenario, RunOptions.create(ASGI, seed=1))
    assert "deploy-restart restarts the target at 2 s (restarts:) and nothing says how" in str(
        caught.value
    )
    assert RESTART_FIX in caught.value.hint


def test_a_project_without_restart_runs_the_hazard_as_not_tried_not_passed(tmp_path: Path) -> None:
    _project(tmp_path, "")
    done = harness("run", "deploy-restart", cwd=tmp_path)
    assert "deploy-restart not tried: give harness.yaml a restart:" in done.err, done.err
    assert RESTART_FIX in done.err.replace("\n", " ")
    assert "Traceback" not in done.err


def test_explore_refuses_the_hazard_plainly(tmp_path: Path) -> None:
    """Explore does not restart the target: run without its restart, the hazard would pass a
    deploy it never made."""
    _project(tmp_path, "restart: {command: [sh, -c, 'exit 0']}\n")
    done = harness("explore", "deploy-restart", cwd=tmp_path)
    assert done.code == 2, done.err
    assert "restarts the target mid-run (restarts:)" in done.err, done.err
    assert "run it with `harness run deploy-restart`" in done.err
    assert "Traceback" not in done.err


def test_a_load_test_is_refused_the_hazard_where_it_prepares_its_run(tmp_path: Path) -> None:
    """``harness locust`` (its init hook) prepares the run without restarting it: refused, as
    bad input, before Locust sends anything (``engine.prepare``; a Locust process costs 8 s)."""
    given = _project(tmp_path, "restart: {command: [sh, -c, 'exit 0']}\n")
    [scenario] = resolve_hazards(["deploy-restart"], load_project(given)).scenarios
    with pytest.raises(InputError) as caught:
        prepare(scenario, RunOptions.create(ASGI, seed=1))
    assert "restarts the target mid-run (restarts:), which only `harness run`" in str(caught.value)
    assert "a load test does not restart the target" in str(caught.value)


# --- the cause, judged offline -----------------------------------------------------------------


def _deployed(
    by_record: bool,
    paid_orders: tuple[int, ...] = (1, 4, 5),
    window: tuple[float, float] = (0.35, 0.38),
) -> Verdict:
    """Six orders, one every 0.1 s, each paid 0.25 s after its answer (by a call naming the
    event, or only its record); a deploy restart from 0.35 s to 0.38 s: the third and fourth
    (accepted at 0.21 and 0.31 s, still queued) are never paid; the fifth and sixth, taken by
    the new process, are. The first is never paid either: its queue got past it (the second
    was paid at 0.36 s), so the restart is not its cause. By record, orders of two events each:
    the first order paid once of twice (its queue got past it), the second not at all."""

    def orders(tag: str) -> list[Event]:  # by record: two events an order
        return [ev(tag, n, key=f"ord_{tag}{(n + 1) // 2}" if by_record else None) for n in
                range(1, 7)]  # fmt: skip

    twins = orders("zqclean")

    def pay(e: Event, at: float) -> Effect:
        return write("/payouts", key=e.key, at=at) if by_record else write("/payouts", [e], at=at)

    clean = clean_run(twins, [pay(e, n + 0.25) for n, e in enumerate(twins)])
    mine = orders("zqrun")
    deliveries = [ok(e, at=n / 10) for n, e in enumerate(mine)]
    paid = [pay(mine[n], n / 10 + 0.26) for n in paid_orders]
    h = run(mine, deliveries, paid, tag="zqrun", baseline=clean)
    h = _settled(h, "pending", 2.0)
    restart = {"at": window[0], "started": window[0], "ended": window[1]}
    h.marks = [Mark(window[1], RESTART_MARK, json.dumps(restart)), *h.marks]
    return lost(h)


def test_events_queued_when_the_deploy_restarted_the_target_are_told_with_it() -> None:
    v = _deployed(by_record=False)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith(
        "3 of 6 accepted events produced no effect (lost): missing POST /payouts for 3; 2 of "
        "these were accepted (2xx) before the deploy restart at 0.35 s (the restart hook took "
        "0.03 s) and never worked: work held in memory died with the old process — drain "
        "queued work on SIGTERM before exiting"
    ), v.summary


def test_records_queued_when_the_deploy_restarted_the_target_are_told_with_it() -> None:
    v = _deployed(by_record=True)
    assert v.status is Status.FAIL, v.summary
    assert v.summary.startswith("2 records short of POST /payouts (per record)"), v.summary
    assert "; 1 of these records had events accepted (2xx) before the deploy restart at 0.35 s" in (
        v.summary
    ), v.summary
    assert "and no call for it after: work held in memory died with the old process" in v.summary


@pytest.mark.parametrize("paid_orders", [(1,), ()], ids=["none-after-the-restart", "none-at-all"])
def test_a_restart_is_no_cause_where_the_target_did_not_work_on_both_sides_of_it(
    paid_orders: tuple[int, ...],
) -> None:
    """A target that made no call after the restart, or none at all, loses its events whatever
    the deploy did: an ASGI app calling nothing, restarted by ``true``, had its 42 events told
    'accepted (2xx) before the deploy restart … work held in memory died with the old process'."""
    v = _deployed(by_record=False, paid_orders=paid_orders)
    assert v.status is Status.FAIL, v.summary
    assert "deploy restart" not in v.summary, v.summary


def test_an_event_taken_while_the_hook_ran_is_held_whatever_was_worked_before_it() -> None:
    """Node-RED worked the events it took 0.1-0.3 s into a 0.95 s reload, then lost every one
    it took after: the queue 'had got past' them, and none was told with the restart."""
    v = _deployed(by_record=False, paid_orders=(1, 2, 4, 5), window=(0.15, 0.38))
    assert "; 1 of these was accepted (2xx) before or during the deploy restart at 0.15 s" in (
        v.summary
    ), v.summary


def test_an_event_taken_while_the_hook_ran_is_told_during_the_restart() -> None:
    """Node-RED accepted events 0.7 s into a 0.9 s reload and lost them: 'before' the restart
    said less than the journal shows."""
    v = _deployed(by_record=False, window=(0.25, 0.38))
    assert "accepted (2xx) before or during the deploy restart at 0.25 s" in v.summary, v.summary


def _reloaded(
    refused_at: tuple[float, ...], invariant: str = "accepts_genuine", timed_out: bool = False
) -> Verdict:
    """Ten deliveries 0.1 s apart; a reload from 0.35 s to 0.45 s; those sent at
    ``refused_at`` answered 404 (as Node-RED's while its flows restart) — or, ``timed_out``,
    never answered (a request a stopping flow held) —, the rest 200."""
    events = [ev("zqrun", n) for n in range(1, 11)]
    fault = (
        {"answered_at": None, "status": None, "outcome": Outcome.INDETERMINATE, "error": "timeout"}
        if timed_out
        else {"status": 404, "outcome": Outcome.REJECTED}
    )
    deliveries = [
        dataclasses.replace(ok(e, at=n / 10), **fault) if n / 10 in refused_at else ok(e, at=n / 10)
        for n, e in enumerate(events)
    ]
    h = run(events, deliveries, [write("/payouts", [e]) for e in events], tag="zqrun")
    restart = {"at": 0.35, "started": 0.35, "ended": 0.45}
    h.marks = [Mark(0.45, RESTART_MARK, json.dumps(restart)), *h.marks]
    [v] = judge(h, [InvariantSpec(invariant)])
    return v


def test_a_request_the_stopping_process_never_answered_is_told_with_the_restart() -> None:
    """Node-RED's reload stops its flows with requests in them, never answered: ack_within
    called it 'slow on its own … acknowledge first and do the work after'."""
    v = _reloaded((0.4,), "ack_within", timed_out=True)
    assert v.status is Status.FAIL, v.summary
    assert "; it was sent while the deploy restart at 0.35 s" in v.summary, v.summary
    assert "the stopping process never answered what it held" in v.summary, v.summary
    assert "slow on its own" not in v.summary and "stuck" not in v.summary, v.summary
    other = _reloaded((0.2,), "ack_within", timed_out=True)
    assert "deploy restart" not in other.summary, other.summary


def test_refusals_while_the_deploy_took_the_endpoint_away_are_told_with_it() -> None:
    """Node-RED answers 404 while a reload restarts its flows (and starts them just after its
    deploy call answers): accepts_genuine's cause was 'the path or the method … check the
    automation's route' — the route was right before and after."""
    v = _reloaded((0.4, 0.5))
    assert v.status is Status.FAIL, v.summary
    assert "likely cause: every one was sent while the deploy restart at 0.35 s" in v.summary, (
        v.summary
    )
    assert "answered 404" in v.summary and "the path or the method" not in v.summary
    # One refused outside the gap (before the restart): the restart explains not all of them.
    other = _reloaded((0.2, 0.4))
    assert "deploy restart" not in other.summary, other.summary


# --- a hook that fails: the run ends, nothing judged lost ------------------------------------


def test_a_failing_restart_command_ends_the_run_naming_it_the_runs_before_reported(
    tmp_path: Path,
) -> None:
    _project(tmp_path, "restart: {command: [sh, -c, 'exit 1']}\n")
    (tmp_path / "short.yaml").write_text(SHORT)
    plain = SHORT.replace("name: short-deploy\nrestarts: [0.1s]\n", "name: plain\n")
    (tmp_path / "plain.yaml").write_text(plain)
    report = tmp_path / "report.json"
    done = harness(
        *("run", "plain.yaml", "short.yaml", "--report", str(report)),
        *("--downstream", "127.0.0.1:0"),  # 9100 may be another test's
        cwd=tmp_path,
    )
    assert done.code == 3, done.err
    assert "restart: command 'sh' exited 1" in done.err, done.err
    assert "what was recorded is kept in" in done.err, done.err
    assert "Traceback" not in done.err
    # The run before it judged and reported; its own not judged: none called lost for it.
    assert [r["scenario"] for r in json.loads(report.read_text())["runs"]] == ["plain"]


def test_the_run_restarts_its_target_once_and_its_clean_run_never(tmp_path: Path) -> None:
    calls = tmp_path / "restarts.log"
    hook = json.dumps(f"echo restarted >> {shlex.quote(str(calls))}")
    _project(tmp_path, f"restart: {{command: [sh, -c, {hook}]}}\n")
    (tmp_path / "short.yaml").write_text(SHORT.replace("baseline: false\n", ""))
    done = harness("run", "short.yaml", "--journal", str(tmp_path / "j.db"), cwd=tmp_path)
    assert done.code in (0, 1), done.err  # an automation that calls nothing: judged, either way
    assert calls.read_text() == "restarted\n"
    [run] = load_all(tmp_path / "j.db")
    clean = run.baseline
    assert clean is not None
    assert not [m for m in clean.marks if m.name == RESTART_MARK]
    [mark] = [m for m in run.marks if m.name == RESTART_MARK]
    restart = json.loads(mark.detail)
    assert restart["at"] == 0.1 and restart["started"] >= 0.1
    assert restart["ended"] >= restart["started"] and mark.at >= restart["ended"]


@pytest.mark.parametrize(
    ("restart", "said_"),
    [
        (
            "{command: [no-such-restart-tool, now]}",
            "restart: command 'no-such-restart-tool' is not found",
        ),
        (
            "{post: 'http://deploy.example.com/restart'}",
            "restart URL host 'deploy.example.com' is outside loopback",
        ),
    ],
    ids=["not-found", "off-loopback"],
)
def test_a_bad_restart_is_refused_before_anything_runs(
    tmp_path: Path, restart: str, said_: str
) -> None:
    _project(tmp_path, f"restart: {restart}\n")
    (tmp_path / "short.yaml").write_text(SHORT)
    done = harness("run", "short.yaml", cwd=tmp_path)
    assert done.code == 2, done.err
    assert said_ in done.err, done.err
    assert "its program on PATH" in done.err or "--allow-host deploy.example.com" in done.err
    assert "Traceback" not in done.err
    assert not list(tmp_path.glob("harness-runs/*.db"))  # nothing sent, no journal


# --- gunicorn reloaded mid-run (tests/gallery/deploy_drain.py) -------------------------------


@pytest.mark.integration
@pytest.mark.parametrize("drain", [False, True], ids=["queue-lost", "drains"])
def test_a_gunicorn_reload_loses_the_queue_unless_the_worker_drains(
    tmp_path: Path, drain: bool
) -> None:
    api = free_port()
    pidfile = tmp_path / "app.pid"
    service = start_module(
        "deploy_drain",
        "tests.gallery.deploy_drain",
        ["--port", "0", "--downstream", f"http://127.0.0.1:{api}", "--pidfile", str(pidfile)],
        {"DRAIN": "1" if drain else "0"},
    )
    try:
        kill = f"kill -HUP $(cat {shlex.quote(str(pidfile))})"
        (tmp_path / "harness.yaml").write_text(
            f"target: {service.url}/webhook/orders\n"
            "provider: standard-webhooks\nsecret_env: HARNESS_SECRET\n"
            f"restart: {{command: [sh, -c, {json.dumps(kill)}]}}\n"
            # Declared: no clean run, whose 120 events would each wait out the 0.3 s payout.
            "expect: {order.paid: POST /payouts}\n"
        )
        report = tmp_path / "report.json"
        done = harness(
            "run", "deploy-restart", "--downstream", f"127.0.0.1:{api}", "--seed", "7",
            "--time-scale", "0.5", "--settle-quiet", "0.6", "--report", str(report),
            cwd=tmp_path,
        )  # fmt: skip
    finally:
        service.stop()
    assert report.exists(), done.err
    [run] = json.loads(report.read_text())["runs"]
    found = {v["invariant"]: v for v in run["verdicts"]}
    [h] = load_all(next(tmp_path.glob("harness-runs/*.db")))
    [restart] = [m for m in h.marks if m.name == RESTART_MARK]
    started = json.loads(restart.detail)["started"]
    assert started >= 1.0  # the hazard's 2 s, at --time-scale 0.5
    lost = found["no_lost_events"]
    if drain:  # every verdict holds, but an ack a loaded machine could not time
        unmet = [v for v in held_but_late([run]) if v[1] != "per_key_order"]
        assert not unmet, unmet
        # While the old worker drains, the new one works too: a record's two events a moment
        # apart, one in each, may be paid out of order — the order a graceful reload does not
        # keep, said so (tests/test_gallery_recycled.py reads it alike).
        order = found["per_key_order"]
        if order["status"] != "pass":
            assert "worked at the same time by more than one worker" in order["summary"], said(
                order
            )
        return
    assert lost["status"] == "fail", said(lost)
    cause = (
        r"(was|were) accepted \(2xx\) before(, during or just after| or during)? the deploy "
        r"restart at 1\.\d\d s "
        r"\(the restart hook"
    )
    assert re.search(cause, lost["summary"]), said(lost)
    assert (
        "work held in memory died with the old process — drain queued work on SIGTERM"
        in (lost["summary"])
    )
    paid = {i for e in h.effects if e.committed for i in e.event_ids}
    accepted = {d.event_id: d.answered_at for d in h.deliveries if d.outcome is Outcome.OK}
    named = set(lost["evidence"]["events"])
    assert named and named <= set(accepted) - paid, said(lost)
    assert done.code == 1
