"""The Locust adapter's cost and scale-out, on one receiver.

    python benchmarks/bench_locust.py                 # 20,000 events, 64 users, 2 rounds
    python benchmarks/bench_locust.py --events 5000 --rounds 1

1. Side by side, taking turns against the same receiver (benchmarks/_receiver.py), each a
   ``locust --headless`` process on one generated locustfile:
     plain     FastHttpUser posting the scenario's bodies, unsigned, nothing recorded
     scenario  ScenarioUser: Standard Webhooks signing, every delivery shipped to the recorder
               process and journaled, the downstream double listening (idle: the receiver calls
               nothing), settled and judged at the end
   Goal: scenario >= 0.9x plain's requests/s.
2. ScenarioUser in Locust's master/worker mode: master + 2 workers against master + 1 worker.

Requests/s is requests / (first request sent .. last answered): for plain from Locust's request
events, for scenario runs from the journal's deliveries. Locust's own Requests/s (its summary's
figure, which counts from the start of spawning) is printed beside it. Every run is bounded by
the event count and by -t; everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from _receiver import SECRET, Receiver, machine_line

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.cli._processes import free_port  # noqa: E402
from harness.history import load_all  # noqa: E402

GOAL = 0.9

# Parameters come in through the environment so this text needs no templating.
LOCUSTFILE = """\
import itertools
import json
import os
import resource
import time

import gevent
from harness import DeliverySpec, InvariantSpec, RunOptions, Scenario, Settle, SyntheticSource
from harness import prepare
from locust import FastHttpUser, constant, events, task

COUNT = int(os.environ["BENCH_EVENTS"])
EXAMPLE = {
    "id": "evt_1", "type": "order.paid", "occurred_at": "2026-01-01T00:00:00Z", "sequence": 1,
    "data": {
        "order_id": "ord_1",
        "customer": {"email": "ada.lovelace@example.com", "name": "Ada Lovelace"},
        "amount": 12900, "currency": "EUR",
        "items": [{"sku": "AE-1843", "qty": 1, "price": 9900}, {"sku": "AE-G", "qty": 3}],
        "shipping": {"city": "London", "country": "GB", "postcode": "SW1A 1AA"},
        "note": "Gift wrap please",
    },
}
SCENARIO = Scenario(
    name="bench-locust",
    source=SyntheticSource(
        example=EXAMPLE, events=COUNT, records=max(1, COUNT // 4), over=1.0,
        id_path="$.id", key_path="$.data.order_id", type_path="$.type",
        seq_path="$.sequence", time_path="$.occurred_at",
    ),
    invariants=(InvariantSpec("ack_within", {"seconds": 5}),),
    delivery=DeliverySpec(signing="standard-webhooks", secret_env="BENCH_SECRET"),
    settle=Settle(quiet=0.2, deadline=5),
)
seen = {"answers": 0, "first": None, "last": None, "cpu_first": None, "cpu_last": None}
env = None
QUIT_AT_COUNT = os.environ["BENCH_MODE"] == "plain"  # ScenarioUser ends the test by itself


@events.request.add_listener
def on_request(start_time, **kwargs):
    seen["answers"] += 1
    if seen["first"] is None or start_time < seen["first"]:
        seen["first"] = start_time
        seen["cpu_first"] = time.process_time()
    seen["last"] = time.time()
    seen["cpu_last"] = time.process_time()
    if QUIT_AT_COUNT and seen["answers"] == COUNT:
        gevent.spawn(env.runner.quit)


@events.init.add_listener
def on_init(environment, **kwargs):
    global env
    env = environment


@events.quitting.add_listener
def on_quitting(environment, **kwargs):
    total = environment.stats.total
    seen.update(requests=total.num_requests, failures=total.num_failures, rps=total.total_rps)
    # The recorder process has ended by now (ScenarioUser's test_stop waited for it).
    seen["children_cpu"] = sum(resource.getrusage(resource.RUSAGE_CHILDREN)[:2])
    seen["own_cpu"] = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    if os.environ.get("BENCH_TIMES"):
        with open(os.environ["BENCH_TIMES"], "w") as f:
            json.dump(seen, f)


if os.environ["BENCH_MODE"] == "plain":
    BODIES = prepare(SCENARIO, RunOptions.create(os.environ["BENCH_URL"], seed=1)).bodies
    HEADERS = {"Content-Type": "application/json", "User-Agent": "locust/bench"}
    tickets = itertools.count()

    class Plain(FastHttpUser):
        wait_time = constant(0)

        @task
        def post(self):
            n = next(tickets)
            if n >= COUNT:  # idle until the last answer quits the run
                gevent.sleep(0.1)
                return
            self.client.post("", data=BODIES[n], headers=HEADERS, name="order.paid")

else:
    from harness_locust import ScenarioUser

    class Orders(ScenarioUser):
        scenario = SCENARIO
"""


@dataclass(frozen=True, slots=True)
class Figure:
    label: str
    requests: int
    seconds: float  # first request sent .. last answered
    failures: int
    locust_per_second: float  # Locust's own Requests/s
    cpu: float  # the Locust process's CPU seconds from the first request to the last answer
    recorder_cpu: float  # the recorder process's CPU seconds, all of its life (0 for plain)
    master_cpu: float = 0.0  # a master's CPU seconds, all of its life (passing rows on)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def _env(mode: str, events: int, url: str, times: Path | None) -> dict[str, str]:
    path = os.pathsep.join([str(REPO), str(REPO / "plugins"), os.environ.get("PYTHONPATH", "")])
    return {
        **os.environ,
        "PYTHONPATH": path,
        "BENCH_MODE": mode,
        "BENCH_EVENTS": str(events),
        "BENCH_URL": url,
        "BENCH_SECRET": SECRET,
        "BENCH_TIMES": str(times) if times else "",
    }


def _locust(locustfile: Path, url: str, args: argparse.Namespace, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(locustfile), "--host", url, "--headless",
        "--only-summary", "--loglevel", "WARNING", "-u", str(args.users),
        "-r", str(args.users), "-t", f"{args.seconds}s", *extra,
    ]  # fmt: skip


def _wait(process: subprocess.Popen[bytes], seconds: float, log: Path) -> None:
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise SystemExit(f"locust did not stop within {seconds:g} s; see {log}") from None


def run_plain(url: str, args: argparse.Namespace, workdir: Path, locustfile: Path) -> Figure:
    times, log = workdir / "times.json", workdir / "plain.log"
    times.unlink(missing_ok=True)
    with log.open("w") as output:
        process = subprocess.Popen(
            _locust(locustfile, url, args),
            env=_env("plain", args.events, url, times),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        _wait(process, args.seconds + 60, log)
    if not times.is_file():
        raise SystemExit(f"plain locust wrote no timings; see {log}")
    seen = json.loads(times.read_text())
    return Figure(
        "plain",
        seen["requests"],
        seen["last"] - seen["first"],
        seen["failures"],
        seen["rps"],
        seen["cpu_last"] - seen["cpu_first"],
        0.0,
    )


def run_scenario(
    url: str, args: argparse.Namespace, workdir: Path, locustfile: Path, workers: int = 0
) -> Figure:
    """ScenarioUser in one process (``workers`` 0), or a master with that many workers."""
    journal, times = workdir / f"run-{workers}.db", workdir / "times.json"
    journal.unlink(missing_ok=True)
    times.unlink(missing_ok=True)
    harness_args = [
        "--harness-downstream", "127.0.0.1:0", "--harness-journal", str(journal),
        "--harness-seed", "1",  # the plain contender's bodies
    ]  # fmt: skip
    env = _env("scenario", args.events, url, times)
    worker_env = _env("scenario", args.events, url, None)  # only the master writes timings
    started: list[subprocess.Popen[bytes]] = []
    log = workdir / f"scenario-{workers}.log"
    try:
        with log.open("w") as output:
            extra = harness_args
            if workers:
                port = free_port()
                extra = [
                    *harness_args, "--master", "--master-bind-host", "127.0.0.1",
                    "--master-bind-port", str(port), "--expect-workers", str(workers),
                ]  # fmt: skip
                worker = [
                    sys.executable, "-m", "locust", "-f", str(locustfile), "--worker",
                    "--master-host", "127.0.0.1", "--master-port", str(port),
                    "--loglevel", "WARNING",
                ]  # fmt: skip
                for _ in range(workers):
                    started.append(
                        subprocess.Popen(
                            worker, env=worker_env, stdout=output, stderr=subprocess.STDOUT
                        )
                    )
            process = subprocess.Popen(
                _locust(locustfile, url, args, *extra),
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            started.append(process)
            _wait(process, args.seconds + 90, log)
            for p in started[:-1]:
                _wait(p, 30, log)
    finally:
        for p in started:
            if p.poll() is None:
                p.kill()
                p.wait()
    if not journal.is_file() or not times.is_file():
        raise SystemExit(f"the scenario run wrote no journal or timings; see {log}")
    (history,) = load_all(journal)
    ds = history.deliveries
    seconds = max(d.answered_at or d.sent_at for d in ds) - min(d.sent_at for d in ds)
    failures = sum(d.outcome.value != "ok" for d in ds)
    label = f"master+{workers}" if workers else "scenario"
    seen = json.loads(times.read_text())
    # A master makes no requests; its workers' CPU is not measured here.
    cpu = 0.0 if workers else seen["cpu_last"] - seen["cpu_first"]
    master = seen["own_cpu"] if workers else 0.0
    return Figure(label, len(ds), seconds, failures, seen["rps"], cpu, seen["children_cpu"], master)


def _line(round_no: int, f: Figure) -> str:
    cpu = f"; Locust CPU/request {f.cpu / f.requests * 1e6:.0f} µs" if f.cpu else ""
    recorder = f", recorder {f.recorder_cpu / f.requests * 1e6:.0f} µs" if f.recorder_cpu else ""
    if f.master_cpu:
        recorder += f", master {f.master_cpu / f.requests * 1e6:.0f} µs"
    return (
        f"  round {round_no} {f.label:10} {f.per_second:7.0f} req/s (Locust's own: "
        f"{f.locust_per_second:.0f})  {f.requests} in {f.seconds:.2f} s, {f.failures} failures"
        f"{cpu}{recorder}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=64, help="Locust users (-u and -r)")
    parser.add_argument("--rounds", type=int, default=2, choices=range(1, 6))
    parser.add_argument("--seconds", type=int, default=60, help="Locust's -t bound")
    args = parser.parse_args()
    if not 100 <= args.events <= 200_000:
        parser.error(f"--events {args.events!r}: use 100 .. 200,000")
    print(machine_line())
    print(f"{args.events} events, {args.users} users; scenario signs, records and judges")
    figures: dict[str, list[Figure]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-locust-") as tmp, Receiver() as receiver:
        workdir = Path(tmp)
        locustfile = workdir / "locustfile.py"
        locustfile.write_text(LOCUSTFILE)
        url = receiver.url
        turns = {
            "plain": lambda: run_plain(url, args, workdir, locustfile),
            "scenario": lambda: run_scenario(url, args, workdir, locustfile),
            "master+1": lambda: run_scenario(url, args, workdir, locustfile, 1),
            "master+2": lambda: run_scenario(url, args, workdir, locustfile, 2),
        }
        for round_no in range(1, args.rounds + 1):
            for name, turn in turns.items():
                figure = turn()
                figures.setdefault(name, []).append(figure)
                print(_line(round_no, figure))
    best = {name: max(f.per_second for f in rounds) for name, rounds in figures.items()}
    ratio = best["scenario"] / best["plain"]
    cpu = {name: min(f.cpu / f.requests for f in figures[name]) for name in ("plain", "scenario")}
    recorder = min(f.recorder_cpu / f.requests for f in figures["scenario"])
    print(
        f"best: plain {best['plain']:.0f} req/s, scenario {best['scenario']:.0f} req/s: "
        f"scenario / plain = {ratio:.2f}; goal >= {GOAL:.1f}: "
        f"{'met' if ratio >= GOAL else 'NOT met'}\n"
        f"Locust process CPU per request: plain {cpu['plain'] * 1e6:.0f} µs, scenario "
        f"{cpu['scenario'] * 1e6:.0f} µs (+ recorder process {recorder * 1e6:.0f} µs)\n"
        f"distributed: master+2 {best['master+2']:.0f} req/s, master+1 "
        f"{best['master+1']:.0f} req/s: {best['master+2'] / best['master+1']:.2f}x"
    )


if __name__ == "__main__":
    main()
