"""What a recording's own ids cost to make (``drive._own_ids``), against its peers in one run.

    python benchmarks/bench_own_ids.py                  # 20,000 Stripe invoice.paid events
    python benchmarks/bench_own_ids.py --events 100000

The events are the library's ``stripe:invoice.paid`` payload, synthetic (so varied), then taken
as a recording's: each is traced three ways, one after the other in this process, best of three
rounds each — exactly as recorded (``tracer: {rewrite: false}``: nothing to make), as recorded
but for its ids (a recording's default: the event's id, key and every id of the payload the
run's own), and rewritten into tracer tokens (a synthetic source's way, ``rewrite: true``).
Printed: CPU seconds and µs per event for each, and the default's cost over the tokens'.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _receiver
from _receiver import machine_line

from harness.core._scenario import TracerSpec
from harness.drive._sources import synthetic
from harness.drive._tracer import traced
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

WAYS = {
    "exactly as recorded": TracerSpec(rewrite=False),
    "own ids (default)": TracerSpec(rewrite=False, ids=True),
    "tracer tokens": TracerSpec(rewrite=True),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    doc = SyntheticDoc(
        library="stripe:invoice.paid", events=args.events, records=args.events // 4, over=60.0
    )
    events = synthetic(_library_source(doc), seed=3)
    print(machine_line())
    print(f"{args.events:,} stripe:invoice.paid events, traced three ways (best of 3 rounds)")
    took: dict[str, float] = {}
    for name, spec in WAYS.items():
        best = float("inf")
        for n in range(3):
            start = time.process_time()
            for _ in traced(events, f"zqbench{'abc'[n]}"[:7], spec):
                pass
            best = min(best, time.process_time() - start)
        took[name] = best
        print(f"  {name:22} {best:6.2f} CPU-s  {best / args.events * 1e6:6.1f} µs an event")
    ratio = took["own ids (default)"] / took["tracer tokens"]
    print(f"own ids / tracer tokens: {ratio:.2f}x")


if __name__ == "__main__":
    main()
