"""Memory and time of validating a large recorded JSONL file, as `harness run` does when it
loads a scenario (every line read for the source's paths, a drift's path, and the survey of
ids, payloads, headers and times), before anything is sent.

    python benchmarks/bench_recorded.py             # a ~200 MB file
    python benchmarks/bench_recorded.py --mb 1024   # a ~1 GB file

The file is generated in a temporary folder; the scenario is loaded in a fresh process, so the
peak resident set size (ru_maxrss) is its own. Printed: the file's size and lines, the process's
resident size after its imports, its peak while validating, the difference, and the time.
Goal: the difference stays under 64 MiB whatever the file's size (flat memory). Exit status 1
when it does not.

    python benchmarks/bench_recorded.py --export 100000            # a Stripe export's run
    python benchmarks/bench_recorded.py --export 100000 --tree ../main --rounds 2

``--export N``: instead, a Stripe export of N ``invoice.paid`` events (the "List all events"
response as ``stripe events list`` prints it: pretty-printed, newest first; tests/
recorded_samples' event, each id its own, 5,000 customers) replayed as a user starts:
``harness run duplicate-storm --events export.json --no-project`` in a child process (the
checkout at ``--tree``, default this one) against the benchmarks' receiver. At the receiver's
first request the child's CPU seconds (user + system, /proc/PID/stat) and its peak resident
set (VmHWM) are read, and the child is stopped: the time to the first delivery, which a
recording read and checked whole waits for (its clean run's events are then traced as they
are sent, its run's after its clean run: ``engine/_recorded_feed``). Each round also runs
the same command with HARNESS_SECRET unset, to its exit (2, the secret's error): the time to
that error, which no event is needed for (its CPU seconds, from wait4).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _receiver
from _receiver import SECRET, Receiver, machine_line

GOAL_MIB = 64.0

_CHILD = """
import resource, sys, time
from harness import load_scenario
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
load_scenario(sys.argv[1])
took = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(before, peak, took)
"""


def _write(path: Path, megabytes: int) -> int:
    """A file of about ``megabytes`` MB of realistic ~1 KB events; its line count."""
    lines = 0
    target = megabytes * 1_000_000
    written = 0
    with path.open("w", encoding="utf-8") as f:
        while written < target:
            n = lines
            event = {
                "id": f"evt_{n:09d}",
                "key": f"cus_{n % 5000:05d}",
                "type": "invoice.paid" if n % 3 else "customer.updated",
                "occurred_at": 1772366400 + n // 100,
                "headers": {"X-Shop-Domain": "shop.example", "Content-Length": "999"},
                "payload": {
                    "id": f"evt_{n:09d}",
                    "type": "invoice.paid",
                    "data": {
                        "object": {
                            "id": f"in_{n:09d}",
                            "customer": f"cus_{n % 5000:05d}",
                            "amount_paid": 1999 + n % 700,
                            "currency": "usd",
                            "lines": [
                                {"id": f"il_{n}_{i}", "amount": 500 + i, "description": "x" * 80}
                                for i in range(4)
                            ],
                            "customer_email": f"user{n % 5000}@example.com",
                            "metadata": {"order_id": f"ord_{n:09d}", "note": "y" * 120},
                        }
                    },
                },
            }
            text = json.dumps(event) + "\n"
            f.write(text)
            written += len(text)
            lines += 1
    return lines


def _stripe_event(n: int) -> dict[str, Any]:
    """tests/recorded_samples.stripe_event's invoice.paid, its ids its own at any count."""
    return {
        "id": f"evt_1Pgc{n:08d}Inv",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1_772_366_400 + n,
        "data": {
            "object": {
                "id": f"in_1Pgc{n:08d}",
                "object": "invoice",
                "amount_paid": 2000 + n % 700,
                "currency": "usd",
                "customer": f"cus_QbWx{n % 5000:05d}",
                "customer_email": f"ada{n % 5000}@example.com",
                "status": "paid",
            }
        },
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "invoice.paid",
    }


def _write_export(path: Path, events: int) -> None:
    doc = {
        "object": "list",
        "url": "/v1/events",
        "has_more": False,
        "data": [_stripe_event(n) for n in range(events, 0, -1)],
    }
    path.write_text(json.dumps(doc, indent=2))


def _cpu_and_peak(pid: int) -> tuple[float, float]:
    """A process's CPU seconds so far (user + system) and its peak resident set in MiB."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return cpu, int(row.split()[1]) / 1024
    return cpu, float("nan")


def _first_delivery(export: Path, tree: Path, folder: Path, limit: float) -> tuple[float, float]:
    """``harness run duplicate-storm --events export`` from ``tree`` until its first delivery
    arrives: its CPU seconds and peak MiB then."""
    with Receiver(lifetime=limit + 30) as receiver:
        env = {**os.environ, "HARNESS_SECRET": SECRET}
        env["PYTHONPATH"] = f"{tree}{os.pathsep}{tree / 'plugins'}"
        journal = folder / "run.db"
        command = [sys.executable, "-m", "harness", "run", "duplicate-storm", "--no-project"]
        command += ["--events", str(export), "--target", receiver.url]
        command += ["--downstream", "127.0.0.1:0", "--journal", str(journal)]
        said = folder / "stderr.txt"
        with said.open("wb") as err:
            child = subprocess.Popen(
                command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=err
            )
        try:
            deadline = time.monotonic() + limit
            while receiver.usage()[0] == 0:
                if child.poll() is not None:
                    raise SystemExit(f"the run ended before a delivery: {said.read_text()}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"no delivery within {limit:g} s")
                time.sleep(0.01)
            return _cpu_and_peak(child.pid)
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
            for leftover in folder.glob("run.db*"):
                leftover.unlink()


def _secret_error(export: Path, tree: Path, folder: Path) -> float:
    """The same run with HARNESS_SECRET unset, to its exit: its CPU seconds. (Not its peak:
    wait4's ru_maxrss counts this process's memory at the fork, the export's list included.)"""
    env = {k: v for k, v in os.environ.items() if k != "HARNESS_SECRET"}
    env["PYTHONPATH"] = f"{tree}{os.pathsep}{tree / 'plugins'}"
    command = [sys.executable, "-m", "harness", "run", "duplicate-storm", "--no-project"]
    command += ["--events", str(export), "--target", "http://127.0.0.1:9/hooks"]
    command += ["--journal", str(folder / "run.db")]
    said = folder / "stderr.txt"
    with said.open("wb") as err:
        child = subprocess.Popen(
            command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=err
        )
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    text = said.read_text()
    if child.returncode != 2 or "HARNESS_SECRET is not set" not in text:
        raise SystemExit(f"not the secret's error (exit {child.returncode}): {text}")
    return usage.ru_utime + usage.ru_stime


def export_main(events: int, trees: list[Path], rounds: int) -> int:
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="bench-export-") as name:
        folder = Path(name)
        export = folder / "export.json"
        _write_export(export, events)
        print(f"a Stripe export of {events:,} events, {export.stat().st_size / 1e6:,.1f} MB")
        for n in range(rounds):
            for tree in trees:
                cpu, peak = _first_delivery(export, tree, folder, limit=600.0)
                print(
                    f"round {n + 1} {tree}: first delivery after {cpu:.2f} CPU-s, "
                    f"peak {peak:,.0f} MiB"
                )
                cpu = _secret_error(export, tree, folder)
                print(
                    f"round {n + 1} {tree}: HARNESS_SECRET unset, its error after {cpu:.2f} CPU-s"
                )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the file in MB")
    parser.add_argument("--export", type=int, help="a Stripe export of this many events' run")
    parser.add_argument(
        "--tree",
        type=Path,
        action="append",
        help="the checkout to run (repeatable: each in turn, a round each); default this one",
    )
    parser.add_argument("--rounds", type=int, default=1, help="--export: rounds of each tree")
    args = parser.parse_args()
    if args.export is not None:
        here = Path(__file__).resolve().parent.parent
        trees = [t.resolve() for t in args.tree] if args.tree else [here]
        return export_main(args.export, trees, args.rounds)
    with tempfile.TemporaryDirectory(prefix="bench-recorded-") as folder:
        base = Path(folder)
        events = base / "events.jsonl"
        start = time.perf_counter()
        lines = _write(events, args.mb)
        print(
            f"wrote {events.stat().st_size / 1e6:,.0f} MB, {lines:,} lines in "
            f"{time.perf_counter() - start:.1f} s"
        )
        (base / "s.scenario.yaml").write_text(
            "source:\n  recorded:\n    file: events.jsonl\n    over: 60s\n"
            "    key: $.data.object.customer\n    type: $.type\n"
            "perturbations: [{rename_field: {path: $.data.object.customer_email, to: email, "
            "rate: 0.1}}]\ndelivery: {signing: none}\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(base / "s.scenario.yaml")],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
        if done.returncode != 0:
            print(done.stderr)
            return 1
        before_kib, peak_kib, took = done.stdout.split()
        before, peak = int(before_kib) / 1024, int(peak_kib) / 1024
        grew = peak - before
        print(
            f"resident after imports {before:,.0f} MiB; peak while validating {peak:,.0f} MiB; "
            f"grew {grew:,.1f} MiB (goal <= {GOAL_MIB:.0f}); validated in {float(took):.1f} s "
            f"({events.stat().st_size / 1e6 / float(took):,.0f} MB/s)"
        )
    return 0 if grew <= GOAL_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
