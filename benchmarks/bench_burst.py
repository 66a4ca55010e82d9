"""Burst fidelity: do a burst's deliveries reach the target when the schedule says they should?

    python benchmarks/bench_burst.py               # 2 rounds of both cases
    python benchmarks/bench_burst.py --rounds 1

Goals:
  spread   2,000 events (an hour of traffic, squeezed by a ``burst`` perturbation into 3 s):
           p99 lateness of arrival at the target <= 5 ms
  at once  200 events (``burst`` with ``within: 0``, all at one instant): all sent within
           50 ms — judged on the spread of the engine's sends (last sent_at - first) and
           of the arrivals at the target (last - first); how long after the instant the last
           one arrived is shown too (the stricter reading), and not judged

The target is benchmarks/_receiver.py in a process of its own, noting ``time.monotonic()`` as
each request arrives. The sender is the engine wired as harness.engine wires it (Deliverer
with its default connection limit, Standard Webhooks signing, every Delivery journaled) with
one change: its clock is ``time.monotonic`` itself, not "seconds since the run started", so
each Delivery's ``scheduled_at`` (the Deliverer's start + the slot's time) is on the clock
the receiver reads — CLOCK_MONOTONIC, one clock for every process on Linux.
Lateness = arrival - scheduled_at, matched by the event ``seq`` each body carries. The sender's
own part of it (sent_at - scheduled_at: timer wake-up, task start, signing) is shown too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from _receiver import SECRET, Arrival, Receiver, machine_line, order_events

from harness.core._model import Delivery, Event, Model, Outcome
from harness.core._scenario import Perturbation
from harness.core._signing import Signer
from harness.drive._deliver import Deliverer
from harness.drive._perturb import plan
from harness.drive._schedule import Schedule
from harness.drive._target import parse_target
from harness.history import Journal, RunInfo

GOAL_SPREAD_P99 = 0.005
GOAL_AT_ONCE = 0.050
HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class Timing:
    """One case's deliveries as sent and as they arrived, times on CLOCK_MONOTONIC."""

    scheduled: list[float]  # per event seq
    sent: list[float]
    arrived: list[float]

    def lateness(self) -> list[float]:
        return [a - s for a, s in zip(self.arrived, self.scheduled, strict=True)]

    def send_lateness(self) -> list[float]:
        return [a - s for a, s in zip(self.sent, self.scheduled, strict=True)]


def events_over_an_hour(count: int, seed: int) -> list[Event]:
    """``count`` events at random times of an hour, the first at 0 (a schedule starts there)."""
    rng = random.Random(seed)
    times = sorted(rng.uniform(0, HOUR) for _ in range(count))
    return order_events([t - times[0] for t in times])


async def deliver(
    receiver: Receiver,
    events: Sequence[Event],
    schedule: Schedule,
    journal: Journal,
    concurrency: int | None = None,
) -> Timing:
    """Deliver ``schedule`` as harness.engine does, then match deliveries to arrivals.

    ``concurrency`` is the Deliverer's connection limit; None keeps its default, as the engine does.
    """
    deliveries: list[Delivery] = []

    def on_delivery(d: Delivery) -> None:
        journal.delivery(d)
        deliveries.append(d)  # the journal keeps them too; this saves reading it back

    info = RunInfo(
        run_id=f"bench-burst-{time.monotonic_ns()}",
        scenario="bench-burst",
        seed=0,
        target=receiver.url,
        target_name="receiver",
        model=Model.LEDGER,
        invariants=(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tracer_tag="bench",
        settings={"planned_deliveries": len(schedule)},
    )
    journal.begin(info, events)
    deliverer = Deliverer(
        parse_target(receiver.url),
        Signer("standard-webhooks", SECRET),
        timeout=10.0,
        clock=time.monotonic,
        on_delivery=on_delivery,
    )
    if concurrency is not None:
        deliverer.concurrency = concurrency
    bodies = [json.dumps(ev.payload).encode() for ev in events]
    already, _ = receiver.usage()
    try:
        await deliverer.run(
            schedule, bodies, [ev.id for ev in events], [dict(ev.headers) for ev in events]
        )
    finally:
        journal.end("complete", time.monotonic())
    return _matched(events, schedule, deliveries, receiver.arrivals()[already:])


def _matched(
    events: Sequence[Event],
    schedule: Schedule,
    deliveries: Sequence[Delivery],
    arrivals: Sequence[Arrival],
) -> Timing:
    """Per event: scheduled and sent (the engine's record) and arrived (the receiver's)."""
    if len(deliveries) != len(events) or len(arrivals) != len(events):
        raise SystemExit(
            f"{len(events)} events, {len(deliveries)} deliveries, {len(arrivals)} arrivals: "
            "each event should be delivered and arrive once"
        )
    failed = [d for d in deliveries if d.outcome is not Outcome.OK]
    if failed:
        raise SystemExit(f"{len(failed)} deliveries failed, the first: {failed[0]}")
    seq = {ev.id: ev.seq for ev in events}
    scheduled, sent, arrived = ([0.0] * len(events) for _ in range(3))
    for d in deliveries:
        scheduled[seq[d.event_id]], sent[seq[d.event_id]] = d.scheduled_at, d.sent_at
    for arrival in arrivals:
        arrived[json.loads(arrival.body)["seq"]] = arrival.at
    # The Deliverer's start, recovered from each delivery, must be one instant: if it is not,
    # scheduled_at is not start + slot.at and the lateness below would measure nothing.
    starts = [scheduled[slot.event] - slot.at for slot in schedule]
    if max(starts) - min(starts) > 1e-6:
        raise SystemExit(f"scheduled_at - slot.at varies by {max(starts) - min(starts):.6f} s")
    return Timing(scheduled, sent, arrived)


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile: the smallest value with at least q% of values at or below it."""
    ordered = sorted(values)
    rank = math.ceil(len(ordered) * q / 100)
    return ordered[max(0, min(len(ordered), rank) - 1)]


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.2f} ms"


def spread_case(receiver: Receiver, journal: Journal, args: argparse.Namespace, seed: int) -> bool:
    count, within = args.events, args.within
    events = events_over_an_hour(count, seed)
    schedule = plan(events, [Perturbation("burst", {"within": within})], seed)
    timing = asyncio.run(deliver(receiver, events, schedule, journal, args.concurrency))
    late, send_late = timing.lateness(), timing.send_lateness()
    p99 = percentile(late, 99)
    print(
        f"  spread:  {count} events over {within:g} s\n"
        f"    arrival lateness  p50 {_ms(percentile(late, 50))}  p99 {_ms(p99)}  "
        f"max {_ms(max(late))}\n"
        f"    sender's part     p50 {_ms(percentile(send_late, 50))}  "
        f"p99 {_ms(percentile(send_late, 99))}  max {_ms(max(send_late))}\n"
        f"    goal p99 <= {_ms(GOAL_SPREAD_P99).strip()}: "
        f"{'met' if p99 <= GOAL_SPREAD_P99 else 'NOT met'}"
    )
    return p99 <= GOAL_SPREAD_P99


def at_once_case(receiver: Receiver, journal: Journal, args: argparse.Namespace, seed: int) -> bool:
    count = args.at_once
    events = events_over_an_hour(count, seed)
    schedule = plan(events, [Perturbation("burst", {"within": 0.0})], seed)
    timing = asyncio.run(deliver(receiver, events, schedule, journal, args.concurrency))
    instant = timing.scheduled[0]
    sends = max(timing.sent) - min(timing.sent)
    arrivals = max(timing.arrived) - min(timing.arrived)
    met = sends <= GOAL_AT_ONCE and arrivals <= GOAL_AT_ONCE
    print(
        f"  at once: {count} events at one instant (times after it)\n"
        f"    sends    first {_ms(min(timing.sent) - instant)}  last "
        f"{_ms(max(timing.sent) - instant)}  spread {_ms(sends)}\n"
        f"    arrivals first {_ms(min(timing.arrived) - instant)}  last "
        f"{_ms(max(timing.arrived) - instant)}  spread {_ms(arrivals)}\n"
        f"    goal sends and arrivals each spread <= {_ms(GOAL_AT_ONCE).strip()}: "
        f"{'met' if met else 'NOT met'}"
    )
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000, help="spread case")
    parser.add_argument("--within", type=float, default=3.0, help="spread case, seconds")
    parser.add_argument("--at-once", type=int, default=200, help="at-once case")
    parser.add_argument("--rounds", type=int, default=2, choices=range(1, 6))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--concurrency", type=int, help="the Deliverer's connection limit (default: its own)"
    )
    args = parser.parse_args()
    if not (1 <= args.events <= 100_000 and 1 <= args.at_once <= 10_000):
        parser.error("use 1 .. 100,000 --events and 1 .. 10,000 --at-once")
    if not 0 < args.within <= 60:
        parser.error(f"--within {args.within!r}: use 0 < seconds <= 60")
    if args.concurrency is not None and not 1 <= args.concurrency <= 10_000:
        parser.error(f"--concurrency {args.concurrency!r}: use 1 .. 10,000 connections")
    print(machine_line())
    met = {"spread": 0, "at once": 0}
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp, Receiver(record=True) as r:
        journal = Journal(Path(tmp) / "journal.db")
        try:
            for round_no in range(1, args.rounds + 1):
                print(f"round {round_no}")
                seed = args.seed + round_no
                met["spread"] += spread_case(r, journal, args, seed)
                met["at once"] += at_once_case(r, journal, args, seed)
        finally:
            journal.close()
    print("goals met: " + ", ".join(f"{case} {n}/{args.rounds} rounds" for case, n in met.items()))


if __name__ == "__main__":
    main()
