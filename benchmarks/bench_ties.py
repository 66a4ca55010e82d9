"""no_lost_events on a register of many event types whose clean run left some events alone,
with a time path (``invariants/_ties``: the clean run's written times indexed for the ties) beside
its peer without one (no index made).

    python benchmarks/bench_ties.py                     # 20 types x 2,000 events
    python benchmarks/bench_ties.py --types 40 --events 1000

Half of each type's events are written (``PUT /s/{key}``), the others accepted and left alone,
in the clean run and in the judged run alike: each type asks the ties of its events left alone.
Printed: the machine line, the CPU seconds of judging each History, and their difference. No
goal: what looking for ties costs (a scan of the clean run per type asked, before the index was
made once: +0.57 CPU-s over the peer's 0.95 for 20 types of 2,000 events; +0.15 since).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _receiver

from _receiver import machine_line

from harness.core._model import Delivery, Effect, Event, Model, Outcome
from harness.core._scenario import InvariantSpec
from harness.history import History, RunInfo
from harness.invariants import judge

ROUTES = {"crm": ["PUT /s/{id}"]}


def _history(
    tag: str, types: int, per: int, paths: dict[str, str], baseline: History | None
) -> History:
    events = [
        Event(
            f"evt_{tag}e{seq}",
            f"sub_{tag}k{seq}",
            seq,
            f"type.{seq % types}",
            0.0,
            {"created": 1767225600 + seq},
        )
        for seq in range(1, types * per + 1)
    ]
    deliveries = [
        Delivery(f"dlv_{e.id}", e.id, 1, float(n), float(n), n + 0.01, 200, Outcome.OK)
        for n, e in enumerate(events)
    ]
    effects = [
        Effect(f"eff_{e.id}", "crm", n + 0.5, "PUT", f"/s/{e.key}", {}, "{}", 200, (e.id,), e.key)
        for n, e in enumerate(events)
        if (n // types) % 2 == 0  # half of each type's events
    ]
    settings: dict[str, Any] = {"routes": ROUTES, "paths": paths}
    if baseline is not None:
        settings["baseline"] = baseline.info.run_id
    spec = (InvariantSpec("no_lost_events"),)
    info = RunInfo(
        f"run@{tag}",
        "s",
        1,
        "http://127.0.0.1:1/",
        "t",
        Model.REGISTER,
        spec,
        "",
        tag,
        settings=settings,
    )
    history = History(info, events, deliveries, effects)
    history.baseline = baseline
    return history


def _judged(types: int, per: int, paths: dict[str, str]) -> tuple[float, str]:
    clean = _history("zqclean", types, per, paths, None)
    run = _history("zqrun", types, per, paths, clean)
    start = time.process_time()
    [verdict] = judge(run, [InvariantSpec("no_lost_events")])
    return time.process_time() - start, verdict.status.value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--types", type=int, default=20)
    parser.add_argument("--events", type=int, default=2_000, help="events of each type")
    args = parser.parse_args()
    print(machine_line())
    timed, status = _judged(args.types, args.events, {"time": "$.created"})
    peer, peer_status = _judged(args.types, args.events, {})
    n = args.types * args.events
    print(f"{args.types} types x {args.events:,} events ({n:,}), a register:")
    print(f"  with a time path ($.created): {timed:.2f} CPU-s ({status})")
    print(f"  without one (peer):           {peer:.2f} CPU-s ({peer_status})")
    print(f"  the ties' cost:               {timed - peer:+.2f} CPU-s")


if __name__ == "__main__":
    main()
