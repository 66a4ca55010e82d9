"""The Locust adapter as users run it: `harness locust`, their own locustfile with ScenarioUser
and ScenarioShape, and Locust's master/worker mode, as real processes on loopback.

Locust monkey-patches the process that imports it, so nothing here imports locust: every run
is a child process. ``harness locust`` itself runs in this process (``harness``) where a test
reads only the journal and the report: Locust's child prints on this process's own streams,
not into ``Completed``; where a test reads what Locust printed, it is a process
(``locust_process``). Each Locust process is forked from the Locust zygote
(tests/locust_zygote.py: ``forked_locust``), each ``harness locust`` process from the
automations' (tests/zygote.py), sparing their imports; those that test what only a process
started afresh shows (signals) start one.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Protocol

import pytest
import yaml

from harness.cli import _locust
from harness.cli._processes import free_port
from harness.core._errors import InputError
from harness.engine import RunOptions, prepare
from harness.history import load_all
from harness.scenario._load import resolve

from . import locust_zygote
from .conftest import (
    REPO,
    SECRET,
    Automation,
    Completed,
    forked,
    harness,
    listening,
    signalled,
)

sys.path.insert(0, str(REPO / "plugins"))  # a checkout not installed in editable mode

from harness_locust._plan import partition, with_events

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("forked_locust")]

HEADLESS = ("--headless", "--only-summary", "--loglevel", "WARNING")
# harness and its Locust plugin importable by the processes a test starts.
_IMPORTABLE = {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])}


def locust_cli(automation: Automation, scenario: str, tmp: Path, *args: str) -> list[str]:
    """`harness locust` arguments for a run against a demo automation, journal in ``tmp``."""
    return [
        "locust", scenario, "--target", automation.hook,
        "--downstream", f"127.0.0.1:{automation.downstream_port}",
        "--journal", str(tmp / "run.db"), "--report", str(tmp / "report.json"), *args,
    ]  # fmt: skip


@pytest.fixture
def forked_locust(monkeypatch: pytest.MonkeyPatch) -> None:
    """``harness locust`` in this process starts its Locust forked from the Locust zygote."""
    monkeypatch.setattr(_locust, "_popen", locust_zygote.popen)


class _Process(Protocol):
    pid: int

    def wait(self, timeout: float | None = None) -> int: ...
    def poll(self) -> int | None: ...
    def kill(self) -> None: ...


class Started:
    """A process a test forked (``start``: with the file descriptors of its stdout and stderr),
    what it prints kept in files; from the automations' zygote its stdout is a pipe, copied."""

    def __init__(self, start: Callable[[int, int], _Process]) -> None:
        self._out, self._err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        self.process = start(self._out.fileno(), self._err.fileno())
        pipe = getattr(self.process, "stdout", None)
        self._copying = threading.Thread(target=_copy, args=(pipe, self._out.fileno()))
        if pipe is not None:
            self._copying.start()

    def ended(self, timeout: float) -> Completed:
        """Its exit code and what it printed, once it has ended (killed if not within
        ``timeout`` s, and TimeoutExpired raised)."""
        try:
            code = self.process.wait(timeout)
            if self._copying.is_alive():
                self._copying.join(timeout)
            return Completed(code, _text(self._out), _text(self._err))
        finally:
            self.stop()

    def stop(self) -> None:
        """Killed if still running; its files closed."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if self._copying.is_alive():
            self._copying.join(10)
        self._out.close()
        self._err.close()


def _text(file: IO[bytes]) -> str:
    file.seek(0)
    return file.read().decode()


def _copy(pipe: IO[bytes], fd: int) -> None:
    """What comes on ``pipe`` to the file ``fd``, until its end."""
    with pipe:
        while chunk := pipe.read(65536):
            os.write(fd, chunk)


def locust_process(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> Completed:
    """``harness ARGS`` as a process (``harness_process``), forked from the automations'
    zygote, its Locust from the Locust zygote: their exit code and what they printed."""
    return harness_started(list(args), {"COLUMNS": "200", **(env or {})}, cwd).ended(timeout)


def harness_started(args: list[str], env: dict[str, str], cwd: Path) -> Started:
    """``python -m harness ARGS`` (``env`` over this one's) started in ``cwd``, forked."""
    environ = {**os.environ, "HARNESS_SECRET": SECRET, **env}
    return Started(
        lambda _, err: forked("tests.locust_harness", args, environ, stderr=err, cwd=cwd)
    )


def locust_started(args: list[str], env: dict[str, str], cwd: Path) -> Started:
    """``python -m locust ARGS`` with exactly ``env``, started in ``cwd``, forked."""
    command = [*_LOCUST, *args]
    return Started(lambda out, err: locust_zygote.Forked(command, env, (out, err), cwd))


def run_locust(locustfile: Path, *args: str, env: dict[str, str] | None = None) -> Completed:
    """Locust itself on a user's locustfile, with this checkout importable."""
    environ = {**os.environ, "HARNESS_SECRET": SECRET, **_IMPORTABLE, **(env or {})}
    started = locust_started(["-f", str(locustfile), *args], environ, locustfile.parent)
    return started.ended(90)


@contextmanager
def worker_processes(starts: Sequence[Callable[[], Started]]) -> Iterator[list[Started]]:
    """Locust workers (each started by a call of ``starts``), their output kept; any still
    running when the block ends is killed."""
    workers: list[Started] = []
    try:
        workers += [start() for start in starts]
        yield workers
    finally:
        for w in workers:
            w.stop()


def test_fragile_fails_with_evidence_and_requests_named_by_event_type(
    fragile: Automation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    args = locust_cli(fragile, "duplicate-storm", tmp_path, "--seed", "3")
    r = locust_process(*args, "--", *HEADLESS, "-u", "10", "-r", "10", "-t", "60s", cwd=tmp_path)
    assert r.code == 1, r.err
    doc = json.loads((tmp_path / "report.json").read_text())
    (run,) = doc["runs"]
    assert run["status"] == "complete" and run["seed"] == 3
    assert run["reproduce"].startswith("harness locust duplicate-storm --target ")
    planned = len(prepare(resolve(["duplicate-storm"])[0], _options(fragile, 3)).schedule)
    assert run["counts"]["deliveries"] == planned == run["counts"]["effects"]
    failed = {v["invariant"]: v for v in run["verdicts"] if v["status"] == "fail"}
    assert failed.keys() == {"no_duplicate_effects"}
    assert "was delivered 2 times" in " ".join(failed["no_duplicate_effects"]["evidence"]["lines"])
    assert "order.paid" in r.out + r.err  # Locust's stats name requests by event type
    assert "POST     /hooks" not in r.out + r.err


def test_distributed_master_and_two_workers_hold_one_history(
    sound: Automation, tmp_path: Path
) -> None:
    port = free_port()
    common = locust_cli(sound, "bulk-import-burst", tmp_path, "--seed", "11")
    worker_args = [*common, "--", "--worker", "--master-host", "127.0.0.1"]
    worker = functools.partial(
        harness_started, [*worker_args, "--master-port", str(port)], {}, tmp_path
    )
    with worker_processes([worker] * 2) as workers:
        master = [
            "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
            "--expect-workers", "2", "--expect-workers-max-wait", "30",
        ]  # fmt: skip
        r = harness(*common, "--", *master, *HEADLESS, "-u", "20", "-r", "20", "-t", "60s")
        ended = [w.ended(30) for w in workers]
    worker_errs = [w.err for w in ended]
    assert r.code == 0, r.err + "\n".join(worker_errs)
    assert all(w.code == 0 for w in ended), worker_errs
    (history,) = load_all(tmp_path / "run.db")
    shares = sorted(m.detail for m in history.marks if m.name == "locust.share")
    assert len(shares) == 2, shares
    delivered = [int(s.split(": ")[1].split(" of ")[0]) for s in shares]
    assert all(n > 0 for n in delivered)  # both workers took part
    assert sum(delivered) == history.info.settings["planned_deliveries"]
    assert len(history.deliveries) == sum(delivered)
    assert len({d.id for d in history.deliveries}) == len(history.deliveries)
    assert json.loads((tmp_path / "report.json").read_text())["passed"] is True


LOCUSTFILE = """
from harness_locust import ScenarioShape, ScenarioUser


class Orders(ScenarioUser):
    scenario = "bulk-import-burst"
    path = "/hooks/orders"
"""


def test_own_locustfile_with_the_shape_replays_the_timeline(
    sound: Automation, tmp_path: Path
) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    r = run_locust(
        locustfile,
        "--host", sound.service.url,
        "--harness-downstream", f"127.0.0.1:{sound.downstream_port}",
        "--harness-journal", str(tmp_path / "run.db"), "--harness-seed", "5",
        *HEADLESS, "-t", "60s",
    )  # fmt: skip
    # What this test proves is the timeline; the sound automation's acks for 200 events in
    # 3 s may pass its 2 s budget on a machine the whole suite loads (seen once in eighteen
    # workers): ack_within alone may fail, nothing else.
    failed = "harness: invariants failed: ack_within\n"
    assert r.code == 0 or (r.code == 1 and failed in r.err), r.err
    (history,) = load_all(tmp_path / "run.db")
    ds = history.deliveries
    assert len(ds) == history.info.settings["planned_deliveries"] == 200
    # The scenario squeezes 200 events into 3 s: each planned at its time in them, and sent at
    # that time or after — a shape that ignored the timeline would send them at once. How late
    # is the machine's load (a median of 64 ms beside the suite's workers), measured by
    # benchmarks/bench_burst.py, not asserted here.
    planned = [d.scheduled_at for d in ds]
    assert 2.5 < max(planned) - min(planned) < 4.0, planned
    early = [d for d in ds if d.sent_at < d.scheduled_at]
    assert not early, early[:3]
    assert "--harness-seed 5" in history.info.settings["reproduce"]


def test_bad_input_stops_locust_before_any_user_with_exit_code_2(tmp_path: Path) -> None:
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(LOCUSTFILE.replace("bulk-import-burst", "bulk-import-brust"))
    args = ("--host", "http://127.0.0.1:9/h", *HEADLESS, "-t", "5s")
    r = run_locust(locustfile, *args)
    assert r.code == 2 and "did you mean 'bulk-import-burst'" in r.err, r.err
    locustfile.write_text(LOCUSTFILE)
    r = run_locust(locustfile, *args, env={"HARNESS_SECRET": ""})
    assert r.code == 2 and "HARNESS_SECRET is not set" in r.err, r.err
    r = harness("locust", "standard", "--target", "http://127.0.0.1:9/h", cwd=tmp_path)
    assert r.code == 2 and "a load test runs one scenario" in r.err, r.err
    r = harness("locust", "duplicate-storm", "--target", "http://192.0.2.1/h", cwd=tmp_path)
    assert r.code == 2 and "outside loopback" in r.err, r.err
    # Refused in `harness locust` itself, before Locust (and its web UI) starts.
    local = ("locust", "duplicate-storm", "--target", "http://127.0.0.1:9/h")
    r = harness(*local, cwd=tmp_path, env={"HARNESS_SECRET": ""})
    assert r.code == 2 and "HARNESS_SECRET is not set" in r.err, r.err
    for listen in (["--web-host", "0.0.0.0"], ["--master-bind-host=*"], ["--master-bind-h", "::"]):
        r = harness(*local, "--", *listen, cwd=tmp_path)
        assert r.code == 2 and "not a loopback address" in r.err, r.err
        assert "steer the load" in r.err, r.err
        assert "--listen-beyond-loopback" in r.err, r.err


def test_unreachable_target_is_an_incomplete_run(tmp_path: Path) -> None:
    target = f"http://127.0.0.1:{free_port()}/hooks/orders"
    args = ["locust", "duplicate-storm", "--target", target, "--downstream", "127.0.0.1:0"]
    r = locust_process(*args, "--", *HEADLESS, "-u", "5", "-r", "5", "-t", "30s", cwd=tmp_path)
    assert r.code == 3 and "no delivery reached the target" in r.err, r.err


def _options(automation: Automation, seed: int) -> RunOptions:
    return RunOptions.create(automation.hook, seed=seed, journal="unused.db")


def test_partition_gives_each_record_to_one_worker_in_schedule_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    scenario = with_events(resolve(["duplicate-storm"])[0], 300)
    prepared = prepare(scenario, RunOptions.create("http://127.0.0.1:9/h", seed=1))
    shares = [partition(prepared, i, 3) for i in range(3)]
    assert sorted(n for share in shares for n in share) == list(range(len(prepared.schedule)))
    assert all(share == sorted(share) and share for share in shares)
    owner: dict[str, int] = {}
    for i, share in enumerate(shares):
        for n in share:
            key = prepared.events[prepared.schedule[n].event].key
            assert owner.setdefault(key, i) == i
    assert Counter(owner.values()).keys() == {0, 1, 2}
    with pytest.raises(ValueError, match=r"outside 0\.\.2"):
        partition(prepared, 3, 3)


def test_event_count_scales_records_and_pace_and_refuses_recorded_sources(tmp_path: Path) -> None:
    base = resolve(["bulk-import-burst"])[0]
    scaled = with_events(base, 2000)
    assert (scaled.source.events, scaled.source.records) == (2000, 500)  # type: ignore[union-attr]
    assert scaled.source.over == pytest.approx(200.0)  # type: ignore[union-attr]
    events = tmp_path / "events.jsonl"
    events.write_text('{"id": "a", "key": "k", "payload": {}}\n')
    recorded = tmp_path / "rec.scenario.yaml"
    recorded.write_text(f"name: rec\nsource:\n  recorded: {{file: {events.name}}}\n")
    with pytest.raises(InputError, match="replays recorded events"):
        with_events(resolve([str(recorded)])[0], 10)
    with pytest.raises(InputError, match="not allowed"):
        with_events(base, 0)


def test_event_count_rewrites_the_hazards_counts_said_of_a_project() -> None:
    """A hazard applied to a project says its counts "as in the hazard"; under --events they
    are the load test's (sweep-lx: "200 events … as in the hazard" for a run of 300)."""
    base = resolve(["bulk-import-burst"])[0]
    said = "200 events of events[0] (order.json) for 50 records over 20 s, as in the hazard."
    scaled = with_events(dataclasses.replace(base, adapted=(said, "Another note.")), 300)
    assert scaled.adapted == (
        "300 events of events[0] (order.json) for 75 records over 30 s (the load test's event "
        "count; the hazard has 200).",
        "Another note.",
    )


SILENT = """
name: silent
model: ledger
source:
  synthetic:
    example: {id: evt_1, type: order.paid, data: {order_id: ord_1, note: hi there}}
    events: 8
    records: 4
    over: 0.2s
    id: $.id
    key: $.data.order_id
delivery: {signing: none, timeout: TIMEOUT}
settle: {quiet: 0.2s, deadline: 2s}
"""


def _closes_after_an_error(server: socket.socket, stop: threading.Event) -> None:
    """Answers every other connection's first request 500, keep-alive, then drops whatever
    comes next on it unanswered — as uvicorn closes a connection after an app's exception,
    its 500 saying nothing of it; the others' requests 200, one after another."""

    def serve(conn: socket.socket, k: int) -> None:
        with conn, conn.makefile("rb") as reader:
            failed = False
            while not stop.is_set():
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = reader.readline()
                    if not line:
                        return
                    head += line
                if failed:
                    return  # the request sent on after the 500: dropped
                length = next(
                    int(x.split(b":")[1])
                    for x in head.split(b"\r\n")
                    if x.lower().startswith(b"content-length:")
                )
                reader.read(length)
                failed = k % 2 == 0
                status = b"500 Internal Server Error" if failed else b"200 OK"
                conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")

    server.settimeout(0.2)
    for k in range(10_000):  # bounded: one connection a delivery at the most
        if stop.is_set():
            return
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        threading.Thread(target=serve, args=(conn, k), daemon=True).start()


def test_a_connection_is_not_reused_after_a_server_error(tmp_path: Path) -> None:
    """The Locust user, as the engine (tests/test_deliver.py): after a 5xx the next delivery
    opens its own connection. On the old one it was reset — target_available failed a
    FastAPI target under uvicorn ('26 reset', tests/gallery/customer_then_order.py under
    ambiguous-commit) for the harness's reuse."""
    scenario = tmp_path / "silent.scenario.yaml"
    scenario.write_text(SILENT.replace("TIMEOUT", "2s"))
    stop = threading.Event()
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:
        serving = threading.Thread(target=_closes_after_an_error, args=(server, stop))
        serving.start()
        try:
            target = f"http://127.0.0.1:{server.getsockname()[1]}/hooks"
            args = ["locust", str(scenario), "--target", target, "--downstream", "127.0.0.1:0"]
            args += ["--journal", str(tmp_path / "run.db")]
            harness(*args, "--", *HEADLESS, "-u", "2", "-r", "100", "-t", "20s", cwd=tmp_path)
        finally:
            stop.set()
            serving.join()
    (history,) = load_all(tmp_path / "run.db")
    answers = Counter(d.status for d in history.deliveries)
    assert len(history.deliveries) == 8 and answers[500] > 0, answers
    assert set(answers) <= {200, 500}, [(d.status, d.error) for d in history.deliveries]


@pytest.mark.parametrize(
    ("timeout", "run_time", "error"),
    [
        ("0.5s", "20s", "no answer within 0.5 s"),
        # -t counts from the test's start, the recorder's start-up included: room for a
        # busy machine, so that the users are in flight when it ends (8 s was not, under
        # .ci/run's ten workers on two cores: the test ended before any user began).
        ("30s", "20s", "the load test stopped this user before an answer"),
    ],
)
def test_unanswered_deliveries_are_indeterminate(
    tmp_path: Path, timeout: str, run_time: str, error: str
) -> None:
    """A target that takes connections and never answers: the Locust's delivery timeout, or
    the end of the test with requests in flight, leaves every delivery indeterminate."""
    scenario = tmp_path / "silent.scenario.yaml"
    scenario.write_text(SILENT.replace("TIMEOUT", timeout))
    with socket.create_server(("127.0.0.1", 0), backlog=64) as server:  # never accepts
        target = f"http://127.0.0.1:{server.getsockname()[1]}/hooks"
        args = ["locust", str(scenario), "--target", target, "--downstream", "127.0.0.1:0"]
        args += ["--journal", str(tmp_path / "run.db")]
        r = locust_process(
            *args, "--", *HEADLESS, "-u", "8", "-r", "100", "-t", run_time, cwd=tmp_path
        )
    assert r.code == 1, r.err  # nothing accepted: inconclusive, not a pass
    assert "invariants inconclusive: no_lost_events" in r.err  # not said to have failed
    (history,) = load_all(tmp_path / "run.db")
    assert len(history.deliveries) == 8
    assert {(d.outcome.value, d.error, d.answered_at) for d in history.deliveries} == {
        ("indeterminate", error, None)
    }


def test_interrupted_load_test_keeps_its_journal_with_exit_code_3(tmp_path: Path) -> None:
    scenario = tmp_path / "silent.scenario.yaml"
    scenario.write_text(SILENT.replace("TIMEOUT", "20s"))
    locustfile = tmp_path / "locustfile.py"
    # No ScenarioShape: Locust ends a shape test on Ctrl-C as if it completed.
    plain = LOCUSTFILE.replace("ScenarioShape, ", "")
    locustfile.write_text(f"{plain}\n    scenario = {str(scenario)!r}\n")
    with Unanswering() as server:
        args = ["--host", f"http://127.0.0.1:{server.port}", "-u", "8", "-r", "100"]
        args += ["--harness-journal", str(tmp_path / "run.db"), "--harness-downstream", ":0"]
        done = signalled(
            [*_LOCUST, "-f", str(locustfile), *args, *HEADLESS, "-t", "30s"],
            signal.SIGINT,
            server.holding(8),
            cwd=tmp_path,
            env=_IMPORTABLE,
        )
    assert done.code == 3 and "interrupted" in done.err, done.err
    (history,) = load_all(tmp_path / "run.db")
    assert history.status == "aborted"
    assert len(history.deliveries) == 8
    assert {d.outcome.value for d in history.deliveries} == {"indeterminate"}


async def test_a_locust_process_gone_before_it_heard_ready_leaves_the_run_aborted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The recorder process's side: its doubles started, the Locust process that asked for
    them is gone when it says "ready". The run is journaled aborted and its doubles stopped,
    not left "running"."""
    from harness_locust import _recorder

    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    journal = tmp_path / "run.db"
    (scenario,) = resolve(["duplicate-storm"])
    options = RunOptions.create(
        "http://127.0.0.1:9/", seed=1, downstream="127.0.0.1:0", journal=journal
    )

    class Gone:
        async def receive(self) -> object:
            return ("start", prepare(scenario, options), options, None)

        async def send(self, *message: object) -> None:
            raise ConnectionResetError("the Locust process went away")

    with pytest.raises(ConnectionResetError):
        await _recorder.serve(Gone())  # type: ignore[arg-type]
    (history,) = load_all(journal)
    assert history.status == "aborted" and history.deliveries == []


def test_sigterm_to_harness_locust_ends_the_load_test_aborted_with_exit_code_3(
    tmp_path: Path,
) -> None:
    """A CI job cancelled signals `harness locust` alone, not its Locust child: passed on, it
    ends the run as Ctrl-C does, where Locust went on sending, unwatched, until -t."""
    scenario = tmp_path / "silent.scenario.yaml"
    scenario.write_text(SILENT.replace("TIMEOUT", "20s"))
    with Unanswering() as server:
        target = f"http://127.0.0.1:{server.port}/hooks"
        args = ["locust", str(scenario), "--target", target, "--downstream", "127.0.0.1:0"]
        args += ["--journal", str(tmp_path / "run.db"), "--", *HEADLESS, "-u", "8", "-r", "100"]
        done = signalled(
            [sys.executable, "-m", "harness", *args, "-t", "60s"],
            signal.SIGTERM,
            server.holding(8),
            cwd=tmp_path,
            env=_IMPORTABLE,
        )
    assert done.code == 3, done.err
    (history,) = load_all(tmp_path / "run.db")
    assert history.status == "aborted" and len(history.deliveries) == 8


def test_a_load_test_ended_before_its_run_began_is_never_a_pass(tmp_path: Path) -> None:
    """Stopped before any test started (a web UI where no one pressed start, then SIGTERM),
    nothing was sent or judged: exit 3 and why, never Locust's own 0."""
    scenario = tmp_path / "silent.scenario.yaml"
    scenario.write_text(SILENT.replace("TIMEOUT", "20s"))
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(f"{LOCUSTFILE}\n    scenario = {str(scenario)!r}\n")
    args = ["--host", "http://127.0.0.1:9", "--harness-downstream", ":0"]
    args += ["--harness-journal", str(tmp_path / "run.db")]
    port = free_port()
    args += ["--web-host", "127.0.0.1", "--web-port", str(port)]
    done = signalled(
        [*_LOCUST, "-f", str(locustfile), *args],
        signal.SIGTERM,
        # Locust's SIGTERM handler is set before its web UI serves.
        lambda proc: listening(port, 30, proc),
        cwd=tmp_path,
        env=_IMPORTABLE,
    )
    assert done.code == 3, done.err
    assert "the load test ended before any test: nothing sent or judged" in done.err


_LOCUST = [sys.executable, "-m", "locust"]


class Unanswering:
    """A target on loopback that reads requests and never answers them: ``holding(n)`` waits
    until ``n`` whole request heads have come in, so a signal sent then finds ``n`` deliveries
    in flight however slowly a loaded machine got them out."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port: int = self._server.getsockname()[1]
        self._held: list[socket.socket] = []
        self._heads = 0
        self._lock = threading.Lock()
        self._closed = threading.Event()

    def __enter__(self) -> Unanswering:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._closed.set()
        self._server.close()
        for conn in self._held:
            conn.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:  # closed
                return
            self._held.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        seen = b""
        while not self._closed.is_set():
            try:
                chunk = conn.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            seen += chunk
            *heads, seen = seen.split(b"\r\n\r\n")
            with self._lock:
                self._heads += len(heads)

    def holding(self, n: int, within: float = 60) -> Callable[[subprocess.Popen[str]], None]:
        def ready(proc: subprocess.Popen[str]) -> None:
            deadline = time.monotonic() + within
            while time.monotonic() < deadline and proc.poll() is None:
                with self._lock:
                    if self._heads >= n:
                        return
                time.sleep(0.05)
            raise AssertionError(f"{self._heads} of {n} requests came in within {within} s")

        return ready


def test_tampered_deliveries_under_locust_are_judged_as_in_an_engine_run(
    sound: Automation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Locust users sign each slot as planned, tampering included (they do not retry).
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    args = locust_cli(sound, "forged-signature", tmp_path, "--seed", "4")
    r = harness(*args, "--", *HEADLESS, "-u", "10", "-r", "10", "-t", "60s", cwd=tmp_path)
    assert r.code == 0, r.out + r.err
    (run,) = json.loads((tmp_path / "report.json").read_text())["runs"]
    verdicts = {v["invariant"]: v for v in run["verdicts"]}
    assert verdicts["rejects_forged"]["status"] == "pass", verdicts["rejects_forged"]
    assert "tampered deliveries were refused" in verdicts["rejects_forged"]["summary"]
    assert run["counts"]["deliveries_by_outcome"]["rejected"] > 0


def test_a_master_whose_workers_never_came_exits_3_not_1(tmp_path: Path) -> None:
    """Locust's master gives up waiting for its workers with exit code 1, the code of a failed
    invariant; under the harness that test never began: exit 3, saying why."""
    scenario = tmp_path / "silent.scenario.yaml"
    scenario.write_text(SILENT.replace("TIMEOUT", "20s"))
    locustfile = tmp_path / "locustfile.py"
    locustfile.write_text(f"{LOCUSTFILE}\n    scenario = {str(scenario)!r}\n")
    done = run_locust(
        locustfile, *HEADLESS, "--master", "--master-bind-port", str(free_port()),
        "--expect-workers", "1", "--expect-workers-max-wait", "1", "-u", "1", "-r", "1",
        "-t", "20s", "--host", "http://127.0.0.1:9", "--harness-downstream", ":0",
        "--harness-journal", str(tmp_path / "run.db"),
    )  # fmt: skip
    assert done.code == 3, done.err
    assert "gave up waiting for workers to connect (0 of 1 after 1 s" in done.err
    assert not (tmp_path / "run.db").exists() or not load_all(tmp_path / "run.db")


# A signal's handler runs in whichever greenlet is running: here one of Locust's own, as its CPU
# monitor was when CI's SIGTERM came. Only gevent is imported (locust would patch the test process).
_SIGNAL_IN_A_GREENLET = """
import os, signal, gevent
from harness_locust._stopping import Stopped, stop

signal.signal(signal.SIGTERM, stop)

def monitor():  # the greenlet the signal interrupts
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):  # bytecode for Python to run the handler in
        pass
    print("the interrupted greenlet went on")

g = gevent.spawn(monitor)
try:
    gevent.sleep(5)
    print("main slept through")
except Stopped as exc:
    print("main stopped with", exc.code)
g.join()
print("interrupted greenlet successful:", g.successful())
"""


def test_a_signal_that_interrupts_another_greenlet_stops_the_main_one_alone() -> None:
    """CI's SIGTERM came while Locust's CPU monitor ran: raised there, it killed the monitor and
    Locust logged a traceback. The handler ends the main greenlet and leaves the other running."""
    done = subprocess.run(
        [sys.executable, "-c", _SIGNAL_IN_A_GREENLET],
        env={**os.environ, **_IMPORTABLE}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "the interrupted greenlet went on",
        "main stopped with 3",
        "interrupted greenlet successful: True",
    ], done.stdout + done.stderr


def test_a_master_stopped_while_waiting_for_its_workers_exits_3_without_a_traceback(
    tmp_path: Path,
) -> None:
    """SIGTERM to `harness locust` while its master waits for workers (Locust has no handler of
    its own yet): exit 3, nothing sent or judged, where Locust died without a word (-15)."""
    scenario = tmp_path / "silent.scenario.yaml"
    scenario.write_text(SILENT.replace("TIMEOUT", "20s"))
    port = free_port()
    args = ["locust", str(scenario), "--target", "http://127.0.0.1:9/hooks"]
    args += ["--downstream", "127.0.0.1:0", "--journal", str(tmp_path / "run.db"), "--"]
    args += [*HEADLESS, "--master", "--master-bind-port", str(port), "--expect-workers", "1"]
    args += ["--loglevel", "INFO"]  # the plugin's word that it waits

    def waiting(proc: subprocess.Popen[str]) -> None:
        # The plugin says so once its handlers are set and its run prepared (a loaded machine
        # can take seconds from the master's port opening to there).
        assert proc.stderr is not None
        said, deadline = b"", time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            if select.select([proc.stderr], [], [], 0.1)[0]:  # unbuffered: the fd itself
                said += os.read(proc.stderr.fileno(), 65536)
                if b"harness: waiting for 1 worker(s) to connect" in said:
                    # No bind host given: the master listens on loopback alone.
                    assert _listeners(port) == ["127.0.0.1"], _listeners(port)
                    return
        raise AssertionError(f"the master never said it waits for its worker: {said!r}")

    done = signalled(
        [sys.executable, "-m", "harness", *args, "-t", "20s"],
        signal.SIGTERM,
        waiting,
        cwd=tmp_path,
        env=_IMPORTABLE,
    )
    assert done.code == 3, done.err
    # The plugin's own words: it, not only the wrapper's mapping of Locust's -15, ended it.
    assert "stopped (Ctrl-C or SIGTERM) before the test began: nothing sent or judged" in done.err
    assert "Traceback" not in done.err


def _listeners(port: int) -> list[str]:
    """The addresses a socket of this machine listens on at ``port`` (/proc/net/tcp, tcp6)."""
    found = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        for line in Path("/proc/net", table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, at = local.split(":")
            if state == "0A" and int(at, 16) == port:  # 0A: LISTEN
                raw = bytes.fromhex(address)  # in 32-bit words, each in the host's order
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                found.append(socket.inet_ntop(family, words))
    return found


def slack_outage(tmp: Path) -> Path:
    """downstream-outage's events, six of them, delivered as Slack does, through a 503 window
    of 5 s (real time) that every call of theirs meets."""
    doc = yaml.safe_load((REPO / "scenarios" / "downstream-outage.scenario.yaml").read_text())
    doc["source"]["synthetic"].update(events=6, records=3, over="0.3s")
    doc.update(
        name="slack-outage",
        time_scale=1,
        provider="slack",
        delivery={"secret_env": "HARNESS_SECRET", "timeout": "5s"},
        faults=[{"downstream": "api", "at": "0s", "for": "5s", "mode": "status", "status": 503}],
        invariants=["recovers_after_outage"],
        settle={"quiet": "0.3s", "deadline": "3s"},
    )
    path = tmp / "slack-outage.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def test_a_load_test_sends_none_of_the_providers_retries_and_says_so(
    fragile: Automation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Locust users never retry: the run's settings say none was sent, so an event the
    automation refused (fragile: 502 while its API is down) is unseen — Slack would redeliver
    it — never 'lost after the 3 retries the run sent'."""
    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    args = locust_cli(fragile, str(slack_outage(tmp_path)), tmp_path, "--seed", "2")
    cli = (*args, "--", *HEADLESS, "-u", "6", "-r", "6", "-t", "60s")
    r = harness(*cli, cwd=tmp_path, env=_IMPORTABLE)  # this checkout's adapter
    assert (tmp_path / "report.json").is_file(), r.out + r.err
    (run,) = json.loads((tmp_path / "report.json").read_text())["runs"]
    verdicts = {v["invariant"]: v for v in run["verdicts"]}
    recovered = verdicts["recovers_after_outage"]
    assert recovered["status"] == "inconclusive", (recovered["summary"], r.err)
    assert "(the run sent none of its 3 retries)" in recovered["summary"], recovered
    assert run["counts"]["deliveries"] == 6  # one attempt a planned delivery
    (history,) = load_all(tmp_path / "run.db")
    assert history.info.settings["retries"] == []
    assert "Run under Locust: none of the slack retries is sent" in " ".join(
        history.info.settings["adapted"]
    )
