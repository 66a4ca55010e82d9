"""Deploy restarts the run made, round two: server errors a stop-then-start deploy caused
(``no_server_errors``), a restart the run was stopped in the middle of, the calendar moment a
year's deploy was due, and the per-record window of ``restart_loss``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path

import pytest

from harness.core._model import CONNECT_FAILED, Event, Outcome, Status, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import Mark
from harness.invariants import judge
from harness.invariants._restarts import RESTART_MARK

from .conftest import free_port, harness, start_module
from .test_expected import _settled, clean_run, ev, lost, ok, run, write
from .test_mend_k_restarts import _REFUSED, _restarted

_BAD_GATEWAY = {"status": 502, "outcome": Outcome.FAILED, "error": None}


def test_connections_refused_while_the_deploy_restarted_are_told_with_it() -> None:
    """A deploy that stops the process and starts it again: two deliveries could not connect.
    Before: "2 of 10 deliveries (20%) got a server error: 2 failed (connect failed: Connection
    refused); at most 0% allowed", the restart unsaid."""
    v = _restarted((0.4, 0.5), "no_server_errors", _REFUSED)
    assert v.status is Status.FAIL, v.summary  # the sender saw errors: still loud
    assert (
        "; both of them were sent while the deploy restart at 0.35 s (the restart hook took "
        "0.10 s) took the endpoint away: errors the deploy caused, not a crash — it stopped the "
        "process that answered, and until a new one took deliveries those sent could not "
        "connect or got 5xx; a zero-downtime deploy keeps one answering: a graceful reload"
    ) in v.summary, v.summary
    assert "a second instance behind the proxy" in v.summary


def test_a_5xx_outside_the_restart_is_counted_apart() -> None:
    """The proxy's 502 while the new process starts is the deploy's; one before it is not."""
    v = _restarted((0.2, 0.4), "no_server_errors", _BAD_GATEWAY)
    assert "2 answered 502" in v.summary, v.summary
    assert "; 1 of them was sent while the deploy restart at 0.35 s" in v.summary, v.summary
    alone = _restarted((0.2,), "no_server_errors", _BAD_GATEWAY)
    assert alone.status is Status.FAIL and "deploy restart" not in alone.summary, alone.summary


def test_a_restart_that_started_nothing_is_said_so() -> None:
    v = _restarted(tuple(n / 10 for n in range(4, 10)), "no_server_errors", _REFUSED)
    assert (
        "all 6 of them were sent while the deploy restart at 0.35 s (the restart hook took "
        "0.10 s) took the endpoint away, and the target accepted nothing after it returned"
    ) in v.summary, v.summary
    assert CONNECT_FAILED in v.summary


# --- restart_loss per record: the window ends where the per-event one does ---------------------


def _records_across(paid: tuple[int, ...], *, interrupted: bool = False) -> Verdict:
    """Four orders of two events each, the pairs accepted at 0.05-0.1, 0.34-0.36, 0.44-0.46
    and 0.5-0.52 s, and paid by record (a call naming the order, no event) at ``paid`` of them,
    0.15 s after the second; a deploy restart whose hook ran from 0.30 to 0.32 s (gunicorn's
    ``kill -HUP`` returns at once; ``interrupted``: Ctrl-C stopped it there)."""
    at = (0.05, 0.1, 0.34, 0.36, 0.44, 0.46, 0.5, 0.52)

    def orders(tag: str) -> list[Event]:
        return [ev(tag, n, key=f"ord_{tag}{n // 2}") for n in range(8)]

    twins = orders("zqclean")
    paid_once = [write("/payouts", key=twins[n].key, at=n + 1.2) for n in range(1, 8, 2)]
    clean = clean_run(twins, paid_once)  # each order paid once, after its second event
    mine = orders("zqrun")
    deliveries = [ok(e, at=t) for e, t in zip(mine, at, strict=True)]
    calls = [write("/payouts", key=mine[2 * n].key, at=at[2 * n + 1] + 0.15) for n in paid]
    h = _settled(run(mine, deliveries, calls, tag="zqrun", baseline=clean), "pending", 2.0)
    restart = {"at": 0.3, "started": 0.3, "ended": 0.32, "interrupted": interrupted}
    h.marks = [Mark(0.32, RESTART_MARK, json.dumps(restart)), *h.marks]
    return lost(h)


def test_a_record_taken_after_the_hook_returned_and_before_any_was_worked_is_the_restarts() -> None:
    """The order taken at 0.34-0.36 s, after the hook returned and before the order of
    0.44-0.46 s that was paid: the old worker took it and died with it, as the per-event
    window has said since mend-k. Before: "late, or lost in a process that then ended" (the
    window ended at the hook's return)."""
    v = _records_across(paid=(0, 2, 3))
    assert v.status is Status.FAIL, v.summary
    assert (
        "1 record short of POST /payouts (per record); the record had events accepted (2xx) "
        "before, during or just after the "
        "deploy restart at 0.30 s (the restart hook took 0.02 s) — those after it taken before "
        "any event accepted since the restart began was worked"
    ) in v.summary, v.summary


def test_a_record_lost_after_one_was_worked_since_the_restart_is_not_the_restarts() -> None:
    """The order of 0.34-0.36 s paid, that of 0.44-0.46 s not: the new process was working by
    then."""
    v = _records_across(paid=(0, 1, 3))
    assert v.status is Status.FAIL, v.summary
    assert "deploy restart" not in v.summary, v.summary


# --- a restart Ctrl-C stopped part-way; a year month's calendar moment -------------------------

# January 2028 compressed so that 0.35 s of the run is 4 January 14:00:30 (UTC).
_SCALE = 0.35 / (3 * 86400 + 14 * 3600 + 30)
_JANUARY = {"calendar": {"first_day": "2028-01-01", "timezone": "UTC"}, "time_scale": _SCALE}


def _deploy(
    refused_from: float, invariant: str, *, interrupted: bool = False, month: bool = False
) -> Verdict:
    """Ten orders 0.1 s apart, each paid 0.01 s after its answer; a deploy restart whose hook
    ran from 0.35 to 0.45 s (``interrupted``: Ctrl-C stopped it there); every delivery sent
    from ``refused_from`` on could not connect."""
    orders = [ev("zqcut", n) for n in range(1, 11)]
    sent = [(e, n / 10) for n, e in enumerate(orders)]
    deliveries = [
        dataclasses.replace(ok(e, at=t), **(_REFUSED if t >= refused_from else {})) for e, t in sent
    ]
    paid = [write("/payouts", [e], at=t + 0.01) for e, t in sent if t < refused_from]
    h = run(orders, deliveries, paid, tag="zqcut", settings=_JANUARY if month else None)
    mark = {"at": 0.35, "started": 0.35, "ended": 0.45} | (
        {"interrupted": True} if interrupted else {}
    )
    h.marks = [Mark(0.45, RESTART_MARK, json.dumps(mark))]
    [v] = judge(h, [InvariantSpec(invariant)])
    return v


def test_a_restart_in_a_year_month_is_named_with_the_moment_it_was_due() -> None:
    """Before: "the deploy restart at 0.35 s (the restart hook took 0.10 s)", the run's seconds
    alone — meaningless in a month compressed to seconds."""
    for invariant in ("no_server_errors", "target_available"):
        v = _deploy(0.4, invariant, month=True)
        assert (
            "the deploy restart at 0.35 s (due 2028-01-04 14:00; the restart hook took 0.10 s)"
        ) in v.summary, (invariant, v.summary)
    assert "(due " not in _deploy(0.4, "no_server_errors").summary  # no calendar: no moment


def test_a_restart_ctrl_c_stopped_is_not_said_to_have_returned() -> None:
    """The hook was killed part-way and the run ended there. Before: "the target accepted
    nothing after it returned: the hook stopped the old process and no new one answered —
    check that the restart starts it again" — of a hook that never returned."""
    v = _deploy(0.4, "no_server_errors", interrupted=True)
    assert v.status is Status.FAIL, v.summary
    assert "after it returned" not in v.summary, v.summary
    assert (
        "all 6 of them were sent while the deploy restart at 0.35 s (Ctrl-C stopped the restart "
        "hook after 0.10 s, and the run with it) took the endpoint away, and the run ended "
        "there: its hook, stopped part-way, may have stopped the old process before starting a "
        "new one"
    ) in v.summary, v.summary


def test_work_held_across_a_restart_ctrl_c_stopped_is_not_blamed_on_it() -> None:
    """A record taken before a deploy whose hook Ctrl-C killed, never worked: the old process
    may have been stopped with it, or not. Before: "work held in memory died with the old
    process", as of a restart made whole."""
    v = _records_across(paid=(0, 2, 3), interrupted=True)
    assert "died with the old process" not in v.summary, v.summary
    assert (
        "the record had events accepted (2xx) before, during or just after the deploy restart "
        "at 0.30 s (Ctrl-C stopped the restart hook after 0.02 s, and the run with it) and no "
        "call for it after by the time the run ended: the deploy was stopped part-way, so this "
        "run cannot tell whether it lost that work"
    ) in v.summary, v.summary


# --- a real deploy that stops the process and starts it again ----------------------------------

STOP_THEN_START = """\
name: stop-then-start
restarts: [1s]
baseline: false
invariants: [no_server_errors]
source:
  synthetic: {events: 100, records: 100, over: 8s, key: $.data.order_id, example:
    {id: evt_1, type: order.paid, data: {order_id: ord_1, amount: 1200}}}
settle: {quiet: 1s, deadline: 5s}
"""


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_a_deploy_that_stops_and_starts_gunicorn_is_named_by_no_server_errors(
    tmp_path: Path,
) -> None:
    """tests/gallery/deploy_drain.py under gunicorn, deployed by stopping it (``kill -TERM``,
    waited out) and starting it again on its port: nothing listens between. Before: "50 of 100
    deliveries (50%) got a server error: 50 failed (connection failed: …); at most 0% allowed",
    the deploy unsaid."""
    port, api = free_port(), free_port()
    pidfile = tmp_path / "app.pid"
    args = [
        "--port",
        str(port),
        "--downstream",
        f"http://127.0.0.1:{api}",
        "--pidfile",
        str(pidfile),
    ]
    service = start_module("deploy_drain", "tests.gallery.deploy_drain", args, {})
    again = shlex.join([sys.executable, "-m", "tests.gallery.deploy_drain", *args])
    (tmp_path / "deploy.sh").write_text(
        f'pid=$(cat {shlex.quote(str(pidfile))}); kill -TERM "$pid"\n'
        'while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done\n'
        f"cd {shlex.quote(str(Path(__file__).parents[1]))} && {again} > /dev/null 2>&1 &\n"
    )
    (tmp_path / "harness.yaml").write_text(
        f"target: {service.url}/webhook/orders\n"
        "provider: standard-webhooks\nsecret_env: HARNESS_SECRET\n"
        "restart: {command: [sh, deploy.sh]}\n"
    )
    (tmp_path / "deploy.yaml").write_text(STOP_THEN_START)
    report = tmp_path / "report.json"
    try:
        done = harness(
            "run", "deploy.yaml", "--downstream", f"127.0.0.1:{api}", "--report", str(report),
            cwd=tmp_path,
        )  # fmt: skip
    finally:
        service.stop()
        _stop(pidfile)  # the process the deploy started
    [run] = json.loads(report.read_text())["runs"]
    errors = next(v for v in run["verdicts"] if v["invariant"] == "no_server_errors")
    assert errors["status"] == "fail", (errors, done.err)  # the sender saw them: still loud
    assert re.search(
        r"; (both|all \d+|\d+ of them) (of them )?were sent while the deploy restart at 1\.\d\d s "
        r"\(the restart hook took \d+\.\d\d s\) took the endpoint away: errors the deploy "
        r"caused, not a crash",
        errors["summary"],
    ), errors["summary"]


def _stop(pidfile: Path) -> None:
    """TERM the gunicorn whose pid ``pidfile`` holds, and wait (10 s at most) until it is gone."""
    with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
        pid = int(pidfile.read_text())
        os.kill(pid, signal.SIGTERM)
        for _ in range(200):
            os.kill(pid, 0)  # ProcessLookupError once gone
            time.sleep(0.05)
