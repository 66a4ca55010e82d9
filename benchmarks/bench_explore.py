"""Time to the shrunk schedule: ``harness explore``'s search and shrinking against three flawed
automations, real processes on loopback.

    python benchmarks/bench_explore.py               # 2 rounds (seeds 1 and 2) of each
    python benchmarks/bench_explore.py --rounds 1 --examples 60

  fragile     harness.demo.fragile, duplicate-storm: a duplicate effect, shrunk to one event
              delivered twice
  dedup       tests/gallery/marked_after.py (check-then-act dedup), a Stripe scenario: shrunk to
              two concurrent copies of one event
  lost update tests/broken_automations.py --mode read-modify-write, a contacts sync: shrunk to
              two events of one record at once

For each: the wall time from the start of the search to the shrunk schedule (the stateful-target
probe, the search, the shrinking), the examples run (each one short run, and its clean run when
the scenario judges loss or final states), and the schedule it shrank to. No example database:
every round searches from scratch. Goal: each under 120 s.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from harness.cli._processes import free_port, start_module  # noqa: E402
from harness.engine import RunOptions  # noqa: E402
from harness.explore import ExploreSettings, explore_schedules  # noqa: E402
from harness.scenario._load import load_scenario, resolve  # noqa: E402

GOAL = 120.0
GALLERY = REPO / "tests" / "gallery" / "scenarios"
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()
STRIPE = "whsec_gallery0test0secret0not0real"

CASES = {
    "fragile": (
        "harness.demo.fragile", [], "/hooks/orders", lambda: resolve(["duplicate-storm"])[0]
    ),
    "dedup": (
        "tests.gallery.marked_after", [], "/webhooks/stripe",
        lambda: load_scenario(GALLERY / "stripe-checkout-explore.yaml"),
    ),
    "lost update": (
        "tests.broken_automations", ["--mode", "read-modify-write"], "/hooks/orders",
        lambda: load_scenario(GALLERY / "contacts-sync-explore.yaml"),
    ),
}  # fmt: skip


@contextmanager
def started(module: str, args: list[str], hook: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    service = start_module(
        module, module, ["--port", "0", "--downstream", f"http://127.0.0.1:{port}", *args], {}
    )
    try:
        yield service.url + hook, port
    finally:
        service.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--examples", type=int, default=100)
    args = parser.parse_args()
    os.environ.setdefault("HARNESS_SECRET", SECRET)
    os.environ.setdefault("STRIPE_WEBHOOK_SECRET", STRIPE)
    os.chdir(REPO)
    print(f"load average at the start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"{'automation':<12} {'seed':>4} {'seconds':>8} {'examples':>8}  shrunk to")
    for name, (module, extra, hook, scenario) in CASES.items():
        for seed in range(1, args.rounds + 1):
            with started(module, extra, hook) as (url, port):
                options = RunOptions.create(
                    url, seed=seed, downstream=f"127.0.0.1:{port}", journal=f"/tmp/bench-{seed}.db"
                )
                how = ExploreSettings(max_examples=args.examples, seed=seed, database=None)
                start = time.monotonic()
                result = explore_schedules(scenario(), options, how)
                took = time.monotonic() - start
            shrunk = repr(result.found.exploration) if result.found else "nothing found"
            mark = "" if took <= GOAL else f"  (over the {GOAL:.0f} s goal)"
            print(f"{name:<12} {seed:>4} {took:>8.1f} {result.examples:>8}  {shrunk}{mark}")
            Path(f"/tmp/bench-{seed}.db").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
