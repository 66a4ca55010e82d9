"""How long judging a large History takes, and how much memory, against the goals.

    python benchmarks/bench_judge.py                # 500,000 events, 1,000,000 deliveries
    python benchmarks/bench_judge.py --events 50000 # a quicker look
    python benchmarks/bench_judge.py --faulted      # phase 4 alone: 50,000 faulted deliveries
    python benchmarks/bench_judge.py --record-only  # phase 5 alone: writes naming their record
    python benchmarks/bench_judge.py --objects      # phase 6 alone: a ledger's objects

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

Phase 4 (``--faulted [N]``, run on its own) times ack_within's explanation of slow answers on
the shape that costs it most: N deliveries (50,000 unless given), one an event, all answered
over ack_within's 2 s budget with ~250 in flight, every downstream call made while a fault
window was open and marked by the double as that fault's (``FAULT_MARK``) — a ``slow`` fault,
then a ``status`` 503 window; the calls naming their event, then naming none. Each History is
judged next to its peer, the same History without its fault window and marks: the CPU-seconds
of ``judge`` (best of ``--runs``) for ack_within alone, recovers_after_outage with
no_server_errors, backs_off, and the default invariants (with target_available, judged in every
run), and judge's own peak allocation. No goal: the difference is what explaining the faults costs.

Phase 5 (``--record-only [N]``, run on its own) times judging writes that name only their
record (a HubSpot-style sync PATCHing its contact by the record's key, nothing of the event in
the request): N events (200,000 unless given) over N/5 records, each PATCHing once, judged
against the clean run of the same layout — passing, then failing (half the records lose their
last event's write, a quarter more write their first event's body again in its place: records
short and records repeating a body, by the thousand, to show anything quadratic in them). Each
beside its peer, the same Histories with writes naming their event too: CPU-s of ``judge``
(best of ``--runs``) with the four defaults and target_available, and judge's own peak
allocation. The issue's aim: within 1.5x of the peer. Then the same over N records of one event
each, passing and failing (every other record's write lost): those writes are taken as their
record's single event's (``invariants._single_event``), each beside the same peer.

Phase 6 (``--objects [N]``, run on its own) times per_key_order's objects of a ledger record
on their dearest shape: N events (200,000 unless given) over N/5 customers, each about an
invoice of its own written ``PUT /invoices/<id>`` (every pair of a customer's events apart,
10% of them written newer first: each looked at; then the run's paths, for an order kept),
beside its peer, the same History POSTing to ``/invoices`` (judged as before: the swapped
pairs fail). CPU-s of ``judge`` (best of ``--runs``).

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
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _receiver

from _receiver import machine_line

from harness.core._model import (
    FAULT_MARK,
    FAULT_MARKS,
    ISSUED_MARK,
    Delivery,
    Effect,
    Event,
    Fault,
    Model,
    Outcome,
    Verdict,
)
from harness.core._scenario import InvariantSpec
from harness.history import History, Journal, Mark, RunInfo, load
from harness.invariants import DEFAULT_INVARIANTS, judge
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
    events: list[Event] = []
    deliveries: list[Delivery] = []
    effects: list[Effect] = []
    for i, key in _keyed(n_events, rng):
        eid = f"evt_{i:08d}"
        events.append(_event(i, key, i * 0.001))
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
    return History(_run_info(seed), events, deliveries, effects)


def _run_info(seed: int, settings: dict[str, object] | None = None) -> RunInfo:
    return RunInfo(
        RUN_ID,
        "bench",
        seed,
        "http://127.0.0.1:9/",
        "bench",
        Model.LEDGER,
        (),
        "",
        "tr",
        settings=settings or {},
    )


def _keyed(n_events: int, rng: random.Random) -> Iterator[tuple[int, str]]:
    """Each event's number and its record, drawn among n/5 records as the event comes (between
    the caller's own draws)."""
    records = max(1, n_events // 5)
    for i in range(n_events):
        yield i, f"ord_{rng.randrange(records):07d}"


def _event(i: int, key: str, at: float) -> Event:
    eid = f"evt_{i:08d}"
    return Event(eid, key, i, "order.created", at, {"id": eid, "n": i})


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
ACK_BUDGET_S = 2.0
ACK_WITHIN = InvariantSpec("ack_within", {"seconds": ACK_BUDGET_S})
# target_available too: every run judges it, named or not.
SPECS = [*ALL, ACK_WITHIN, InvariantSpec("target_available")]
TIMEOUT = "no answer within 5 s"
ANSWER_500 = '{"error": "internal server error", "request_id": null}'


def timed_judge(
    history: History,
    runs: int,
    specs: list[InvariantSpec] = SPECS,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[list[float], list[Verdict]]:
    """``runs`` judge() runs of ``specs``, each timed by ``clock`` (wall time unless told)."""
    times = []
    verdicts: list[Verdict] = []
    for _ in range(runs):
        gc.collect()
        start = clock()
        verdicts = judge(history, specs)
        times.append(clock() - start)
    return times, verdicts


def traced_peak(history: History, specs: list[InvariantSpec] = SPECS) -> float:
    """MiB allocated at peak by judge() itself (tracemalloc; slows the run, so timed apart)."""
    gc.collect()
    tracemalloc.start()
    judge(history, specs)
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


# Phase 4's shape: one delivery sent every 10 ms, answered 2.5 s later (~250 in flight, every
# one over ack_within's budget); every call made while the fault window is open.
FAULTED_DELIVERIES = 50_000
FAULTED_GAP_S = 0.01
FAULTED_LATENCY_S = 2.5
FAULTED_TIME_SCALE = 0.05  # compressed, as the review's: ack_within also reads the backlog
FAULTED_MODES = {
    "slow": {"latency": 2.4},  # one call a delivery, held 2.4 s
    "status": {"status": 503},  # a call refused 503, retried 1 s later, refused again
}
FAULTED_CALLS_AFTER_S = {"slow": (0.005,), "status": (0.005, 1.005)}
FAULTED_GROUPS = {
    "ack_within alone": [ACK_WITHIN],
    "recovers_after_outage+no_server_errors": [
        InvariantSpec("recovers_after_outage"),
        InvariantSpec("no_server_errors"),
    ],
    # Each refused call made again 1 s later: its own runs of calls, no storm.
    "backs_off": [InvariantSpec("backs_off")],
    # With their own parameters (ack_within's budget is 2 s too), as a run naming none judges.
    "defaults + target_available": [
        *(InvariantSpec(n) for n in DEFAULT_INVARIANTS),
        InvariantSpec("target_available"),
    ],
}
# Every invariant of the groups, once: what the peak allocation is measured judging.
FAULTED_ALL = list({s.name: s for specs in FAULTED_GROUPS.values() for s in specs}.values())


def build_faulted(n: int, mode: str, *, named: bool, seed: int = 7) -> History:
    """Phase 4's History: ``n`` events over n/5 records, each delivered once, answered 200
    after FAULTED_LATENCY_S; its calls (FAULTED_CALLS_AFTER_S) made while one fault window of
    ``mode`` was open on payments, each with the double's FAULT_MARK. ``named``: the calls name
    their event; else they name nothing (an automation without a correlate rule)."""
    events: list[Event] = []
    deliveries: list[Delivery] = []
    effects: list[Effect] = []
    for i, key in _keyed(n, random.Random(seed)):
        sent = i * FAULTED_GAP_S
        event = _event(i, key, sent)
        events.append(event)
        answered = sent + FAULTED_LATENCY_S
        dlv_id = f"dlv_{i:08d}_1"
        deliveries.append(Delivery(dlv_id, event.id, 1, sent, sent, answered, 200, Outcome.OK))
        for call, after in enumerate(FAULTED_CALLS_AFTER_S[mode]):
            named_id = event.id if named else None
            effect = _effect(f"eff_{i:08d}_{call}", named_id, sent + after, "POST", f"/p/{key}")
            effects.append(
                effect if mode == "slow" else replace(effect, status=503, committed=False)
            )
    window = Fault("payments", mode, 0.0, n * FAULTED_GAP_S + 10.0, FAULTED_MODES[mode])
    marks = [Mark(e.at, FAULT_MARK, json.dumps({"effect": e.id, "fault": 0})) for e in effects]
    info = _run_info(seed, {"time_scale": FAULTED_TIME_SCALE, FAULT_MARKS: True})
    return History(info, events, deliveries, effects, faults=[window], marks=marks)


def without_faults(history: History) -> History:
    """The same History without its fault windows and marks (nor the setting saying the
    doubles kept them): judged as if no fault had been scheduled."""
    settings = {k: v for k, v in history.info.settings.items() if k != FAULT_MARKS}
    return replace(history, info=replace(history.info, settings=settings), faults=[], marks=[])


def phase_faulted(n: int, runs: int) -> None:
    """Phase 4: each faulted, all-slow History judged beside its peer without faults."""
    print(
        f"Phase 4: judge() faulted, all-slow Histories: {n:,} events, each delivered once and "
        f"answered {FAULTED_LATENCY_S} s after it was sent (ack_within's budget "
        f"{ACK_BUDGET_S} s), one sent every {FAULTED_GAP_S * 1000:.0f} ms "
        f"(~{FAULTED_LATENCY_S / FAULTED_GAP_S:.0f} in flight); CPU-s, best of {runs}; "
        "peer: the same History without its fault window and marks"
    )
    for mode, params in FAULTED_MODES.items():
        for named in (True, False):
            history = build_faulted(n, mode, named=named)
            whose = "naming their event" if named else "naming no event"
            print(
                f"  {mode} fault {params}, calls {whose}: {len(history.effects):,} calls, "
                f"{len(history.marks):,} fault marks"
            )
            judge_beside_peer(history, runs)
            del history
            gc.collect()
    print(line("process peak RSS", f"{max_rss_mib():,.0f} MiB"))


def judge_beside_peer(history: History, runs: int) -> None:
    """Each group's best CPU-s of judge() for ``history`` and its peer, judge's own peak for
    both, and the verdicts."""
    peer = without_faults(history)
    verdicts: dict[str, tuple[Verdict, Verdict]] = {}  # invariant -> faulted's, peer's
    for label, specs in FAULTED_GROUPS.items():
        faulted_times, faulted_verdicts = timed_judge(history, runs, specs, time.process_time)
        peer_times, peer_verdicts = timed_judge(peer, runs, specs, time.process_time)
        verdicts.update(
            (v.invariant, (v, p)) for v, p in zip(faulted_verdicts, peer_verdicts, strict=True)
        )
        faulted_s, peer_s = min(faulted_times), min(peer_times)
        diff = f"peer {peer_s:.2f} CPU-s ({faulted_s - peer_s:+.2f})"
        print(line(label, f"{faulted_s:.2f} CPU-s", diff))
    faulted_mib, peer_mib = traced_peak(history, FAULTED_ALL), traced_peak(peer, FAULTED_ALL)
    peak = f"peer {peer_mib:,.0f} MiB (tracemalloc)"
    print(line("judge's own peak, every invariant", f"{faulted_mib:,.0f} MiB", peak))
    statuses = (f"{n} {v.status.value} ({p.status.value})" for n, (v, p) in verdicts.items())
    print(f"    verdicts (the peer's): {', '.join(statuses)}")
    print(f"    ack_within: {verdicts[ACK_WITHIN.name][0].summary}")


# Phase 5's shape: a HubSpot-style sync PATCHes its contact once per event, the path and the
# record written by the record's key (renumbered per run), nothing of the event in the request.
RECORD_ONLY_EVENTS = 200_000
RECORD_ONLY_REDELIVERED = 0.02  # events delivered twice, the second deduplicated: no write
RECORD_ONLY_CONTACT = "/crm/v3/objects/contacts/"
RECORD_ONLY_HEADERS = {"content-type": "application/json"}


def build_record_only(
    n: int, tag: str, *, named: bool, failing: bool = False, single: bool = False, seed: int = 7
) -> History:
    """Phase 5's History: ``n`` events over n/5 records (run ``tag``, record keys
    ``{tag}_r…``), each delivered once (RECORD_ONLY_REDELIVERED of them twice), each PATCHing
    its contact once with a body of its own. ``named``: the writes name their event as well as
    their record (the peer); else only their record. ``failing``: half the records (every
    other one) lose their last event's write, and a quarter more write their first event's body
    again in its place — as many writes as owed, one value missing. ``single``: each event a
    record of its own (its writes taken as its event's), half of them losing their write when
    ``failing``."""
    keyed = list(_keyed(n, random.Random(seed)))
    last_of = {drawn: i for i, drawn in keyed}
    rng = random.Random(seed + 1)
    events: list[Event] = []
    deliveries: list[Delivery] = []
    effects: list[Effect] = []
    first_body: dict[str, str] = {}
    for i, drawn in keyed:
        record = i if single else int(drawn.removeprefix("ord_"))
        key = f"{tag}_r{record:07d}"
        event = replace(_event(i, key, i * 0.001), id=f"evt_{tag}_{i:08d}")
        events.append(event)
        copies = 2 if rng.random() < RECORD_ONLY_REDELIVERED else 1
        for attempt in range(1, copies + 1):
            sent = event.occurred_at + (attempt - 1) * 0.5
            dlv_id = f"dlv_{tag}_{i:08d}_{attempt}"
            deliveries.append(
                Delivery(dlv_id, event.id, attempt, sent, sent, sent + 0.02, 200, Outcome.OK)
            )
        body = json.dumps({"properties": {"lifecyclestage": f"stage-{i}"}})
        first_body.setdefault(key, body)
        if failing and single and record % 2 == 0:
            continue  # lost: the record's one event made no write
        if failing and not single and last_of[drawn] == i and first_body[key] is not body:
            if record % 2 == 0:
                continue  # lost: the record's last event made no write
            if record % 4 == 1:
                body = first_body[key]  # repeated: its first event's value again
        ids = (event.id,) if named else ()
        path, headers = RECORD_ONLY_CONTACT + key, dict(RECORD_ONLY_HEADERS)
        at = event.occurred_at + 0.01
        effects.append(
            Effect(f"eff_{tag}_{i:08d}", "crm", at, "PATCH", path, headers, body, 200, ids, key)
        )
    info = replace(_run_info(seed), run_id=f"bench@{tag}", tracer_tag=tag)
    return History(info, events, deliveries, effects)


def judged_beside(history: History, clean: History) -> History:
    """``history`` judged against ``clean`` as its clean run (the baseline)."""
    settings = {**history.info.settings, "baseline": clean.info.run_id}
    judged = replace(history, info=replace(history.info, settings=settings))
    judged.baseline = clean
    return judged


def phase_record_only(n: int, runs: int) -> None:
    """Phase 5: a passing and a failing History whose writes name only their record, each
    judged against the clean run of the same layout, beside its peer: the same History (and
    clean run) with writes naming their event too; then the same over records of one event."""
    print(
        f"Phase 5: judge() Histories whose writes name only their record: {n:,} events over "
        f"{max(1, n // 5):,} records, each PATCHing its contact once (PATCH "
        f"{RECORD_ONLY_CONTACT}{{id}}, the record's key), against the clean run of the same "
        f"layout; then over {n:,} records of one event each (their writes taken as its "
        f"event's); CPU-s of judge (the four defaults + target_available), best of {runs}; "
        "peer: the same Histories, writes naming their event too"
    )
    shapes = {
        (False, False): "passing",
        (False, True): "failing: half the records short, a quarter repeating a body",
        (True, False): "single-event records, passing",
        (True, True): "single-event records, failing: half of them unwritten",
    }
    for (single, failing), shape in shapes.items():
        pair = []
        for named in (False, True):
            clean = build_record_only(n, "zqclean", named=named, single=single)
            run = build_record_only(n, "zqrun", named=named, failing=failing, single=single)
            pair.append(judged_beside(run, clean))
        history, peer = pair
        print(f"  {shape}: {len(history.effects):,} writes")
        times, verdicts = timed_judge(history, runs, SPECS, time.process_time)
        peer_times, peer_verdicts = timed_judge(peer, runs, SPECS, time.process_time)
        best, peer_best = min(times), min(peer_times)
        ratio = f"peer {peer_best:.2f} CPU-s ({best / peer_best:.2f}x)"
        print(line("judge, writes naming their record", f"{best:.2f} CPU-s", ratio))
        mib, peer_mib = traced_peak(history), traced_peak(peer)
        peak = f"peer {peer_mib:,.0f} MiB (tracemalloc)"
        print(line("judge's own peak allocation", f"{mib:,.0f} MiB", peak))
        for v, p in zip(verdicts, peer_verdicts, strict=True):
            print(f"    {v.invariant}: {v.status.value} (peer {p.status.value}): {v.summary}")
        del history, peer, pair
        gc.collect()
    print(line("process peak RSS", f"{max_rss_mib():,.0f} MiB"))


# Phase 6's shape: Stripe invoice.paid judged as a ledger keyed by the customer, each event about
# an invoice of its own, written by the invoice's id (as the sound demo writes a Stripe object).
OBJECTS_EVENTS = 200_000
OBJECTS_SWAPPED = 0.1  # a customer's consecutive events written newer first


def build_objects(n: int, *, put: bool, seed: int = 7) -> History:
    """Phase 6's History: ``n`` events over n/5 customers, each delivered once and about an
    invoice of its own (``in_…`` in its payload), written ``PUT /invoices/<id>`` (``put``) or
    ``POST /invoices`` (the peer); OBJECTS_SWAPPED of a customer's consecutive pairs written
    newer first, the older one answered before either write: an order the ledger judges."""
    rng = random.Random(seed)
    events = []
    deliveries = []
    for i, drawn in _keyed(n, rng):
        key = drawn.replace("ord_", "cus_")
        invoice = {"id": f"in_{i:08d}Q", "object": "invoice", "customer": key, "amount": 2000}
        eid = f"evt_{i:08d}"
        payload = {"id": eid, "object": "event", "data": {"object": invoice}}
        events.append(Event(eid, key, i, "invoice.paid", i * 0.001, payload))
        deliveries.append(
            Delivery(
                f"dlv_{i:08d}", eid, 1, i * 0.001, i * 0.001, i * 0.001 + 0.0005, 200, Outcome.OK
            )
        )
    written = {e.id: e.occurred_at + 0.0007 for e in events}
    last: dict[str, Event] = {}
    for event in events:  # swap some writes with the customer's event before
        prior = last.get(event.key)
        if prior is not None and rng.random() < OBJECTS_SWAPPED:
            written[prior.id], written[event.id] = written[event.id], written[prior.id]
        last[event.key] = event
    effects = []
    for event in sorted(events, key=lambda e: written[e.id]):
        invoice_id = event.payload["data"]["object"]["id"]
        method, path = ("PUT", f"/invoices/{invoice_id}") if put else ("POST", "/invoices")
        effects.append(
            Effect(
                f"eff_{event.seq:08d}", "api", written[event.id], method, path, {}, "{}",
                200, (event.id,), None,
            )
        )  # fmt: skip
    return History(_run_info(seed), events, deliveries, effects)


def phase_objects(n: int, runs: int) -> None:
    """Phase 6: per_key_order's objects of a ledger record (``invariants._objects``) on their
    dearest shape, beside its peer POSTing to one collection (judged as before)."""
    print(
        f"Phase 6: judge() a ledger keyed by the customer whose events are each about an invoice "
        f"of its own: {n:,} events over {max(1, n // 5):,} customers, "
        f"{OBJECTS_SWAPPED:.0%} of a customer's consecutive pairs written newer first; CPU-s of "
        f"judge (the four defaults + target_available), best of {runs}; peer: the same "
        "History POSTing to one collection (/invoices)"
    )
    history, peer = build_objects(n, put=True), build_objects(n, put=False)
    times, verdicts = timed_judge(history, runs, SPECS, time.process_time)
    peer_times, peer_verdicts = timed_judge(peer, runs, SPECS, time.process_time)
    best, peer_best = min(times), min(peer_times)
    ratio = f"peer {peer_best:.2f} CPU-s ({best / peer_best:.2f}x)"
    print(line("judge, PUT /invoices/{id}", f"{best:.2f} CPU-s", ratio))
    for v, p in zip(verdicts, peer_verdicts, strict=True):
        if v.invariant == "per_key_order":
            print(f"    {v.invariant}: {v.status.value}: {v.summary}")
            print(f"    peer: {p.status.value}: {p.summary}")
    print(line("process peak RSS", f"{max_rss_mib():,.0f} MiB"))


# Phase 7's shape: an account created per customer, then a subscription naming only its id.
ISSUED_EVENTS = 200_000
ISSUED_UNDONE = 0.01  # the events whose invoice their own DELETE undid


def build_issued(n: int, tag: str, *, marked: bool, seed: int = 7) -> History:
    """Phase 7's History: ``n`` events over n/5 customers, each delivered once; a customer's
    first event creates its account (``POST /accounts``, answered ``ds_<n>``), and every event
    subscribes it (``POST /subscriptions`` naming only that id) and invoices it (``POST
    /invoices``, ``ds_<n>`` too); ISSUED_UNDONE of the invoices deleted by their event, in
    flight (``DELETE /invoices/ds_<n>``). ``marked``: the double's ISSUED_MARKs kept (the
    peer: none, as a journal written before them)."""
    rng, undo = random.Random(seed), random.Random(seed + 1)  # the same records in both runs
    events, deliveries, effects, marks = [], [], [], []
    accounts: dict[str, str] = {}
    made = iter(range(1, 10 * n))

    def created(eid: str, key: str, at: float, path: str) -> str:
        number = f"ds_{next(made)}"
        effect = Effect(f"eff_{tag}_{number}", "api", at, "POST", path, {}, "{}", 201, (eid,), key)
        effects.append(effect)
        if marked:
            detail = json.dumps({"effect": effect.id, "id": number})
            marks.append(Mark(at, ISSUED_MARK, detail))
        return number

    for i, drawn in _keyed(n, rng):
        key, eid, at = drawn.replace("ord_", f"cus_{tag}"), f"evt_{tag}{i:08d}", i * 0.001
        events.append(Event(eid, key, i, "checkout.completed", at, {"id": eid}))
        deliveries.append(Delivery(f"dlv_{i:08d}", eid, 1, at, at, at + 0.0008, 200, Outcome.OK))
        if key not in accounts:
            accounts[key] = created(eid, key, at + 0.0001, "/accounts")
        body = json.dumps({"account": accounts[key], "plan": "pro"})
        effects.append(
            Effect(f"eff_{tag}_s{i}", "api", at + 0.0002, "POST", "/subscriptions", {}, body, 201)
        )
        invoice = created(eid, key, at + 0.0003, "/invoices")
        if tag != "zqclean" and undo.random() < ISSUED_UNDONE:
            effects.append(
                Effect(f"eff_{tag}_d{i}", "api", at + 0.0004, "DELETE", f"/invoices/{invoice}",
                       {}, "", 204)
            )  # fmt: skip
    info = replace(_run_info(seed), run_id=f"bench@{tag}", tracer_tag=tag)
    return History(info, events, deliveries, effects, marks=marks)


def phase_issued(n: int, runs: int) -> None:
    """Phase 7: writes naming only an id a double made up (``invariants._chained``) and
    creations their own event undid (``invariants._undone``), beside the same Histories
    without the double's ISSUED_MARKs (judged as before them)."""
    print(
        f"Phase 7: judge() {n:,} events over {max(1, n // 5):,} customers, each subscribing "
        "its account by the id the double made up (POST /subscriptions naming only ds_<n>) "
        f"and invoicing it, {ISSUED_UNDONE:.0%} of the invoices deleted by their event, "
        f"against the clean run of the same layout; CPU-s of judge (the four defaults + "
        f"target_available), best of {runs}; peer: the same Histories without the "
        "double's issued marks"
    )
    pair = []
    for marked in (True, False):
        clean = build_issued(n, "zqclean", marked=marked)
        pair.append(judged_beside(build_issued(n, "zqrun", marked=marked), clean))
    history, peer = pair
    print(f"  {len(history.effects):,} effects, {len(history.marks):,} issued marks")
    times, verdicts = timed_judge(history, runs, SPECS, time.process_time)
    peer_times, peer_verdicts = timed_judge(peer, runs, SPECS, time.process_time)
    best, peer_best = min(times), min(peer_times)
    ratio = f"peer {peer_best:.2f} CPU-s ({best / peer_best:.2f}x)"
    print(line("judge, ids followed", f"{best:.2f} CPU-s", ratio))
    mib, peer_mib = traced_peak(history), traced_peak(peer)
    print(line("judge's own peak allocation", f"{mib:,.0f} MiB", f"peer {peer_mib:,.0f} MiB"))
    for v, p in zip(verdicts, peer_verdicts, strict=True):
        print(f"    {v.invariant}: {v.status.value} (peer {p.status.value}): {v.summary[:160]}")
    print(line("process peak RSS", f"{max_rss_mib():,.0f} MiB"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=3, help="timed judge() runs (best is kept)")
    parser.add_argument("--skip-journal", action="store_true", help="no phase 2")
    parser.add_argument("--skip-failing", action="store_true", help="no phase 3")
    parser.add_argument("--profile", action="store_true", help="cProfile load() in phase 2")
    parser.add_argument(
        "--faulted",
        type=int,
        nargs="?",
        const=FAULTED_DELIVERIES,
        metavar="DELIVERIES",
        help=f"phase 4 alone: faulted, all-slow Histories ({FAULTED_DELIVERIES:,} deliveries "
        "unless given)",
    )
    parser.add_argument(
        "--record-only",
        type=int,
        nargs="?",
        const=RECORD_ONLY_EVENTS,
        metavar="EVENTS",
        help=f"phase 5 alone: writes naming only their record ({RECORD_ONLY_EVENTS:,} events "
        "unless given), passing and failing, each beside its peer naming its event",
    )
    parser.add_argument(
        "--objects",
        type=int,
        nargs="?",
        const=OBJECTS_EVENTS,
        metavar="EVENTS",
        help=f"phase 6 alone: a ledger whose events are each about an object of their own "
        f"({OBJECTS_EVENTS:,} events unless given), beside its peer POSTing to one collection",
    )
    parser.add_argument(
        "--issued",
        type=int,
        nargs="?",
        const=ISSUED_EVENTS,
        metavar="EVENTS",
        help=f"phase 7 alone: writes naming only an id the double made up, and creations "
        f"undone ({ISSUED_EVENTS:,} events unless given), beside the same without issued marks",
    )
    parser.add_argument("--load", type=Path, help=argparse.SUPPRESS)  # phase 2's child
    args = parser.parse_args()
    if args.load:
        child_load(args.load, args.profile)
        return 0
    print(f"Machine: {machine_line()}")
    if args.faulted:
        phase_faulted(args.faulted, args.runs)
        return 0
    if args.issued:
        phase_issued(args.issued, args.runs)
        return 0
    if args.record_only:
        phase_record_only(args.record_only, args.runs)
        return 0
    if args.objects:
        phase_objects(args.objects, args.runs)
        return 0
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
