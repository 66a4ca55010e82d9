"""Wall time of a year at 1,000 events a day against the sound demo.

    python benchmarks/bench_year.py                      # 12 months, 1,000 events a day
    python benchmarks/bench_year.py --months 1           # one month, to extrapolate
    python benchmarks/bench_year.py --events-per-day 100 --day-seconds 0.5

Starts the sound demo (harness/demo/sound.py) as a process on loopback, runs
`python -m harness run year` against it as a user does, and prints the wall time of the whole
year, of each month (from the console's month lines) and the events per wall second; exit 1
when a month failed or the goal is missed.

Goal: a year at 1,000 events a day within 60 min of wall time, no month failed (the default
day_seconds, harness/year/_plan.py default_day_seconds: 1,000 / 150 = 6.7 s a day).
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _receiver import machine_line

from harness.cli._processes import free_port, start_module

GOAL_S = 3600.0
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
_MONTH = re.compile(r"[✓✗] (\d{4}-\d\d): ([\d,]+) deliveries in ([\d.]+) s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--events-per-day", type=int, default=1000)
    parser.add_argument("--day-seconds", type=float, default=None)
    args = parser.parse_args()
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="bench-year-") as folder:
        port = free_port()
        sound = start_module(
            "sound",
            "harness.demo.sound",
            ["--port", "0", "--downstream", f"http://127.0.0.1:{port}", "--state-dir", folder],
            {"HARNESS_SECRET": SECRET},
        )
        try:
            argv = [
                sys.executable, "-m", "harness", "run", "year", "--no-project",
                "--target", sound.url + "/hooks/orders", "--downstream", f"127.0.0.1:{port}",
                "--months", str(args.months), "--events-per-day", str(args.events_per_day),
                "--journal", str(Path(folder) / "year.db"), "--seed", "1",
            ]  # fmt: skip
            if args.day_seconds is not None:
                argv += ["--day-seconds", str(args.day_seconds)]
            began = time.monotonic()
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                env={**os.environ, "HARNESS_SECRET": SECRET, "COLUMNS": "200"},
                check=False,
            )
            wall = time.monotonic() - began
        finally:
            sound.stop()
    months = _MONTH.findall(done.stderr)
    deliveries = sum(int(n.replace(",", "")) for _, n, _ in months)
    for month, n, seconds in months:
        print(f"  {month}: {n} deliveries in {seconds} s")
    print(
        f"{len(months)} months at {args.events_per_day} events a day: {wall:.0f} s of wall "
        f"time, {deliveries:,} deliveries, {deliveries / wall:.0f} per wall second; exit "
        f"{done.returncode}"
    )
    if done.returncode != 0:
        print(done.stderr[-3000:])
    scaled = wall * 12 / max(len(months), 1)
    print(f"a year at this pace: {scaled / 60:.1f} min (goal {GOAL_S / 60:.0f} min)")
    return 0 if done.returncode == 0 and scaled <= GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
