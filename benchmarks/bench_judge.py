"""How long judging a large History takes, and how much memory, against the goals.

    python benchmarks/bench_judge.py                # 500,000 events, 1,000,000 deliveries
    python benchmarks/bench_judge.py --events 50000 # a quicker look

Phase 1 builds a synthetic ledger History in memory (each event delivered twice, some
failures and timeouts, ~1% duplicate effects, some harmless repeated PUTs, a few
unattributed effects), times ``judge()`` with the four default invariants and
target_available, and measures memory.
Phase 2 writes the same History to a SQLite journal with ``Journal`` and, in a fresh
process (so its memory is its own), times ``load()``, judges the loaded History again and
times the redaction its verdicts are printed through (``Redactor.for_runs``), as ``harness
check`` does; the verdicts must be the same as in phase 1; then it runs ``harness check`` on
the journal as a user does (a process of its own: start-up, imports and exit included) and
prints its wall time, CPU time and peak RSS. ``--profile`` adds
a cProfiled second load() in that process, its top functions printed. Phase 3 judges a
failing History of the same size (a target without idempotency, some events late): every
invariant has to build its evidence; it too is written to a journal, loaded and judged in a
fresh process. Exit status 1 when a goal is missed.

Goals: judge <= 5 s and <= 1 GiB peak memory for 1,000,000 deliveries, in memory; load() +
judge() + the redaction (``harness check``) <= 5 s and <= 1 GiB, for the passing and the
failing History.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _receiver

from _receiver import machine_line

from harness.core._model import Delivery, Effect, Event, Model, Outcome, Verdict
from harness.core._scenario import InvariantSpec
from harness.history import History, Journal, RunInfo, load
from harness.invariants import judge
from harness.report._redact import Redactor

GOAL_JUDGE_S = 5.0
GOAL_PEAK_MIB = 1024.0
RUN_ID = "bench"
LOAD_TIMEOUT_S = 600  # the child process is killed past this


def build(n_events: int, *, failing: bool = False, seed: int = 7) -> History:
    """A ledger run: n events over n/5 records, each delivered twice.

    Passing-ish shape: one effect per event, ~1% duplicate POSTs, ~1% harmless repeated PUTs,
    a few unattributed effects. Failing shape (``failing``): a target without idempotency,
    so every answered delivery makes its own POST (about 2 effects per event, all duplicates),
    and 5% of the events arrive 2 s late, so their effects land out of order.
    """
    rng = random.Random(seed)
    records = max(1, n_events // 5)
    events: list[Event] = []
    deliveries: list[Delivery] = []
    effects: list[Effect] = []
    for i in range(n_events):
        eid = f"evt_{i:08d}"
        key = f"ord_{rng.randrange(records):07d}"
        events.append(Event(eid, key, i, "order.created", i * 0.001, {"id": eid, "n": i}))
        late = 2.0 if failing and rng.random() < 0.05 else 0.0
        for attempt in (1, 2):  # every event delivered twice: 1,000,000 deliveries for 500,000
            sent = i * 0.001 + (attempt - 1) * 0.5 + late
            roll = rng.random()
            error = body = None
            if roll < 0.002:  # timed out: indeterminate, no answer
                outcome, status, answered = Outcome.INDETERMINATE, None, None
                error = TIMEOUT
            elif roll < 0.012:  # a 500, and the start of its body the Delivery keeps
                outcome, status, answered = Outcome.FAILED, 500, sent + 0.01
                body = ANSWER_500
            else:
                latency = 2.5 if roll > 0.999 else rng.expovariate(20.0)
                outcome, status, answered = Outcome.OK, 200, sent + latency
            dlv_id = f"dlv_{i:08d}_{attempt}"
            deliveries.append(
                Delivery(dlv_id, eid, attempt, sent, sent, answered, status, outcome, error, body)
            )
            if failing and answered is not None:
                effects.append(_effect(f"eff_{dlv_id}", eid, answered - 0.001, "POST", "/p"))
        if not failing:
            effects.extend(_passing_effects(rng, i, eid, key))
    info = RunInfo(
        RUN_ID, "bench", seed, "http://127.0.0.1:9/", "bench", Model.LEDGER, (), "", "tr"
    )
    return History(info, events, deliveries, effects)


def _passing_effects(rng: random.Random, i: int, eid: str, key: str) -> list[Effect]:
    at = i * 0.001 + 0.05
    out = [_effect(f"eff_{i:08d}", eid, at, "POST", f"/payouts/{key}")]
    roll = rng.random()
    if roll < 0.01:  # a duplicate POST
        out.append(_effect(f"eff_{i:08d}_d", eid, at + 0.5, "POST", f"/payouts/{key}"))
    elif roll < 0.02:  # a harmless repeated PUT, twice
        for tag in ("p1", "p2"):
            out.append(_effect(f"eff_{i:08d}_{tag}", eid, at + 0.6, "PUT", f"/c/{key}"))
    elif roll < 0.021:  # the correlation found nothing
        out.append(_effect(f"eff_{i:08d}_u", None, at + 0.7, "POST", "/audit"))
    return out


def _effect(eff_id: str, event_id: str | None, at: float, method: str, path: str) -> Effect:
    # Own headers dict and body per effect, as load() makes them: memory is not flattered.
    headers = {"content-type": "application/json", "x-request-id": eff_id}
    body = json.dumps({"event": event_id, "amount": 1250})
    ids = (event_id,) if event_id else ()
    return Effect(eff_id, "payments", at, method, path, headers, body, 201, ids, None)


ALL = [InvariantSpec(n) for n in ("no_lost_events", "no_duplicate_effects", "per_key_order")]
# target_available too: every run judges it, named or not.
SPECS = [*ALL, InvariantSpec("ack_within", {"seconds": 2.0}), InvariantSpec("target_available")]
TIMEOUT = "no answer within 5 s"
ANSWER_500 = '{"error": "internal server error", "request_id": null}'


def timed_judge(history: History, runs: int) -> tuple[list[float], list[Verdict]]:
    times = []
    verdicts: list[Verdict] = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        verdicts = judge(history, SPECS)
        times.append(time.perf_counter() - start)
    return times, verdicts


def traced_peak(history: History) -> float:
    """MiB allocated at peak by judge() itself (tracemalloc; slows the run, so timed apart)."""
    gc.collect()
    tracemalloc.start()
    judge(history, SPECS)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def max_rss_mib() -> float:
    """Peak RSS of this process: VmHWM where Linux gives it, else ru_maxrss.

    Not ru_maxrss alone: on Linux a child started by subprocess inherits its parent's peak
    there, so phase 2's child would report the parent's History as its own.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for row in status:
                if row.startswith("VmHWM:"):
                    return int(row.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def reset_peak_rss() -> bool:
    """Set VmHWM back to the current RSS (Linux >= 4.0), so a phase's own peak shows."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def write_journal(history: History, path: Path) -> float:
    start = time.perf_counter()
    journal = Journal(path)
    journal.begin(history.info, history.events)
    for d in history.deliveries:
        journal.delivery(d)
    for e in history.effects:
        journal.effect(e)
    journal.end("complete", 1.0)
    journal.close()
    return time.perf_counter() - start


def child_load(path: Path, profile: bool) -> None:
    """Phase 2, in its own process: load, then judge; print figures as one JSON line."""
    start = time.perf_counter()
    history = load(path, RUN_ID)
    load_s = time.perf_counter() - start
    rss_loaded = max_rss_mib()
    times, verdicts = timed_judge(history, 1)
    start = time.perf_counter()
    Redactor.for_runs([history], {})  # what harness check's console looks through first
    redact_s = time.perf_counter() - start
    figures = {
        "load_s": load_s,
        "judge_s": times[0],
        "redact_s": redact_s,
        "rss_loaded_mib": rss_loaded,
        "rss_peak_mib": max_rss_mib(),
        "deliveries": len(history.deliveries),
        "effects": len(history.effects),
        "verdicts": [[v.invariant, v.status.value, v.summary] for v in verdicts],
    }
    if profile:
        del history
        print_load_profile(path)
    print(json.dumps(figures))


def print_load_profile(path: Path) -> None:
    """A second load() under cProfile (slower than the timed one); the top 12 by own time."""
    gc.collect()
    profiler = cProfile.Profile()
    profiler.runcall(load, path, RUN_ID)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    print(out.getvalue().strip())


# Runs a command as its only child: its wall time, CPU time and peak RSS, as one JSON line.
_TIMED = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
used = resource.getrusage(resource.RUSAGE_CHILDREN)
peak = used.ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)
cpu = used.ru_utime + used.ru_stime
print(json.dumps({"wall_s": wall, "cpu_s": cpu, "rss_peak_mib": peak, "code": code}))
"""


def timed_command(argv: list[str]) -> dict[str, float]:
    """``argv`` run as a user runs it (the whole process: start, imports, exit), measured."""
    done = subprocess.run(
        [sys.executable, "-c", _TIMED, *argv],
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT_S,
        check=True,
    )
    figures: dict[str, float] = json.loads(done.stdout)
    return figures


def line(label: str, value: str, goal: str = "", ok: bool | None = None) -> str:
    mark = "" if ok is None else ("  OK" if ok else "  MISSED")
    return f"  {label:<38} {value:>16}  {goal}{mark}"


def report_judge(times: list[float], verdicts: list[Verdict]) -> bool:
    best = min(times)
    ok = best <= GOAL_JUDGE_S
    print(line("judge time, best of runs", f"{best:.2f} s", f"goal <= {GOAL_JUDGE_S} s", ok=ok))
    print(line("judge time, all runs", ", ".join(f"{t:.2f}" for t in times) + " s"))
    for v in verdicts:
        print(f"    {v.invariant}: {v.status.value}: {v.summary}")
    return ok


def phase_memory(history: History, runs: int, build_s: float) -> tuple[bool, list[Verdict]]:
    """Phase 1: judge the History built in memory; time and memory."""
    rss_built = max_rss_mib()
    times, verdicts = timed_judge(history, runs)
    rss_peak = max_rss_mib()
    traced = traced_peak(history)
    print(
        f"Phase 1: judge() five invariants, History in memory: {len(history.events):,} "
        f"events, {len(history.deliveries):,} deliveries, {len(history.effects):,} effects "
        f"(built in {build_s:.1f} s)"
    )
    ok = report_judge(times, verdicts)
    print(line("process RSS with History built", f"{rss_built:,.0f} MiB"))
    memory_ok = rss_peak <= GOAL_PEAK_MIB
    goal = f"goal <= {GOAL_PEAK_MIB:,.0f} MiB"
    print(line("process peak RSS (History + judge)", f"{rss_peak:,.0f} MiB", goal, ok=memory_ok))
    print(line("judge's own peak allocation", f"{traced:,.0f} MiB", "(tracemalloc)"))
    return ok and memory_ok, verdicts


def phase_journal(
    history: History, verdicts: list[Verdict], profile: bool, title: str = "Phase 2"
) -> bool:
    """Write a journal, load it in a fresh process, judge it (``harness check``): same verdicts
    as in memory? Within the goals?"""
    expected = [[v.invariant, v.status.value, v.summary] for v in verdicts]
    rss_before = max_rss_mib() if reset_peak_rss() else None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        write_s = write_journal(history, path)
        write_peak = max_rss_mib()
        size_mib = path.stat().st_size / 2**20
        done = subprocess.run(
            [sys.executable, __file__, "--load", str(path), *(["--profile"] if profile else [])],
            capture_output=True,
            text=True,
            timeout=LOAD_TIMEOUT_S,
            check=True,
        )
        command = timed_command([sys.executable, "-m", "harness", "check", str(path)])
    *profile_lines, last = done.stdout.strip().splitlines()
    child = json.loads(last)
    same = bool(child["verdicts"] == expected)
    judge_ok = bool(child["judge_s"] <= GOAL_JUDGE_S)
    check_s = child["load_s"] + child["judge_s"] + child["redact_s"]
    check_ok = bool(check_s <= GOAL_JUDGE_S)
    memory_ok = bool(child["rss_peak_mib"] <= GOAL_PEAK_MIB)
    print(f"{title}: SQLite journal (Journal, then load() in a fresh process)")
    print(line("journal write", f"{write_s:.1f} s", f"({size_mib:,.0f} MiB file)"))
    if rss_before is not None:
        grown = f"(+{write_peak - rss_before:,.0f} MiB over the RSS before it)"
        print(line("process peak RSS during write", f"{write_peak:,.0f} MiB", grown))
    print(line("load()", f"{child['load_s']:.2f} s"))
    goal = f"goal <= {GOAL_JUDGE_S} s"
    print(line("judge() of the loaded History", f"{child['judge_s']:.2f} s", goal, ok=judge_ok))
    print(line("the console's redaction (for_runs)", f"{child['redact_s']:.2f} s"))
    print(line("all three: harness check", f"{check_s:.2f} s", goal, ok=check_ok))
    print(
        line(
            "`harness check` itself, whole process",
            f"{command['wall_s']:.2f} s",
            f"({command['cpu_s']:.2f} CPU-s, peak RSS {command['rss_peak_mib']:,.0f} MiB, "
            f"exit {command['code']})",
        )
    )
    print(line("process RSS after load()", f"{child['rss_loaded_mib']:,.0f} MiB"))
    goal = f"goal <= {GOAL_PEAK_MIB:,.0f} MiB"
    peak = f"{child['rss_peak_mib']:,.0f} MiB"
    print(line("process peak RSS (load + judge)", peak, goal, ok=memory_ok))
    print(line("verdicts same as in memory", "yes" if same else "NO", ok=same))
    if profile_lines:
        print("  load() profiled (cProfile; a second load, slower than the timed one):")
        print("\n".join(f"    {row}" for row in profile_lines))
    return same and judge_ok and check_ok and memory_ok


def phase_failing(n_events: int, runs: int, journal: bool, profile: bool) -> bool:
    """Phase 3: the failing shape (every delivery applied, some late) judged in memory, then
    from its journal as phase 2 does."""
    history = build(n_events, failing=True)
    times, verdicts = timed_judge(history, runs)
    print(
        f"Phase 3: judge() a failing History: {len(history.events):,} events, "
        f"{len(history.deliveries):,} deliveries, {len(history.effects):,} effects"
    )
    ok = report_judge(times, verdicts)
    print(line("process peak RSS so far", f"{max_rss_mib():,.0f} MiB"))
    if journal:
        ok = phase_journal(history, verdicts, profile, "Phase 3, failing") and ok
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3, help="timed judge() runs (best is kept)")
    parser.add_argument("--skip-journal", action="store_true", help="no phase 2")
    parser.add_argument("--skip-failing", action="store_true", help="no phase 3")
    parser.add_argument("--profile", action="store_true", help="cProfile load() in phase 2")
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)  # phase 2's child
    args = parser.parse_args()
    if args.load:
        child_load(args.load, args.profile)
        return 0
    print(f"Machine: {machine_line()}")
    start = time.perf_counter()
    history = build(args.events)
    ok, verdicts = phase_memory(history, args.runs, time.perf_counter() - start)
    if not args.skip_journal:
        ok = phase_journal(history, verdicts, args.profile) and ok
    del history  # room for phase 3's History
    gc.collect()
    if not args.skip_failing:
        ok = phase_failing(args.events, args.runs, not args.skip_journal, args.profile) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
