"""How long `harness demo` takes, and where the time goes.

    python benchmarks/bench_demo.py

Runs `python -m harness demo` into a temporary folder, as a user does, and prints its wall time
and CPU time (the harness and the automations it started), then from the two journals it leaves:
per automation, the runs' own time one after the other (each clean run and scenario run, from
its start to its end) and how much of it was settling. The demo drives several instances of
each automation at once (harness/cli/_demo.py, INSTANCES), so its wall time is about the time of
the busiest instance, not the sum. Exit status 1 when the goal is missed.

Goal: the demo <= 60 s of wall time (issue #16), every check it makes kept.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _receiver import machine_line

from harness.core._model import SETTLED_MARK
from harness.history import History, load_all

GOAL_S = 60.0


def _runs(history: History) -> list[History]:
    return [history] if history.baseline is None else [history.baseline, history]


def _settled(history: History) -> float:
    found = [json.loads(m.detail) for m in history.marks if m.name == SETTLED_MARK]
    return float(found[0]["waited"]) if found else 0.0


def main() -> int:
    print(machine_line())
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as folder:
        report = Path(folder) / "report.json"
        began = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "harness", "demo", "--report", str(report)],
            capture_output=True,
            text=True,
        )
        wall = time.monotonic() - began
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            f"harness demo: exit {done.returncode}, {wall:.1f} s of wall time, "
            f"{usage.ru_utime + usage.ru_stime:.1f} s of CPU (harness and automations)"
        )
        for name in ("fragile", "sound"):
            runs = [r for h in load_all(report.with_name(f"journal-{name}.db")) for r in _runs(h)]
            total = sum(r.ended_at or 0.0 for r in runs)
            settling = sum(_settled(r) for r in runs)
            print(
                f"  {name}: {len(runs)} runs, {total:.1f} s one after the other, "
                f"of which {settling:.1f} s settling"
            )
    met = done.returncode == 0 and wall <= GOAL_S
    print(f"demo {wall:.1f} s — goal <= {GOAL_S:.0f} s: {'met' if met else 'MISSED'}")
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:], sep="\n")
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
