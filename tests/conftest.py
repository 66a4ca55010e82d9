"""Shared fixtures: the harness CLI as a real process, and a demo automation on loopback."""

from __future__ import annotations

import ast
import atexit
import base64
import compileall
import contextlib
import gc
import io
import json
import logging
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from . import forked_workers

# harness, numpy and Hypothesis are imported by the processes that run tests (``_ready``), not
# by xdist's controller, which imported them for nothing (0.8 CPU-s) before its workers started.
if TYPE_CHECKING:
    from harness.cli._processes import Service
    from harness.core._model import Verdict

# numpy's OpenBLAS starts a thread a CPU at import, which the harness never uses (it calls no
# BLAS routine): 0.03-0.05 CPU-s more in each process that imports numpy (measured, 2 CPUs).
# The suite's processes only: a user's app driven in-process may want its BLAS threads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Launched as a background job of a non-interactive shell, the suite would pass an ignored
# SIGINT on to every process it starts, and the tests that stop one with Ctrl-C would hang.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The suite makes no TLS connection (loopback, plain HTTP), yet each Python process it starts
# that imports aiohttp (the automations, `harness`, Locust's: some 200 a run) builds aiohttp's
# default SSL contexts at import, parsing the system's CA bundle: 166 ms of CPU each, and each
# verifying httpx client parses certifi's (143 ms). Pointed at one throwaway certificate (its
# key discarded when it was made), 5 ms. Set here, before xdist starts its workers, so that
# every process of the run inherits it; an empty file would not do: httpx refuses it.
os.environ["SSL_CERT_FILE"] = str(Path(__file__).with_name("no-tls-ca.pem"))
os.environ["SSL_CERT_DIR"] = os.devnull


def _signal_handlers() -> dict[Any, Any]:
    """What ``harness.cli.main`` changes for the rest of its process once it is ending: the
    SIGINT and SIGTERM handlers, the unraisable hook, the asyncio logger's level."""
    found: dict[Any, Any] = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    found["unraisable"] = sys.unraisablehook
    found["asyncio"] = logging.getLogger("asyncio").level
    return found


def _restore_signal_handlers(handlers: dict[Any, Any]) -> None:
    for what, handler in handlers.items():
        if what == "unraisable":
            sys.unraisablehook = handler
        elif what == "asyncio":
            logging.getLogger("asyncio").setLevel(handler)
        elif handler is not None:
            signal.signal(what, handler)


@pytest.fixture(autouse=True)
def _signal_handlers_kept() -> Iterator[None]:
    """``harness.cli.main`` keeps the SIGINT and SIGTERM handlers it sets (and what else
    ``_signal_handlers`` names) until its process exits; a test that calls it in this process
    gets this one's back. (An ignored SIGINT left
    here would be inherited by every process a later test starts.)"""
    handlers = _signal_handlers()
    yield
    _restore_signal_handlers(handlers)


# Modules whose module-scoped fixtures are costly (a real run to read back, a browser, an
# engine: a Node-RED start is 0.8 CPU-s), or whose tests share a costly first use in a process
# (test_openapi: Schemathesis's first draw, ~1 CPU-s, and the crm contract): under xdist one
# worker takes each of them whole, so that cost is paid once instead of once per worker that
# happens to get one of its tests.
# (xdist's own ``xdist_group`` mark does nothing on pytest 9.2: pytest-dev/pytest-xdist#1386.)
ONE_WORKER = frozenset(
    f"tests/{name}.py"
    for name in (
        "test_redaction_everywhere",
        "test_report_browser",
        "test_year_report_browser",
        "test_node_red",
        "test_node_red_flows",
        "test_node_red_fanout",
        "test_node_red_batches",
        "test_node_red_load",
        "test_node_red_deploy",
        "test_inspect",
        "test_openapi",
    )
)


class _Scheduling(LoadScopeScheduling):
    """Each test its own unit, but a module of ONE_WORKER one unit; units in collection order
    after the grouped modules (LoadScopeScheduling puts the larger units first)."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.partition("::")[0]
        return module if module in ONE_WORKER else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> _Scheduling:
    return _Scheduling(config, log)


# README's `-n auto`: workers for this machine's speed. Most of a test's wall is waiting on real
# processes, but on two cores the suite is bound by CPU, and a machine slower than its workers
# need makes answers late: on the 2-CPU VM of 2026-12-07, where 100,000 additions took 3.6 ms,
# ten workers ran the suite in 542 s with no timing failure and eighteen failed 6-13 tests a
# run; the twentieth session's faster machine ran eighteen clean. So ten workers per two CPUs at
# that pace, more on a faster machine (up to nine a CPU), fewer on a slower one (one a CPU at
# least). PYTEST_XDIST_AUTO_NUM_WORKERS still sets the number, as xdist documents.
REFERENCE_PACE = 3.6e-3
_workers_said: list[str] = []


def _pace() -> float:
    """Seconds for 100,000 additions in this process, the best of nine: the speed of one of
    this machine's CPUs, its slices taken by others mostly left out."""
    best = float("inf")
    for _ in range(9):
        start = time.perf_counter()
        total = 0
        for i in range(100_000):
            total += i
        best = min(best, time.perf_counter() - start)
    return best


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    if found := os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "").strip():
        return int(found)
    cpus = len(os.sched_getaffinity(0))
    pace = _pace()
    workers = max(cpus, min(9 * cpus, round(5 * cpus * REFERENCE_PACE / pace)))
    _workers_said.append(
        f"workers: {workers} for {cpus} CPUs at {pace * 1000:.1f} ms per 100,000 additions "
        f"(ten per two CPUs at {REFERENCE_PACE * 1000:.1f} ms; tests/conftest.py)"
    )
    return workers


def pytest_report_header() -> list[str]:
    return _workers_said


@pytest.hookimpl(tryfirst=True)  # the profile loaded before Hypothesis's --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    """In a process that runs tests, what they need first (``_ready``). Once, in the controller
    (or the only process): byte-compile harness, its plugins and the tests' automations.
    Where PYTHONDONTWRITEBYTECODE is set (this machine, CI) no process writes its .pyc, and each
    of the suite's hundreds of child processes (the CLI, the automations) would compile the
    sources again: 0.4 of the 1.5 CPU seconds `harness --help` took; the plugins, imported by
    every worker, Locust process, recorder and pytest child, 0.04-0.07 each. Existing .pyc are
    read. In a fresh clone (CI) this and ``_write_rewritten`` are 6 CPU-s before any
    worker starts, which one CPU did while the other waited: the files are shared between this
    process and a forked child."""
    if not hasattr(config, "workerinput"):
        folders = [REPO / "harness", REPO / "plugins", REPO / "tests"]
        sources = [(path, False) for folder in folders for path in sorted(folder.rglob("*.py"))]
        tests = [REPO / "tests" / "conftest.py", *sorted((REPO / "tests").glob("test_*.py"))]
        jobs = sources + [(path, True) for path in tests]
        _in_two_processes(lambda share: _compile(config, share), jobs)
        # Before the workers start: they find it in their environment.
        os.environ[ZYGOTE] = forked_workers.start("tests.zygote", REPO).path
        if getattr(config.option, "dist", "no") != "no" and not config.option.collectonly:
            config.option.tx = forked_workers.gateways(config.option.tx, REPO)
    _zygote_path.append(os.environ[ZYGOTE])  # kept: a test may empty the environment
    if hasattr(config, "workerinput") or getattr(config.option, "dist", "no") == "no":
        gc.disable()  # until the tests are collected: pytest_collection_finish
        _ready()
    if hasattr(config, "workerinput"):
        _own_ports(config.workerinput["workerid"], config.workerinput["workercount"])


def _own_ports(worker: str, workers: int) -> None:
    """Each worker hands out ports from its own slice of the quiet range: a port one worker
    handed out (a Node-RED fixture's downstream, kept for its module's tests) is free until a
    test listens on it, and another worker drawing from the same range could take it first (CI:
    "could not listen on 127.0.0.1:27689: address already in use" in two tests of one module)."""
    from harness.cli import _processes

    quiet = _processes._QUIET_PORTS
    share = len(quiet) // workers
    start = quiet.start + int(worker.removeprefix("gw")) * share
    _processes._QUIET_PORTS = range(start, start + share)


def _ready() -> None:
    """What a process that runs tests needs before the first."""
    # Imported before any test: pytester's inner runs restore sys.modules after each, dropping a
    # module first imported inside one, and numpy's C extension cannot be loaded twice in a
    # process ("cannot load module more than once per process" in every later test of the worker);
    # harness's engine and CLI, imported again after such a run, would be classes apart.
    import numpy  # noqa: F401
    from hypothesis import HealthCheck, settings

    import harness.cli._processes  # noqa: F401
    from harness import run  # noqa: F401

    # The suite shares two cores with the real processes it starts: a property test's timing
    # says nothing about the code under test here, so no deadline and no "too slow" check.
    settings.register_profile(
        "harness", deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    settings.load_profile("harness")


def __getattr__(name: str) -> Any:
    """``free_port``, which test modules import from here: harness's own."""
    if name == "free_port":
        from harness.cli._processes import free_port

        return free_port
    raise AttributeError(name)


def _in_two_processes(work: Callable[[list[Any]], None], jobs: list[Any]) -> None:
    """``work`` on every other job in a forked child and on the rest here, both at once."""
    sys.stdout.flush()
    sys.stderr.flush()
    child = os.fork()
    if child == 0:
        try:
            work(jobs[1::2])
        finally:
            os._exit(0)  # none of pytest's exit handlers: they are the parent's
    try:
        work(jobs[0::2])
    finally:
        os.waitpid(child, 0)


def _compile(config: pytest.Config, jobs: list[tuple[Path, bool]]) -> None:
    """Each ``(path, rewritten)``: its .pyc, or pytest's rewriting of its asserts."""
    for path, rewritten in jobs:
        if rewritten:
            _write_rewritten(config, path)
        else:
            compileall.compile_file(path, quiet=1)


def _write_rewritten(config: pytest.Config, path: Path) -> None:
    """pytest's assert rewriting of the test module ``path``, written once where the xdist
    workers find it. Where no .pyc is written pytest does not cache it either, and rewriting the
    96 modules was 5 of the 8 CPU seconds each worker spent collecting. pytest checks each
    file's source hash before it uses one. Its own functions, not public: with a pytest that
    moved them, the workers rewrite for themselves as before."""
    try:
        from _pytest.assertion import rewrite

        state = config.stash[rewrite.assertstate_key]
    except (ImportError, AttributeError, KeyError):
        return
    cache = rewrite.get_cache_dir(path)
    pyc = cache / (path.stem + rewrite.PYC_TAIL)
    if rewrite._read_pyc(path, pyc) is None and rewrite.try_makedirs(cache):
        try:
            source_hash, code = rewrite._rewrite_test(path, config)
        except SyntaxError:  # collecting it says where, as a collection error, not a traceback
            return
        rewrite._write_pyc(state, code, source_hash, pyc)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first (``expected_seconds``), the quick ones last: under xdist the
    long ones overlap the many short ones instead of being handed out last and running alone
    at the end, and the short ones fill the workers' last seconds."""
    items.sort(key=lambda item: -expected_seconds(item))


# Each test's wall in a whole run of the suite, those of 2 s or more (`python
# benchmarks/cpu_per_test.py PREFIX --durations tests/durations.json` writes it; benchmarks/
# README.md). Ordered by kind alone (long, then integration, then the rest, each in collection
# order), 51 tests of 3-21 s outside the two marks (Hypothesis searches, pytest sessions, 10,001
# events) ran last, alone at the end of the run.
DURATIONS: dict[str, float] = json.loads(Path(__file__).with_name("durations.json").read_text())
# A test not in it yet (new, renamed): a ``long`` one takes 20 s or more (its mark's meaning),
# one with real processes about the least the file holds, the rest less.
_BY_MARK = (("long", 20.0), ("integration", 2.0))


def expected_seconds(item: pytest.Item) -> float:
    """How long ``item`` is expected to take: its measured wall, else its marks' guess."""
    if item.nodeid in DURATIONS:
        return DURATIONS[item.nodeid]
    return next((s for mark, s in _BY_MARK if item.get_closest_marker(mark) is not None), 0.0)


def pytest_collection_finish(session: pytest.Session) -> None:
    """The collector back on, what the process holds now out of its sight. Importing and
    collecting (18 workers each: numpy, Hypothesis, harness, 190 test modules, 2,600 items)
    make objects that live as long as the process, and the collector's passes over them while
    they grew were 0.30 of each worker's 2.1 CPU-s to its first test: one pass here instead, and
    each worker's start 0.25 CPU-s less. ``harness.core._gc.frozen`` unfreezes everything at the
    end of each drive, so the tests after one see the whole heap again, as before."""
    gc.collect()
    gc.freeze()
    gc.enable()


REPO = Path(__file__).resolve().parent.parent
ZYGOTE = "HARNESS_TESTS_ZYGOTE"  # the path of the automations' zygote's socket (tests/zygote.py)
_zygote_path: list[str] = []

# The environment of the pytest runs the tests start (pytester's, in this process or a child;
# `python -m pytest` children): the plugins a harness project uses, named, as this suite does
# (pyproject.toml's addopts). Autoloaded, every installed plugin cost each run ~4 CPU-s, and in
# this process pytester drops what a run imported, so the next run paid again.
# tests/test_new_user.py keeps autoloading: a new user's pytest finds the plugin by itself.
INNER_PYTEST_ENV = {
    "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    "PYTEST_ADDOPTS": "-p pytest_asyncio.plugin -p harness_pytest.plugin",
}


@pytest.fixture
def pytester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """pytester's runs with INNER_PYTEST_ENV (set after pytester cleared PYTEST_ADDOPTS)."""
    for name, value in INNER_PYTEST_ENV.items():
        monkeypatch.setenv(name, value)
    return pytester


SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


# A verdict on time judges the machine as much as the automation: under the suite's workers
# on two cores a sound automation answers late (p50 3 s against ack_within's 2 s, in .ci/run).
# A test whose subject is not latency asks `unmet` for the verdicts it holds the automation to;
# ack_within itself is judged where its inputs are set (test_invariants, test_loop_lag) and
# on the fragile demo's slow downstream, which is slow by seconds.
ON_TIME = "ack_within"


def unmet(verdicts: Sequence[Verdict]) -> list[tuple[str, str]]:
    """The verdicts that did not pass, but for the one on time: (invariant, summary) each."""
    return [(v.invariant, v.summary) for v in verdicts if not v.passed and v.invariant != ON_TIME]


def held_but_late(runs: Sequence[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(scenario, invariant, summary) of each verdict of a JSON report's ``runs`` that neither
    passed nor is an ack_within the machine made inconclusive: what must be empty for an
    automation to have held everything but a latency a loaded machine could not judge."""
    return [
        (run["scenario"], v["invariant"], v["summary"])
        for run in runs
        for v in run["verdicts"]
        if v["status"] != "pass"
        and not (v["invariant"] == ON_TIME and late_by_the_machine(v["status"], v["summary"]))
    ]


def late_by_the_machine(status: str, summary: str) -> bool:
    """An ack_within verdict left inconclusive because the harness's own loop ran late while
    the deliveries were in flight (a loaded machine): what a slow automation gets instead of
    a failure there, never a pass."""
    return status == "inconclusive" and "over the budget not counted" in summary


@dataclass
class Completed:
    code: int
    out: str
    err: str


def harness(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Completed:
    """Run the ``harness`` command in this process, as its entry point runs it (``in_process``),
    with the environment a child would get here. No import of its own to pay (most of a short
    command's CPU time as a process); tests of what only a process shows (signals, the
    installed script) use ``harness_process``."""
    environ = {**os.environ, "HARNESS_SECRET": SECRET, "COLUMNS": "200", **(env or {})}
    return in_process(list(args), cwd, environ)


def in_process(args: list[str], cwd: Path | None, environ: dict[str, str]) -> Completed:
    """``main(args)`` in ``cwd`` with exactly ``environ`` and standard streams of its own (stdin
    empty, as a child's is here); its output and exit code. All restored afterwards.

    A process with no logging set up prints a warning or a logged traceback (the double's
    ``_log.exception``, asyncio's "Task exception was never retrieved") on its stderr, through
    logging's last resort; pytest's log capture would keep them from ``err``, so a handler
    on that stderr stands in for the last resort during the call."""
    from harness.cli import main

    saved_environ, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    stdout, stderr = _stream(), _stream()
    os.environ.clear()
    os.environ.update(environ)
    sys.stdin, sys.stdout, sys.stderr = _stream(), stdout, stderr
    last_resort = logging.StreamHandler(stderr)
    last_resort.setLevel(logging.WARNING)
    logging.getLogger().addHandler(last_resort)
    signals = _signal_handlers()
    try:
        if cwd is not None:
            os.chdir(cwd)
        main(args)
        code = 0
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    finally:
        _restore_signal_handlers(signals)
        logging.getLogger().removeHandler(last_resort)
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.stdin, sys.stdout, sys.stderr = saved_streams
    return Completed(code, _text(stdout), _text(stderr))


def _stream() -> io.TextIOWrapper:
    """A standard stream over memory."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True)


def _text(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode("utf-8")


def harness_process(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120
) -> Completed:
    """Run the ``harness`` command as a user would, in a child process."""
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env={**os.environ, "HARNESS_SECRET": SECRET, "COLUMNS": "200", **(env or {})},
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def signalled(
    argv: list[str],
    sig: signal.Signals,
    ready: Callable[[subprocess.Popen[str]], object],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float = 30,
) -> Completed:
    """``argv`` as a process (``env`` over this one's), sent ``sig`` once ``ready`` returns
    (what it returns is not read); its exit code and output within ``timeout`` s. Started in a
    session of its own: its process group (a Locust it started, say) is killed if ``ready``
    fails or it outlives ``timeout``, not left running after the test."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**os.environ, **env},
        start_new_session=True,
    )
    try:
        ready(proc)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # what it started, if still there
        if proc.poll() is None:
            proc.communicate()
    return Completed(proc.returncode, out, err)


def listening(
    port: int, within: float, proc: subprocess.Popen[Any] | None = None, poll: float = 0.1
) -> bool:
    """Whether something accepts connections on loopback ``port`` within ``within`` s (a bare
    socket: no client library's error classes); False at once if ``proc`` has exited."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(poll)
    return False


def loaded_by(imports: str, watched: Sequence[str]) -> list[str]:
    """Which of the modules ``watched`` a fresh Python has loaded after ``import imports``."""
    code = f"import sys, {imports}; print([m for m in {tuple(watched)!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        cwd=REPO,
    ).stdout
    return list(ast.literal_eval(out))


@dataclass
class Automation:
    service: Service
    downstream_port: int

    @property
    def hook(self) -> str:
        return self.service.url + "/hooks/orders"


def run_against(automation: Automation, scenario: Path, journal: Path) -> Completed:
    """``harness run SCENARIO`` in this process against a demo automation and its double (no
    project file), into ``journal``."""
    return harness(
        "run",
        str(scenario),
        "--no-project",
        "--target",
        automation.hook,
        "--downstream",
        f"127.0.0.1:{automation.downstream_port}",
        "--journal",
        str(journal),
    )


def run_text(
    automation: Automation, text: str, tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> list[Verdict]:
    """The verdicts of scenario ``text`` run by ``harness.run`` against a demo automation's
    ``/hooks/stripe`` and its double, into a journal in ``tmp_path``, deliveries signed with
    SECRET in HARNESS_SECRET (the scenario's ``secret_env``)."""
    from harness import run as run_scenarios

    monkeypatch.setenv("HARNESS_SECRET", SECRET)
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(text)
    (result,) = run_scenarios(
        [str(scenario)],
        automation.service.url + "/hooks/stripe",
        seed=seed,
        downstream=f"127.0.0.1:{automation.downstream_port}",
        journal=tmp_path / "j.db",
    )
    return list(result.verdicts)


def start_automation(name: str, state: Path) -> Automation:
    from harness.cli._processes import free_port

    port = free_port()
    extra = ["--state-dir", str(state)] if name == "sound" else []
    service = start_module(
        name,
        f"harness.demo.{name}",
        ["--port", "0", "--downstream", f"http://127.0.0.1:{port}", *extra],
        {"HARNESS_SECRET": SECRET},
    )
    return Automation(service, port)


@pytest.fixture
def sound(tmp_path: Path) -> Iterator[Automation]:
    automation = start_automation("sound", tmp_path)
    yield automation
    automation.service.stop()


@pytest.fixture
def fragile(tmp_path: Path) -> Iterator[Automation]:
    automation = start_automation("fragile", tmp_path)
    yield automation
    automation.service.stop()


class Forked:
    """A child of the worker's zygote (tests/zygote.py) as ``subprocess.Popen`` shows one:
    ``pid``, ``stdout``, ``returncode``, ``poll``, ``wait``, ``send_signal``, ``terminate``,
    ``kill``."""

    def __init__(self, zygote_: Zygote, pid: int, argv: list[str], stdout: io.BufferedReader):
        self._zygote, self.pid, self.args, self.stdout = zygote_, pid, argv, stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self._zygote.exit_code(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """This worker's connection to the run's zygote: one process, started by the controller
    (``pytest_configure``), that has imported what the automations import and forks each of
    them (tests/zygote.py: 0.45 of the 0.5 CPU-s each start cost was those imports)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.connect(_zygote_path[0])
        self._spawn = threading.Lock()
        self._pids: queue.Queue[int] = queue.Queue()
        self._exits: dict[int, int] = {}
        self._ended = threading.Condition()
        threading.Thread(target=self._read, name="zygote", daemon=True).start()

    def _read(self) -> None:
        reader = self._sock.makefile("rb")
        while header := reader.read(forked_workers.HEADER.size):
            (size,) = forked_workers.HEADER.unpack(header)
            message = json.loads(reader.read(size))
            if "pid" in message:
                self._pids.put(message["pid"])
            else:
                with self._ended:
                    self._exits[message["exit"]] = message["code"]
                    self._ended.notify_all()

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        with self._ended:
            self._ended.wait_for(lambda: pid in self._exits, timeout)
            return self._exits.get(pid)

    def start(
        self,
        module: str,
        args: Sequence[str],
        env: dict[str, str],
        *,
        stderr: int = 2,
        cwd: Path | None = None,
    ) -> Forked:
        """``python -m module args`` with exactly ``env``, its stdout a pipe, its stderr the file
        descriptor ``stderr`` (this process's), in ``cwd`` (this process's working directory)."""
        read, write = os.pipe()
        request = {"module": module, "args": list(args), "env": env, "cwd": str(cwd or os.getcwd())}
        data = json.dumps(request).encode()
        with self._spawn:
            header = forked_workers.HEADER.pack(len(data))
            socket.send_fds(self._sock, [header + data], [write, stderr])
            os.close(write)
            pid = self._pids.get(timeout=30)
        argv = [sys.executable, "-m", module, *args]
        return Forked(self, pid, argv, os.fdopen(read, "rb"))

    def close(self) -> None:
        """Ends the connection (this worker's children, if any are left, run on)."""
        self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()


_zygote: list[Zygote] = []


def forked(
    module: str,
    args: Sequence[str],
    env: dict[str, str],
    *,
    stderr: int = 2,
    cwd: Path | None = None,
) -> Forked:
    """``python -m module args`` forked from the run's zygote (connected at the first call)."""
    if not _zygote:
        _zygote.append(Zygote())
        atexit.register(_zygote[0].close)
    return _zygote[0].start(module, args, env, stderr=stderr, cwd=cwd)


def start_module(
    name: str, module: str, args: Sequence[str], env: dict[str, str], timeout: float = 15.0
) -> Service:
    """``harness.cli._processes.start_module`` (``python -m module args``, returned once it
    prints ``LISTENING <url>``), the process forked from this worker's zygote."""
    from harness.cli._processes import announced

    proc = forked(module, args, {**os.environ, **env})
    return announced(name, proc, timeout)  # type: ignore[arg-type]
