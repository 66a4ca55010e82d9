"""How long rendering the readiness report of a large run takes, and how big the file is.

    python benchmarks/bench_report.py                    # 100,000 deliveries
    python benchmarks/bench_report.py --deliveries 20000 # a quicker look

Builds a failing ledger History in memory (50,000 events over 10,000 records, each delivered
twice, a target without idempotency so most deliveries make their own payout, a 20 s outage
of the payments API with refused calls, some timeouts and slow answers, secrets in every
payload and an Authorization header on every effect), judges it (not part of the goal), then
times building the redacted report content and rendering each format. A second phase writes
the History to a journal and times what `harness report RUN -o report.html` does: load, judge,
build, render, write. Exit status 1 when a goal is missed.

Goals (HTML, 100,000 deliveries): render <= 3 s (content + HTML), file <= 5 MB.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.core._model import Delivery, Effect, Event, Fault, Model, Outcome
from harness.core._scenario import InvariantSpec
from harness.history import History, Journal, RunInfo, load_all
from harness.invariants import judge
from harness.report._content import RunInput, build_report
from harness.report._writers import WRITERS, write

GOAL_RENDER_S = 3.0
GOAL_SIZE_MB = 5.0
OUTAGE = (30.0, 50.0)  # seconds: the payments API answers 503 in this window


def build(deliveries: int, seed: int = 7) -> History:
    rng = random.Random(seed)
    n_events = deliveries // 2
    records = max(1, n_events // 5)
    events: list[Event] = []
    ds: list[Delivery] = []
    es: list[Effect] = []
    span = 100.0  # seconds the run's deliveries span
    for i in range(n_events):
        eid, key = f"evt_zqbnce{i}", f"ord_zqbnck{rng.randrange(records)}"
        payload = {
            "id": eid,
            "data": {
                "order_id": key,
                "amount": rng.randrange(100, 100_000),
                "customer": {"name": f"Customer {i}", "email": f"c{i}+zqbnce{i}@example.com"},
                "card_number": "4111111111111111",
            },
        }
        events.append(Event(eid, key, i, "order.paid", i * span / n_events, payload))
        for attempt in (1, 2):
            sent = i * span / n_events + (attempt - 1) * rng.uniform(0, 2)
            roll = rng.random()
            if roll < 0.002:
                outcome, status, answered = Outcome.INDETERMINATE, None, None
            elif roll < 0.01:
                outcome, status, answered = Outcome.FAILED, 500, sent + 0.01
            else:
                lat = 2.5 if roll > 0.999 else rng.expovariate(200.0)
                outcome, status, answered = Outcome.OK, 200, sent + lat
            did = f"dlv_{len(ds) + 1:07d}"
            ds.append(Delivery(did, eid, attempt, sent, sent, answered, status, outcome))
            if answered is None:
                continue
            down = OUTAGE[0] <= answered < OUTAGE[1]
            body = f'{{"order_id": "{key}", "amount": 1, "email": "c{i}+zqbnce{i}@example.com"}}'
            es.append(
                Effect(
                    f"eff_{len(es) + 1}",
                    "payments",
                    answered + 0.002,
                    "POST",
                    "/payouts",
                    {"Authorization": "Bearer sk_live_benchmark", "Content-Type": "x"},
                    body,
                    503 if down else 201,
                    (eid,),
                    key,
                )
            )
    info = RunInfo(
        "bench-report@zqbnc",
        "payouts-under-outage",
        seed,
        "http://127.0.0.1:8000/hooks/orders",
        "bench",
        Model.LEDGER,
        (
            InvariantSpec("no_lost_events"),
            InvariantSpec("no_duplicate_effects"),
            InvariantSpec("per_key_order"),
            InvariantSpec("ack_within", {"seconds": 2.0}),
        ),
        "2026-01-01T00:00:00+00:00",
        "zqbnc",
        "Payouts, each delivered twice, while the payments API is down for 20 s.",
        {
            "perturbations": [{"duplicate": {"rate": 1.0, "copies": 2, "spread": 2}}],
            "settle": {"quiet": 1.0, "deadline": 30.0},
            "downstream": "127.0.0.1:9100",
            "redact": ["$.data.customer.email"],
            "secret_env": "HARNESS_SECRET",
        },
    )
    faults = [Fault("payments", "status", OUTAGE[0], OUTAGE[1], {"status": 503})]
    es.sort(key=lambda e: e.at)
    return History(info, events, ds, es, faults, [], "complete", span + 5)


def timed(label: str, fn, *args):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = fn(*args)
    elapsed = time.perf_counter() - started
    print(f"  {label:<34} {elapsed:7.3f} s")
    return result, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=100_000)
    args = parser.parse_args()
    print(f"building a History of {args.deliveries:,} deliveries ...")
    history = build(args.deliveries)
    print(
        f"  {len(history.events):,} events, {len(history.deliveries):,} deliveries, "
        f"{len(history.effects):,} effects"
    )
    verdicts, _ = timed("judge (not part of the goal)", judge, history)
    env = {"HARNESS_SECRET": "whsec_benchmark"}
    content, t_content = timed(
        "build report content (redacted)",
        lambda: build_report([RunInput(history, verdicts)], environ=env),
    )
    sizes = {}
    times = {}
    for name, writer in WRITERS.items():
        text, times[name] = timed(f"render {name}", writer.render, content)
        sizes[name] = len(text.encode())
    for name, size in sizes.items():
        print(f"  {name + ' size':<34} {size / 1e6:7.3f} MB")
    render_s = t_content + times["html"]
    size_mb = sizes["html"] / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "bench.db"
        j = Journal(journal)
        j.begin(history.info, history.events, history.faults)
        for d in history.deliveries:
            j.delivery(d)
        for e in history.effects:
            j.effect(e)
        j.end("complete", history.ended_at or 0.0)
        j.close()
        print("`harness report journal.db -o report.html`, step by step:")
        (loaded,), t_load = timed("load the journal", load_all, journal)
        judged, t_judge = timed("judge", judge, loaded)
        built, t_build = timed(
            "build report content",
            lambda: build_report([RunInput(loaded, judged, journal)], environ=env),
        )
        page, t_html = timed("render html", WRITERS["html"].render, built)
        _, t_write = timed("write", write, Path(tmp) / "report.html", page)
        total = t_load + t_judge + t_build + t_html + t_write
        print(f"  {'total':<34} {total:7.3f} s")
    met = render_s <= GOAL_RENDER_S and size_mb <= GOAL_SIZE_MB
    print(
        f"HTML render {render_s:.3f} s (goal <= {GOAL_RENDER_S:g} s), "
        f"file {size_mb:.3f} MB (goal <= {GOAL_SIZE_MB:g} MB): {'met' if met else 'NOT MET'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
