"""How fast synthetic events are prepared for a run, and how much memory that takes.

    python benchmarks/bench_prepare.py                      # 10,000 and 100,000 events
    python benchmarks/bench_prepare.py --events 1000000     # the goal's size (minutes)
    python benchmarks/bench_prepare.py --library shopify:orders/create
    python benchmarks/bench_prepare.py --provider stripe  # bodies laid out as Stripe's
    python benchmarks/bench_prepare.py --whole              # prepared whole, as before
    python benchmarks/bench_prepare.py --events 10000000 --first  # to the first delivery only
    python benchmarks/bench_prepare.py --events 200000 --against-delivery  # its share of a run

Each count is prepared in a fresh process (so its peak memory is its own) as ``harness run``
prepares it: streamed (``engine.prepare(stream=True)``: the schedule planned from the events'
times, then a Feed that makes each event — the synthetic source, varied per event by
``_vary``, traced, its body — as the deliveries reach it). Nothing is sent: the feed is drained
as the Deliverer takes it, a few slots at a time as columns (``drive/_slots.Slots``: each slot's
request, its Planned, is made by the Deliverer as it sends it, so not here), the events held as
the Recorder reads them (the tracer's columns; not journaled). Printed: the time to the first
delivery (from the start of ``prepare`` to the first slots with their bodies), the time until
every event is made, events/s, peak RSS, and the CPU seconds from the start to the first
delivery and in all (what to quote on a machine shared with others).
``--whole`` prepares the run whole, as a scenario that cannot stream is (and as every run was
before): the first delivery then waits for all of it, with the time of each stage. ``--first``
stops a streamed run at its first delivery: its figures alone, in seconds at any count.
``--provider NAME`` delivers as that provider does, its bodies laid out as it lays out its JSON
(pretty-printed for Stripe, compact for GitHub, Shopify and HubSpot: streamed, each written laid
out with its event, ``drive/_synthetic_text``; whole, by ``Provider.body``); without it, as
``json.dumps`` writes them, the peer to compare with.
``--against-delivery`` measures the peer that preparing feeds, in the same run: the Deliverer's
sender CPU a delivery (``bench_delivery.py``'s harness round: 20,000 signed, journaled POSTs at
the fast receiver), and prints preparing's share of a streamed run's CPU, now and at the goal rate.

Goals (issue #16): >= 200,000 events/s; <= 300 MB for 1,000,000 events, flat whatever the
count; the first delivery within 1 s of the start for any event count.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _receiver
from _receiver import SECRET, Receiver, machine_line
from bench_delivery import run_harness

from harness.core import _gc
from harness.core._providers import provider as provider_named
from harness.core._scenario import DeliverySpec, Perturbation, Scenario
from harness.engine import _prepare
from harness.engine._options import RunOptions
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

GOAL_RATE = 200_000.0  # events/s
GOAL_MB_PER_MILLION = 300.0
GOAL_FIRST_S = 1.0
# A synthetic source is traced as it is made: its time is in ``trace``. (``load_stream``:
# the other sources, and a synthetic one with an explicit schedule.)
STAGES = ("load_stream", "trace", "drift", "Correlation", "plan")


def scenario(events: int, library: str, provider: str | None = None) -> Scenario:
    doc = SyntheticDoc(
        library=library, events=events, records=max(1, events // 5), over=events / 1000.0
    )
    source = _library_source(doc)  # as the scenario loader makes it
    delivery = (
        DeliverySpec() if provider is None else DeliverySpec(provider=provider_named(provider))
    )
    duplicate = (Perturbation("duplicate", {"rate": 0.1}),)
    return Scenario("bench", source, perturbations=duplicate, delivery=delivery)


def child(
    events: int, library: str, whole: bool, first_only: bool = False, provider: str | None = None
) -> None:
    """In its own process: prepare ``events`` events; one JSON line out."""
    os.environ["HARNESS_SECRET"] = SECRET
    options = RunOptions.create("http://127.0.0.1:9/", seed=1)
    if whole:
        spent = dict.fromkeys(STAGES, 0.0)
        for name in STAGES:  # the functions prepare() calls, timed where it looks them up
            setattr(_prepare, name, _timed(spent, name, getattr(_prepare, name)))
        start, cpu0 = time.perf_counter(), time.process_time()
        prepared = _prepare.prepare(scenario(events, library, provider), options)
        total = time.perf_counter() - start
        spent["the rest (bodies, info)"] = total - sum(spent.values())
        first, first_cpu = total, time.process_time()
    else:
        start, cpu0 = time.perf_counter(), time.process_time()
        prepared = _prepare.prepare(scenario(events, library, provider), options, stream=True)
        if prepared.feed is None:
            raise SystemExit(f"{library} is prepared whole, not streamed: run with --whole")
        planned = time.perf_counter() - start

        def made(batch: Any, first: int, end: int) -> None:
            """As the Recorder's (its journal aside): the tracer holds the events."""

        first = first_cpu = 0.0
        with _gc.frozen():  # as the Deliverer drains it: the collector on, the heap frozen
            for _ in prepared.feed.sends(prepared.slots(), made):
                if not first:
                    first, first_cpu = time.perf_counter() - start, time.process_time()
                    if first_only:
                        break
        total = time.perf_counter() - start
        spent = {"plan": planned, "first": first - planned, "the other events": total - first}
    result = {
        "total_s": total,
        "first_s": first,
        "first_cpu_s": first_cpu - cpu0,
        "cpu_s": time.process_time() - cpu0,
        "stages": spent,
        "slots": len(prepared.schedule) if prepared.plan is None else prepared.plan.planned,
        "peak_mib": peak_mib(),
    }
    print(json.dumps(result))


def _timed(spent: dict[str, float], name: str, call: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start

    return wrapper


def peak_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for row in status:
            if row.startswith("VmHWM:"):
                return int(row.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--library", default="stripe:payment_intent.succeeded")
    parser.add_argument("--whole", action="store_true", help="prepare whole, not streamed")
    parser.add_argument("--first", action="store_true", help="stop at the first delivery")
    parser.add_argument("--provider", help="deliver as this provider (its bodies' layout)")
    parser.add_argument(
        "--against-delivery", action="store_true", help="and the Deliverer's CPU a delivery"
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.library, args.whole, args.first, args.provider)
        return 0
    print(machine_line())
    how = "whole" if args.whole else "streamed"
    sender = f", delivered as {args.provider}" if args.provider else ""
    print(
        f"prepare() {how} of synthetic {args.library} events, a duplicate perturbation (0.1)"
        + sender
    )
    ok = True
    cpu_per_event: list[float] = []
    for events in args.events:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(events), "--library", args.library]
            + (["--whole"] if args.whole else [])
            + (["--first"] if args.first else [])
            + (["--provider", args.provider] if args.provider else []),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:  # the child's own message (a source that cannot stream)
            raise SystemExit(
                done.stderr.strip().splitlines()[-1] if done.stderr else done.returncode
            )
        got = json.loads(done.stdout.strip().splitlines()[-1])
        stages = ", ".join(f"{k} {v:.2f}" for k, v in got["stages"].items())
        print(f"  {events:>9,} events, {got['slots']:,} slots: {got['total_s']:.2f} s ({stages})")
        first_ok = got["first_s"] <= GOAL_FIRST_S
        ok = ok and first_ok
        if not args.first:  # stopped at the first delivery, its rate and memory say nothing
            rate = events / got["total_s"]
            per_million = got["peak_mib"] * 1_000_000 / events
            rate_ok = rate >= GOAL_RATE
            print(f"    {rate:>12,.0f} events/s        goal >= {GOAL_RATE:,.0f}  {_mark(rate_ok)}")
            print(
                f"    {got['peak_mib']:>12,.0f} MiB peak RSS    (x{1_000_000 / events:g} = "
                f"{per_million:,.0f} MiB per million; goal <= {GOAL_MB_PER_MILLION:,.0f})"
            )
            ok = ok and rate_ok
        print(
            f"    {got['first_s']:>12.2f} s to the first delivery  goal <= {GOAL_FIRST_S} s  "
            f"{_mark(first_ok)}"
        )
        cpu = f"{got['first_cpu_s']:.2f} s to the first delivery, {got['cpu_s']:.2f} s in all"
        print(f"    CPU: {cpu} ({got['peak_mib']:,.0f} MiB peak RSS)")
        cpu_per_event.append(got["cpu_s"] / events)
    if args.against_delivery and not args.first:
        _against_delivery(min(cpu_per_event))
    return 0 if ok else 1


def _against_delivery(prepare_s: float) -> None:
    """Preparing's share of a streamed run's CPU: ``prepare_s`` an event (the cheapest count
    above) against the Deliverer's sender CPU a delivery, measured now."""
    deliveries = 20_000
    with tempfile.TemporaryDirectory(prefix="bench-prepare-") as tmp, Receiver() as receiver:
        figure = run_harness(receiver.url, deliveries, 64, Path(tmp), timeout=120.0)
    deliver_s = figure.cpu / figure.requests
    goal_s = 1 / GOAL_RATE
    now = prepare_s / (prepare_s + deliver_s)
    at_goal = goal_s / (goal_s + deliver_s)
    print(
        f"against delivery ({deliveries:,} signed, journaled POSTs, bench_delivery's harness "
        f"round): {deliver_s * 1e6:.0f} µs of sender CPU a delivery, "
        f"{figure.per_second:,.0f} deliveries/s\n"
        f"    preparing {prepare_s * 1e6:.1f} µs an event = {now:.1%} of a streamed run's "
        f"sender CPU; at the goal rate ({goal_s * 1e6:.0f} µs) {at_goal:.1%}: a run "
        f"{1 - (goal_s + deliver_s) / (prepare_s + deliver_s):.1%} cheaper"
    )


def _mark(ok: bool) -> str:
    return "OK" if ok else "MISSED"


if __name__ == "__main__":
    sys.exit(main())
