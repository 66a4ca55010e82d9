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
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200, help="size of the file in MB")
    args = parser.parse_args()
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
