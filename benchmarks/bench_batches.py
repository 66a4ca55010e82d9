"""What judging a batch call by its items costs an invariant, against its peer.

    python benchmarks/bench_batches.py                  # 30,000 contact updates
    python benchmarks/bench_batches.py --events 100000
    python benchmarks/bench_batches.py --invariant per_key_order

Two register runs of N contact updates (3 a contact) and their clean runs, in memory, judged by
final_state_matches_baseline (or ``--invariant``) alone, best of ``--runs`` rounds each, one
after the other in this process: the peer writes one ``PUT /contacts/{id}`` per event; the
batched run writes the same contacts ten to a ``POST /contacts/batch/upsert`` call, grouped
otherwise than its clean run (which writes five to a call), so each call is judged by its items
(``invariants/_batch_items``). Printed: CPU seconds and µs per event for each, the batched over
the peer, and both verdicts.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _receiver
from _receiver import machine_line

from harness.core._model import Delivery, Effect, Event, Model, Outcome, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History, RunInfo
from harness.invariants import judge


def run(tag: str, n: int, batch: int) -> History:
    """``n`` updates of ``n // 3`` contacts, one a millisecond, written ``batch`` to a call (1:
    a PUT of its own each), each call a millisecond after its last event."""
    events = [
        Event(f"evt_{tag}e{i}", f"con_{tag}k{i % (n // 3)}", i, "contact.updated", 0.0, {})
        for i in range(n)
    ]
    deliveries = [
        Delivery(f"dlv_{i}", e.id, 1, 0.001 * i, 0.001 * i, 0.001 * i, 200, Outcome.OK)
        for i, e in enumerate(events)
    ]
    effects = []
    for c, start in enumerate(range(0, n, batch)):
        chunk = events[start : start + batch]
        items = [{"id": e.key, "properties": {"name": f"Ada {tag}e{e.seq}"}} for e in chunk]
        at = 0.001 * (start + len(chunk))
        if batch == 1:
            [e] = chunk
            body, path, method = json.dumps(items[0]), f"/contacts/{e.key}", "PUT"
        else:
            body, path, method = json.dumps({"inputs": items}), "/contacts/batch/upsert", "POST"
        ids = tuple(e.id for e in chunk)
        effects.append(
            Effect(f"eff_{c}", "crm", at, method, path, {}, body, 200, ids, chunk[0].key)
        )
    settings = {"paths": {"seq": "$.sequence"}}
    target = "http://127.0.0.1:1/"
    info = RunInfo(f"s@{tag}", "s", 1, target, "t", Model.REGISTER, (), "", tag, "", settings)
    return History(info, events, deliveries, effects)


def timed(name: str, n: int, batch: int, clean_batch: int, runs: int) -> tuple[float, Verdict]:
    best, found = float("inf"), None
    for _ in range(runs):
        mine, base = run("zqaaaaa", n, batch), run("zqbbbbb", n, clean_batch)
        mine.info = replace(mine.info, settings={**mine.info.settings, "baseline": "s@zqbbbbb"})
        mine.baseline = base
        start = time.process_time()
        [found] = judge(mine, [InvariantSpec(name)])
        best = min(best, time.process_time() - start)
    assert found is not None
    return best, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3, help="rounds of each (best is kept)")
    parser.add_argument("--invariant", default="final_state_matches_baseline")
    opts = parser.parse_args()
    n = max(opts.events - opts.events % 30, 30)
    print(machine_line())
    peer, peer_verdict = timed(opts.invariant, n, 1, 1, opts.runs)
    batched, verdict = timed(opts.invariant, n, 10, 5, opts.runs)
    for label, cpu, v in (
        ("one PUT an event", peer, peer_verdict),
        ("calls of 10 items", batched, verdict),
    ):
        print(
            f"{label:>18}: {cpu:6.2f} CPU-s, {cpu / n * 1e6:5.1f} µs an event; "
            f"{v.status.value}: {v.summary[:100]}"
        )
    print(
        f"{n:,} events, {opts.invariant}; judged by their items: {batched / peer:.2f}x the "
        "peer's CPU"
    )


if __name__ == "__main__":
    main()
