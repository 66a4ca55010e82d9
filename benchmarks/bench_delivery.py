"""Delivery throughput of the engine against Locust's FastHttpUser, on one receiver.

    python benchmarks/bench_delivery.py                    # 20,000 deliveries, 2 rounds
    python benchmarks/bench_delivery.py --profile          # and one cProfiled harness round

Goal: the harness delivers, signed (Standard Webhooks) and with every Delivery written to the
SQLite journal, at >= 1.0x the requests/s of Locust FastHttpUser on the same receiver.

One receiver process (benchmarks/_receiver.py: aiohttp low-level server, 200 + a tiny body)
serves both contenders, which take turns, each in a process of its own:
  harness  Deliverer + Signer + Journal wired as harness.engine wires them: ~400-byte JSON
           bodies, every slot at t=0, ``concurrency`` connections at most.
           requests/s = deliveries / (first sent .. last answered), from the journal read back.
  locust   ``locust --headless`` on a generated locustfile: ``--concurrency`` FastHttpUsers
           (one connection each) posting the same bodies with the same signature headers (off with
           --locust-unsigned), stopped after the same number of requests or by ``-t``.
           requests/s as the harness's is measured (first request sent .. last answered), and
           as Locust states it (its summary's and CSV's Requests/s: requests / (start of
           spawning .. last request)), read from its stats when it quits: its --csv file is
           rewritten once a second and not at shutdown, so for a run of seconds it lags behind.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import json
import multiprocessing
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

from _receiver import PATH, SECRET, Receiver, machine_line, order_events

from harness.core._model import Delivery, Model, Outcome
from harness.core._signing import Signer
from harness.drive._deliver import Deliverer
from harness.drive._perturb import plan
from harness.drive._target import parse_target
from harness.engine._events import DeliveryDone, Listener
from harness.history import Journal, RunInfo, load

GOAL = 1.0
SEED = 7
REPO = Path(__file__).resolve().parents[1]
RUN_ID = "bench-delivery"


@dataclass(frozen=True, slots=True)
class Figure:
    """One contender's round: requests/s over (first send .. last answer), and how many failed."""

    contender: str
    requests: int
    seconds: float
    failures: int
    cpu: float  # the contender's CPU seconds over those requests
    latency: float  # median seconds from "sent" to answered, as the contender records them
    gc: float | None = None  # seconds the harness spent in the garbage collector
    receiver_cpu: float = 0.0  # the receiver's CPU seconds over the contender's turn
    locust_per_second: float | None = None  # Locust's own Requests/s, from its stats

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


# ---- contender A: the harness, in its own process ------------------------------------------


def harness_process(
    url: str, count: int, concurrency: int, workdir: str, profile: str, out: Connection
) -> None:
    """Deliver ``count`` events; send a Figure's fields or an error."""
    try:
        journal = Path(workdir) / "journal.db"
        journal.unlink(missing_ok=True)
        gc_timer = _GcTimer()
        gc.callbacks.append(gc_timer)
        if profile:
            # A collection is charged to whatever allocated when it ran, which scatters it
            # over the profile; the unprofiled rounds report the gc share on their own.
            gc.disable()
            profiler = cProfile.Profile()
            cpu = profiler.runcall(asyncio.run, deliver_all(url, count, concurrency, journal))
            profiler.dump_stats(profile)
        else:
            cpu = asyncio.run(deliver_all(url, count, concurrency, journal))
        gc.callbacks.remove(gc_timer)
        deliveries, seconds, failures, latency = _measured(journal)
        out.send((deliveries, seconds, failures, cpu, latency, gc_timer.seconds))
    except Exception as exc:  # report it to the parent instead of dying silently
        out.send(repr(exc))
    finally:
        out.close()


async def deliver_all(url: str, count: int, concurrency: int, journal_path: Path) -> float:
    """``count`` signed deliveries journaled as harness.engine does; CPU s it took."""
    events = order_events([0.0] * count)
    schedule = plan(events, [], SEED)
    journal = Journal(journal_path)
    info = RunInfo(
        run_id=RUN_ID,
        scenario="bench-delivery",
        seed=SEED,
        target=url,
        target_name="receiver",
        model=Model.LEDGER,
        invariants=(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tracer_tag="bench",
        settings={"planned_deliveries": len(schedule), "concurrency": concurrency},
    )
    t0 = time.monotonic()

    def clock() -> float:
        return time.monotonic() - t0

    listeners: tuple[Listener, ...] = ()  # `harness run` has its console here: not measured

    def on_delivery(d: Delivery) -> None:  # as the Recorder does: journal, then the event stream
        journal.delivery(d)
        done = DeliveryDone(d)
        for listener in listeners:
            listener(done)

    journal.begin(info, events)
    deliverer = Deliverer(
        parse_target(url),
        Signer("standard-webhooks", SECRET),
        timeout=10.0,
        clock=clock,
        on_delivery=on_delivery,
        headers={},
        concurrency=concurrency,
    )
    bodies = [json.dumps(ev.payload).encode() for ev in events]
    cpu = time.process_time()
    try:
        await deliverer.run(
            schedule, bodies, [ev.id for ev in events], [dict(ev.headers) for ev in events]
        )
    finally:
        journal.end("complete", clock())
        journal.close()
    return time.process_time() - cpu


class _GcTimer:
    """A gc callback adding up the time spent in collections."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started


def _measured(journal: Path) -> tuple[int, float, int, float]:
    """From the journal alone: deliveries, first sent .. last answered, the non-2xx ones, and
    the median latency recorded (answered - sent)."""
    deliveries = load(journal, RUN_ID).deliveries
    answered = [d.answered_at for d in deliveries if d.answered_at is not None]
    seconds = max(answered) - min(d.sent_at for d in deliveries)
    failures = sum(d.outcome is not Outcome.OK for d in deliveries)
    latency = statistics.median(d.latency for d in deliveries if d.latency is not None)
    return len(deliveries), seconds, failures, latency


def run_harness(
    url: str, count: int, concurrency: int, workdir: Path, timeout: float, profile: str = ""
) -> Figure:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(
        target=harness_process, args=(url, count, concurrency, str(workdir), profile, send)
    )
    process.start()
    send.close()
    try:
        result = receive.recv() if receive.poll(timeout) else f"no answer within {timeout:g} s"
    except EOFError:
        result = f"the process died (exit code {process.exitcode})"
    finally:
        process.join(timeout=5)
        if process.is_alive():
            process.terminate()
            process.join(timeout=5)
    if isinstance(result, str):
        raise SystemExit(f"harness: {result}")
    deliveries, seconds, failures, cpu, latency, gc_seconds = result
    return Figure("harness", deliveries, seconds, failures, cpu, latency, gc_seconds)


# ---- contender B: Locust FastHttpUser, as a subprocess -----------------------------------

# Parameters come in through the environment so this text needs no templating.
LOCUSTFILE = """\
import itertools
import json
import os
import sys
import time

import gevent
from locust import FastHttpUser, constant, events, task

sys.path.insert(0, os.environ["BENCH_REPO"])
from harness.core._signing import Signer

COUNT = int(os.environ["BENCH_COUNT"])
PATH = os.environ["BENCH_PATH"]
SIGNER = Signer("standard-webhooks", os.environ["BENCH_SECRET"]) if os.environ[
    "BENCH_SIGNED"
] == "1" else Signer()
with open(os.environ["BENCH_BODIES"]) as f:
    BODIES = [(eid, body.encode()) for eid, body in json.load(f)]
HEADERS = {"Content-Type": "application/json", "User-Agent": "locust/bench"}

tickets = itertools.count()  # each request takes one; COUNT in all, then users stop
seen = {"answers": 0, "first": None, "last": None, "cpu_first": None, "cpu_last": None}
env = None


@events.init.add_listener
def on_init(environment, **kwargs):
    global env
    env = environment


@events.request.add_listener
def on_request(start_time, **kwargs):
    seen["answers"] += 1
    if seen["first"] is None or start_time < seen["first"]:
        seen["first"] = start_time
    seen["last"] = time.time()
    seen["cpu_last"] = time.process_time()
    if seen["answers"] == COUNT:
        gevent.spawn(env.runner.quit)


@events.quitting.add_listener
def on_quitting(environment, **kwargs):
    total = environment.stats.total  # what Locust's summary and CSV call Requests/s
    seen.update(
        requests=total.num_requests,
        failures=total.num_failures,
        rps=total.total_rps,
        median_ms=total.get_response_time_percentile(0.5),
    )
    with open(os.environ["BENCH_TIMES"], "w") as f:
        json.dump(seen, f)


class Sender(FastHttpUser):
    wait_time = constant(0)

    @task
    def deliver(self):
        n = next(tickets)
        if n >= COUNT:  # idle until the last answer quits the run
            gevent.sleep(0.1)
            return
        if n == 0:
            seen["cpu_first"] = time.process_time()
        eid, body = BODIES[n]
        headers = {**HEADERS, **SIGNER.headers(body, eid, int(time.time()))}
        self.client.post(PATH, data=body, headers=headers)
"""


def run_locust(url: str, count: int, args: argparse.Namespace, workdir: Path) -> Figure:
    events = order_events([0.0] * count)
    bodies = workdir / "bodies.json"
    bodies.write_text(json.dumps([[ev.id, json.dumps(ev.payload)] for ev in events]))
    locustfile = workdir / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    times, log = workdir / "times.json", workdir / "locust.log"
    times.unlink(missing_ok=True)
    env = {
        **os.environ,
        "BENCH_REPO": str(REPO),
        "BENCH_COUNT": str(count),
        "BENCH_PATH": PATH,
        "BENCH_SECRET": SECRET,
        "BENCH_SIGNED": "0" if args.locust_unsigned else "1",
        "BENCH_BODIES": str(bodies),
        "BENCH_TIMES": str(times),
    }
    host = url.removesuffix(PATH)
    command = [
        _locust(), "-f", str(locustfile), "--headless", "-u", str(args.concurrency),
        "-r", str(args.spawn_rate), "-t", f"{args.seconds}s", "--host", host,
        "--only-summary", "--loglevel", "WARNING",
    ]  # fmt: skip
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            process.wait(timeout=args.seconds + 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise SystemExit(f"locust did not stop within -t + 30 s; see {log}") from None
    if not times.is_file():
        raise SystemExit(f"locust wrote no timings (exit code {process.returncode}):\n{_tail(log)}")
    seen = json.loads(times.read_text())
    return Figure(
        "locust",
        seen["requests"],
        seen["last"] - seen["first"],
        seen["failures"],
        seen["cpu_last"] - seen["cpu_first"],
        seen["median_ms"] / 1000,
        locust_per_second=seen["rps"],
    )


def _locust() -> str:
    beside = Path(sys.executable).parent / "locust"
    found = str(beside) if beside.is_file() else shutil.which("locust")
    if not found:
        raise SystemExit("locust is not installed: pip install 'automation-harness[dev]'")
    return found


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# ---- the comparison ---------------------------------------------------------------------


def _turn(receiver: Receiver, count: int, run: Callable[[], Figure]) -> Figure:
    """One contender's turn, checked against what the receiver saw, with the receiver's CPU."""
    count_before, cpu_before = receiver.usage()
    figure = run()
    count_after, cpu_after = receiver.usage()
    received = count_after - count_before
    if received != count or figure.requests != count:
        raise SystemExit(
            f"{figure.contender}: {figure.requests} requests answered, the receiver saw "
            f"{received}; expected {count} of each"
        )
    return replace(figure, receiver_cpu=cpu_after - cpu_before)


def _line(round_no: int, figure: Figure) -> str:
    own = figure.locust_per_second
    extra = "" if own is None else f" (Locust's own: {own:.0f})"
    return (
        f"  round {round_no} {figure.contender:8} {figure.per_second:7.0f} req/s{extra}  "
        f"{figure.requests} in {figure.seconds:.2f} s, {figure.failures} failures\n"
        f"          CPU/request: sender {figure.cpu / figure.requests * 1e6:.0f} µs"
        + ("" if figure.gc is None else f" ({figure.gc / figure.requests * 1e6:.0f} µs in gc)")
        + f", receiver {figure.receiver_cpu / figure.requests * 1e6:.0f} µs; "
        f"recorded latency p50 {figure.latency * 1e3:.1f} ms"
    )


def _profile(url: str, args: argparse.Namespace, workdir: Path) -> None:
    stats_path = workdir / "harness.prof"
    figure = run_harness(
        url, args.deliveries, args.concurrency, workdir, args.timeout, str(stats_path)
    )
    print(
        f"\nprofiled harness round (cProfile slows it; gc off, see 'in gc' above): "
        f"{figure.per_second:.0f} req/s"
    )
    text = io.StringIO()
    stats = pstats.Stats(str(stats_path), stream=text)
    stats.sort_stats("tottime").print_stats(25)
    print(text.getvalue().split("\n", 4)[-1].rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64, help="connections; Locust users")
    parser.add_argument("--rounds", type=int, default=2, choices=range(1, 6))
    parser.add_argument("--seconds", type=int, default=15, help="Locust's -t bound")
    parser.add_argument("--spawn-rate", type=float, default=64, help="Locust's -r")
    parser.add_argument("--locust-unsigned", action="store_true", help="Locust sends no signature")
    parser.add_argument("--timeout", type=float, default=120.0, help="harness round bound, s")
    parser.add_argument("--profile", action="store_true", help="add a cProfiled harness round")
    args = parser.parse_args()
    if not 1 <= args.deliveries <= 1_000_000:
        parser.error(f"--deliveries {args.deliveries!r}: use 1 .. 1,000,000")
    print(machine_line())
    print(
        f"{args.deliveries} POSTs of ~{len(json.dumps(order_events([0.0])[0].payload))}-byte "
        f"JSON, {args.concurrency} connections; harness signs and journals; locust "
        f"{'does not sign' if args.locust_unsigned else 'signs the same way'}"
    )
    figures: dict[str, list[Figure]] = {"harness": [], "locust": []}
    with tempfile.TemporaryDirectory(prefix="bench-delivery-") as tmp, Receiver() as receiver:
        workdir = Path(tmp)
        contenders: dict[str, Callable[[], Figure]] = {
            "harness": lambda: run_harness(
                receiver.url, args.deliveries, args.concurrency, workdir, args.timeout
            ),
            "locust": lambda: run_locust(receiver.url, args.deliveries, args, workdir),
        }
        for round_no in range(1, args.rounds + 1):
            for name, run in contenders.items():
                figure = _turn(receiver, args.deliveries, run)
                figures[name].append(figure)
                print(_line(round_no, figure))
        if args.profile:
            _profile(receiver.url, args, workdir)
    _summary(figures)


def _summary(figures: dict[str, list[Figure]]) -> None:
    # Best round each: other load on the machine only ever makes a figure worse.
    harness = max(f.per_second for f in figures["harness"])
    locust = max(f.per_second for f in figures["locust"])
    locust_own = max(f.locust_per_second or 0.0 for f in figures["locust"])
    cpu = {name: min(f.cpu / f.requests for f in rounds) for name, rounds in figures.items()}
    ratio, ratio_own = harness / locust, harness / locust_own
    print(
        f"best: harness {harness:.0f} req/s, locust {locust:.0f} req/s "
        f"(Locust's own figure {locust_own:.0f})\n"
        f"harness / locust = {ratio:.2f} (against Locust's own figure: {ratio_own:.2f}); "
        f"goal >= {GOAL:.1f}: {'met' if min(ratio, ratio_own) >= GOAL else 'NOT met'}\n"
        f"sender CPU per request: harness {cpu['harness'] * 1e6:.0f} µs, locust "
        f"{cpu['locust'] * 1e6:.0f} µs: capacity ratio {cpu['locust'] / cpu['harness']:.2f}"
    )


if __name__ == "__main__":
    main()
