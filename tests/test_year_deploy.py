"""Deploys in the twelve-month run: the built-in year's ``deploy`` life events (every other
Tuesday at 14:00, none in a change freeze) call the project's ``restart:`` hook at their hour,
each marked as a scenario's ``restarts:`` is; skipped with the fix where the project has none;
a ``life:`` of one's own gives them by ``date:``. Against tests/gallery/deploy_drain.py under
gunicorn (``kill -HUP``): the month's lost orders are told with the deploy that lost them."""

from __future__ import annotations

import contextlib
import json
import re
import shlex
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from harness.core._calendar import CalendarSpec, LifeEvent
from harness.core._errors import InputError, ScenarioError
from harness.core._model import Outcome
from harness.history import load_all, run_infos
from harness.invariants._restarts import RESTART_MARK
from harness.scenario._hazards import RESTART_FIX, resolve_hazards
from harness.scenario._load import load_scenario
from harness.scenario._project import load_project
from harness.year import plan_year

from .conftest import free_port, harness, held_but_late, start_module
from .test_gallery import said

TUESDAYS_2028 = [
    date(2028, 1, 4), date(2028, 1, 18), date(2028, 2, 1), date(2028, 2, 15),
    date(2028, 2, 29), date(2028, 3, 14), date(2028, 3, 28),
]  # fmt: skip


def _year(tmp_path: Path, project: str, calendar: CalendarSpec | None = None) -> object:
    (tmp_path / "harness.yaml").write_text(project)
    [year] = resolve_hazards(["year"], load_project(tmp_path / "harness.yaml")).scenarios
    assert year.calendar is not None
    return plan_year(year, calendar or year.calendar, 7)


RESTART = "restart: {command: [sh, -c, 'exit 0']}\n"
TARGET = "target: http://127.0.0.1:8000/hooks/orders\n"


def test_the_built_in_year_deploys_every_other_tuesday_at_two_outside_the_freezes(
    tmp_path: Path,
) -> None:
    plan = _year(tmp_path, TARGET + RESTART)
    deploys = [e.on for e in plan.life if e.kind == "deploy"]  # type: ignore[attr-defined]
    assert deploys[:7] == TUESDAYS_2028
    assert all(d.weekday() == 1 for d in deploys)
    # Black Friday (24 November 2028) week and 18 December on: a change freeze.
    assert date(2028, 11, 21) not in deploys and date(2028, 11, 7) in deploys
    assert date(2028, 12, 5) in deploys and date(2028, 12, 19) not in deploys
    assert len(deploys) == 24
    march = next(m for m in plan.months() if m.month == "2028-03")  # type: ignore[attr-defined]
    # 14:00 Berlin on 14 March (CET) and 28 March (CEST, after the 26 March switch), from the
    # month's first midnight: 13 and 27 days on, 14 hours, less the hour DST took on the 28th.
    assert march.scenario.restarts == (13 * 86400 + 14 * 3600.0, 27 * 86400 + 13 * 3600.0)
    assert march.scenario.restart is not None
    assert "2028-03-14: deployed at 14:00, the automation restarted." in march.scenario.adapted
    assert {"kind": "deploy", "on": "2028-03-14", "title": "deploy"} in march.settings()["life"]
    assert plan.baseline().restarts == ()  # type: ignore[attr-defined]  # the clean run never


def test_a_project_without_restart_skips_the_deploys_once_with_the_fix(tmp_path: Path) -> None:
    plan = _year(tmp_path, TARGET)
    assert not [e for e in plan.life if e.kind == "deploy"]  # type: ignore[attr-defined]
    [skipped] = [s for s in plan.skipped if "deploy" in s.name]  # type: ignore[attr-defined]
    assert skipped.name == "24 deploys, 2028-01-04 to 2028-12-05"
    assert skipped.reason == f"the project gives no way to restart the automation — {RESTART_FIX}"
    assert all(m.scenario.restarts == () for m in plan.months())  # type: ignore[attr-defined]


def test_a_life_of_ones_own_deploys_on_its_dates_at_its_hour(tmp_path: Path) -> None:
    life = (LifeEvent("deploy", date(2028, 2, 10), {"hour": 9.5}, "release 4.2"),)
    calendar = CalendarSpec(months=2, timezone="UTC", life=life)
    plan = _year(tmp_path, TARGET + RESTART, calendar)
    january, february = plan.months()  # type: ignore[attr-defined]
    assert january.scenario.restarts == ()
    assert february.scenario.restarts == (9 * 86400 + 9.5 * 3600,)
    assert "2028-02-10: deployed at 09:30, the automation restarted." in february.scenario.adapted


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '{kind: deploy, date: "2028-01-11", params: {hour: 25}}',
            ":12: calendar.life[0].params.hour: 25 is not allowed — must be a local hour from "
            "0 to 24, like 14 or 9.5",
        ),
        (
            '{kind: deploy, date: "2028-01-11", params: {hour: "2pm"}}',
            ":12: calendar.life[0].params.hour: '2pm' is not allowed",
        ),
        (
            '{kind: deploy, date: "2028-03-11"}',
            ":12: calendar.life[0].date: '2028-03-11' is not allowed — must fall within the "
            "calendar's 2 months",
        ),
        ('{kind: deploy, on: "2028-01-11"}', ":12: calendar.life[0]: key 'on' is not allowed"),
    ],
    ids=["hour-past-24", "hour-not-a-number", "outside", "on"],
)
def test_a_bad_deploy_is_refused_at_its_line(tmp_path: Path, entry: str, message: str) -> None:
    path = tmp_path / "my.scenario.yaml"
    path.write_text(
        "source:\n  synthetic:\n    example: {id: evt_1, data: {order_id: ord_1}}\n"
        "    events: 4\n    records: 2\n    over: 1s\n    key: $.data.order_id\n"
        "calendar:\n  start: '2028-01-01'\n  months: 2\n  life:\n"
        f"    - {entry}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert f"{path}{message}" in str(caught.value), caught.value


def test_a_deploy_hour_built_in_python_is_refused_naming_it(tmp_path: Path) -> None:
    life = (LifeEvent("deploy", date(2028, 1, 11), {"hour": -1}),)
    with pytest.raises(InputError) as caught:
        _year(tmp_path, TARGET + RESTART, CalendarSpec(months=1, life=life))
    assert "calendar.life[0].params.hour: -1 is not allowed" in str(caught.value)


def test_a_restart_hook_not_found_is_refused_before_the_year_sends_anything(
    tmp_path: Path,
) -> None:
    (tmp_path / "harness.yaml").write_text(
        "target: http://127.0.0.1:9/hooks\nrestart: {command: [no-such-deploy-tool]}\n"
    )
    done = harness("run", "year", "--months", "1", "--downstream", "127.0.0.1:0", cwd=tmp_path)
    assert done.code == 2, done.err
    assert "restart: command 'no-such-deploy-tool' is not found" in done.err, done.err
    assert "Traceback" not in done.err
    assert not list(tmp_path.glob("harness-runs/*.db"))


def test_a_deploy_whose_hook_fails_ends_the_year_kept_and_resumable(tmp_path: Path) -> None:
    (tmp_path / "harness.yaml").write_text(
        "target: tests.project_asgi:app/webhooks/stripe\nrestart: {command: [sh, -c, 'exit 1']}\n"
    )
    journal = tmp_path / "year.db"
    done = harness(
        "run", "year", "--months", "2", "--events-per-day", "5", "--day-seconds", "0.2",
        "--no-baseline", "--downstream", "127.0.0.1:0", "--journal", str(journal), cwd=tmp_path,
    )  # fmt: skip
    assert done.code == 3, done.err
    err = " ".join(done.err.split())
    assert "restart: command 'sh' exited 1" in err, err
    assert f"go on with `harness run year --resume {journal}`" in err, err
    assert "Traceback" not in err and "2028-02" not in err
    [(info, status)] = run_infos(journal)
    assert info.settings["calendar"]["month"] == "2028-01" and status == "aborted"


# --- gunicorn redeployed in a month of the year ------------------------------------------------


@contextlib.contextmanager
def gunicorn_redeployed(tmp_path: Path, *, drain: bool, hook: str = "") -> Iterator[int]:
    """tests/gallery/deploy_drain.py under gunicorn, and a harness.yaml in ``tmp_path`` whose
    ``restart:`` reloads it (``kill -HUP``, then ``hook`` in the same shell); the downstream's
    port, while it runs."""
    api = free_port()
    pidfile = tmp_path / "app.pid"
    args = ["--port", "0", "--downstream", f"http://127.0.0.1:{api}", "--pidfile", str(pidfile)]
    service = start_module(
        "deploy_drain", "tests.gallery.deploy_drain", args, {"DRAIN": str(int(drain))}
    )
    kill = f"kill -HUP $(cat {shlex.quote(str(pidfile))}){hook}"
    (tmp_path / "harness.yaml").write_text(
        f"target: {service.url}/webhook/orders\n"
        "provider: standard-webhooks\nsecret_env: HARNESS_SECRET\n"
        f"restart: {{command: [sh, -c, {json.dumps(kill)}]}}\n"
        "expect: {order.paid: POST /payouts}\n"  # no clean run of 0.3 s payouts
    )
    try:
        yield api
    finally:
        service.stop()


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_a_month_of_a_worker_that_drains_holds_through_its_deploys(tmp_path: Path) -> None:
    """The sound variant (``DRAIN=1``: the old worker pays out what it holds before it exits):
    January's two deploys cost nothing, and the month is no failure."""
    with gunicorn_redeployed(tmp_path, drain=True) as api:
        report = tmp_path / "report.json"
        done = harness(
            "run", "year", "--months", "1", "--events-per-day", "20", "--day-seconds", "0.3",
            "--downstream", f"127.0.0.1:{api}", "--seed", "7", "--report", str(report),
            "--no-baseline", cwd=tmp_path,
        )  # fmt: skip
    [run] = json.loads(report.read_text())["runs"]
    assert len(run["restarts"]) == 2, done.err
    # What a month may have nothing for, and an ack a loaded machine could not time, aside;
    # and the month's copies (its `duplicates` life event): the app pays out every delivery it
    # takes, a copy again (tests/test_year_duplicates.py) — not what its deploys cost.
    aside = ("backs_off", "drift_is_loud", "per_key_order", "no_duplicate_effects")
    unmet = [v for v in held_but_late([run]) if v[1] not in aside]
    assert not unmet, (unmet, done.err)
    # While the old worker drains, the new one works too: a record's two events a moment
    # apart, one in each, may be paid out of order — the order a graceful reload does not keep,
    # said so (tests/test_deploy_restart.py reads it alike).
    order = next(v for v in run["verdicts"] if v["invariant"] == "per_key_order")
    if order["status"] != "pass":
        assert "worked at the same time by more than one worker" in order["summary"], said(order)
        return
    # The month fails only on its copies, if at all (the app does not deduplicate).
    failed = {v["invariant"] for v in run["verdicts"] if v["status"] == "fail"}
    assert failed <= {"no_duplicate_effects"}, (failed, done.err)
    none = "1 month run, none failed" in done.err
    assert (done.code, none) == ((1, False) if failed else (0, True)), done.err


@pytest.mark.integration
@pytest.mark.timeout(240)
def test_a_month_of_the_year_tells_the_orders_its_deploys_lost(tmp_path: Path) -> None:
    """January 2028 at 0.3 s a day: deploys on the 4th and 18th at 14:00 (1.3 s and 5.5 s into
    the month), each gunicorn's ``kill -HUP``; the worker's queue of payouts dies with it."""
    with gunicorn_redeployed(tmp_path, drain=False) as api:
        report = tmp_path / "report.json"
        journal = tmp_path / "year.db"
        done = harness(
            "run", "year", "--months", "1", "--events-per-day", "20", "--day-seconds", "0.3",
            "--downstream", f"127.0.0.1:{api}", "--seed", "7", "--journal", str(journal),
            "--report", str(report), "--no-baseline", cwd=tmp_path,
        )  # fmt: skip
    assert "2028-01 · " in done.err and "4 deploy, 18 deploy" in done.err, done.err
    [run] = load_all(journal)
    marks = [json.loads(m.detail) for m in run.marks if m.name == RESTART_MARK]
    scale = 0.3 / 86400
    assert [round(m["at"], 6) for m in marks] == [
        round((3 * 86400 + 14 * 3600) * scale, 6),
        round((17 * 86400 + 14 * 3600) * scale, 6),
    ]
    assert all(m["started"] >= m["at"] and m["ended"] >= m["started"] for m in marks)
    [verdicts] = [r["verdicts"] for r in json.loads(report.read_text())["runs"]]
    lost = next(v for v in verdicts if v["invariant"] == "no_lost_events")
    assert lost["status"] == "fail", said(lost)
    cause = (
        r"(was|were) accepted \(2xx\) before(, during or just after| or during)? "
        r"the (deploy restart|2 deploy restarts) "
        r"at 1\.\d\d s(, 5\.\d\d s)? "
        r"\(due 2028-01-04 14:00(, 2028-01-18 14:00)?; the restart hook took"
    )
    assert re.search(cause, lost["summary"]), said(lost)
    assert "work held in memory died with the old process" in lost["summary"], said(lost)
    paid = {i for e in run.effects if e.committed for i in e.event_ids}
    accepted = {d.event_id for d in run.deliveries if d.outcome is Outcome.OK}
    assert set(lost["evidence"]["events"]) <= accepted - paid, said(lost)
    assert done.code == 1, done.err
    # The report draws both deploys, each at its calendar moment; the month's schedule (the
    # planner's) is not drawn per event as a hand-written schedule: is.
    [restarts] = [r["restarts"] for r in json.loads(report.read_text())["runs"]]
    assert [r["calendar"] for r in restarts] == ["2028-01-04 14:00", "2028-01-18 14:00"]
    text = tmp_path / "report.md"
    assert harness("check", str(journal), "--report", str(text)).code == 1
    assert "The explicit schedule, per event" not in text.read_text()
    assert "Deploy restarts (`┃`): deploy restart at 1." in text.read_text()
