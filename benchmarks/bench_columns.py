"""Goal 1's next step measured before it is taken: the judge's dominant scans as numpy over a
journal's chunks, event ids as integer codes shared by events, deliveries and effects, next to
the same scans as the harness makes them now (``load()``, then ``Facts`` and the invariants).

    python benchmarks/bench_columns.py                 # builds bench_judge's two 1M journals
    python benchmarks/bench_columns.py A.db B.db       # journals written by bench_judge.build()

numpy became a dependency of the harness with the port's first steps (ack_within's latencies,
the deferred answers, a chunk's places); without it this prints how to install it and stops.
Each journal's run "bench" is read twice in one process. First as codes and columns: every
chunk's packed numbers taken as arrays (``np.frombuffer``), each text column's distinct values
mapped to global codes once a chunk (event ids to the event's row, record keys, requests), each
row's place among them taken by array indexing; then the scans — effects by time, each event's
first and second write (``Facts._index``), repeats of one request (no_duplicate_effects),
steps behind their record's newest seq (per_key_order, ledger), accepted events and those
without an effect (no_lost_events' any-effect rule), latencies and their nearest-rank
quantiles (ack_within) — each a few array operations. Then ``load()`` and the same pieces of
the judge as the harness has them. The counts both find must be the same (exit 1 otherwise);
the CPU time of each step is printed side by side.

What the columns leave out, and a port would have to add: payloads, headers, bodies and ids as
text (cut from their chunks when a witness or the redaction reads them), effects naming
several events (``event_ids``: none in these journals; counted), bodies and Idempotency-Keys
of repeated requests (no_duplicate_effects' harmless repeats), the ``Knowable`` test of steps
behind (per_key_order), the lag excuses (ack_within), tampered deliveries (not accepted; none
in these journals), a register's walk of every write, the clean run's expectations.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # _receiver, bench_judge

from _receiver import machine_line
from bench_judge import build, max_rss_mib, reset_peak_rss, write_journal

_start = time.process_time()
try:
    import numpy as np
except ImportError:  # a dependency since the port began; an older environment may lack it
    np = None  # type: ignore[assignment]
NUMPY_IMPORT_S = time.process_time() - _start  # a cost each `harness check` would pay

RUN_ID = "bench"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
NO_EVENT, NULL = -1, -2  # an effect's event code: an id no event has; none named
_INT_NULL = -(2**63)


class Steps:
    """CPU seconds of named steps, in order."""

    def __init__(self) -> None:
        self.times: list[tuple[str, float]] = []
        self._at = time.process_time()

    def done(self, name: str) -> None:
        now = time.process_time()
        self.times.append((name, now - self._at))
        self._at = now

    def total(self) -> float:
        return sum(t for _, t in self.times)


def _coded(text: str, codes: bytes, rows: int) -> tuple[list[Any], Any]:
    """A chunk's text column: its distinct values, and each row's place among them."""
    return json.loads(text), np.frombuffer(codes, dtype="<u4", count=rows)


def _chunks(db: sqlite3.Connection, table: str, run: int, names: str) -> Iterator[tuple[Any, ...]]:
    yield from db.execute(
        f'SELECT "rows", {names} FROM {table} WHERE run = ? ORDER BY rowid', (run,)
    )


def read_columns(path: Path, steps: Steps) -> dict[str, Any]:
    """The run's events, deliveries and effects as arrays of codes and numbers."""
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    (run,) = db.execute("SELECT run FROM runs WHERE run_id = ?", (RUN_ID,)).fetchone()
    code_of: dict[str, int] = {}  # event id -> its row among the events
    key_of: dict[str, int] = {}
    keys, seqs = [], []
    for rows, seq, ids, id_codes, key, key_codes in _chunks(
        db, "events", run, "seq, id, id_codes, key, key_codes"
    ):
        distinct, _ = _coded(ids, id_codes, rows)  # an event's id is its own: all differ
        code_of.update(zip(distinct, range(len(code_of), len(code_of) + rows), strict=True))
        distinct, places = _coded(key, key_codes, rows)
        local = [key_of.setdefault(k, len(key_of)) for k in distinct]
        keys.append(np.array(local, dtype=np.int64)[places])
        seqs.append(np.frombuffer(seq, "<i8", rows))
    steps.done("events: ids coded, record keys coded, seqs")

    def event_codes(distinct: list[str | None]) -> Any:
        get = code_of.get
        found = [NULL if i is None else get(i, NO_EVENT) for i in distinct]
        return np.array(found, dtype=np.int64)

    d_ev, d_ok, d_sent, d_ans, d_status = [], [], [], [], []
    for rows, eid, eid_codes, sent, answered, status, outcome, outcome_codes in _chunks(
        db,
        "deliveries",
        run,
        "event_id, event_id_codes, sent_at, answered_at, status, outcome, outcome_codes",
    ):
        distinct, places = _coded(eid, eid_codes, rows)
        d_ev.append(event_codes(distinct)[places])
        outcomes, places = _coded(outcome, outcome_codes, rows)
        d_ok.append(np.array([o == "ok" for o in outcomes])[places])
        d_sent.append(np.frombuffer(sent, "<f8", rows))
        d_ans.append(np.frombuffer(answered, "<f8", rows))
        d_status.append(np.frombuffer(status, "<i8", rows))
    steps.done("deliveries: event codes, outcomes, times")

    e_ev, e_at, e_write, e_method, several = [], [], [], [], 0
    methods_of: dict[str, int] = {}
    for rows, at, method, method_codes, eid, eid_codes, many, committed in _chunks(
        db,
        "effects",
        run,
        "at, method, method_codes, event_id, event_id_codes, event_ids, committed",
    ):
        several += sum(ids is not None for ids in json.loads(many))  # its distinct values
        distinct, places = _coded(eid, eid_codes, rows)
        e_ev.append(event_codes(distinct)[places])
        e_at.append(np.frombuffer(at, "<f8", rows))
        distinct, places = _coded(method, method_codes, rows)
        upper = [m.upper() for m in distinct]
        changes = np.array([m not in SAFE_METHODS for m in upper])[places]
        e_write.append(changes & (np.frombuffer(committed, "<i8", rows) == 1))
        e_method.append(
            np.array([methods_of.setdefault(m, len(methods_of)) for m in upper])[places]
        )
    db.close()
    steps.done("effects: event codes, times, writes")
    return {
        "events": len(code_of),
        "event_key": np.concatenate(keys),
        "event_seq": np.concatenate(seqs),
        "delivery_event": np.concatenate(d_ev),
        "delivery_ok": np.concatenate(d_ok),
        "sent": np.concatenate(d_sent),
        "answered": np.concatenate(d_ans),
        "status": np.concatenate(d_status),
        "effect_event": np.concatenate(e_ev),
        "effect_at": np.concatenate(e_at),
        "write": np.concatenate(e_write),
        "method": np.concatenate(e_method),
        "several": several,
    }


def _first_of_each(values: Any) -> tuple[Any, Any]:
    """The distinct values, ascending, and where each first occurs: a stable argsort (numpy's
    own ``unique`` took 0.54 s for a million integers on this machine, a sort 0.03 s)."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(order) else order
    return ordered[starts], order[starts]


def scan_columns(c: dict[str, Any], steps: Steps) -> dict[str, Any]:
    """The scans, as array operations over the columns."""
    order = np.argsort(c["effect_at"], kind="stable")  # effects_in_order
    event, write, method = c["effect_event"][order], c["write"][order], c["method"][order]
    steps.done("effects by time")
    counted = np.flatnonzero(write & (event >= 0))  # writes naming a known event, in time
    written = event[counted]
    events_written, first = _first_of_each(written)
    rest = np.ones(len(written), dtype=bool)
    rest[first] = False
    twice, second = _first_of_each(written[rest])
    second = np.flatnonzero(rest)[second]
    times = np.bincount(written, minlength=c["events"])
    steps.done("_index: each event's first and second write")
    first_of_twice = first[np.searchsorted(events_written, twice)]
    same_method = method[counted[second]] == method[counted[first_of_twice]]
    steps.done("no_duplicate_effects: repeats, method")
    firsts = written[np.sort(first)]  # each event's first write, in time order
    key, seq = c["event_key"][firsts], c["event_seq"][firsts]
    by_key = np.argsort(key, kind="stable")  # time order kept within a record
    key, seq = key[by_key], seq[by_key] - seq.min()
    step = key * (int(seq.max()) + 1) + seq  # a record's steps above every earlier record's
    newest = np.maximum.accumulate(step)
    behind = int(np.count_nonzero(step[1:] < newest[:-1]))
    records = int(np.count_nonzero(np.r_[True, key[1:] != key[:-1]])) if len(key) else 0
    steps.done("per_key_order: steps behind their record's newest")
    ok = c["delivery_event"][c["delivery_ok"] & (c["delivery_event"] >= 0)]
    accepted = np.sort(ok)
    accepted = accepted[np.r_[True, accepted[1:] != accepted[:-1]]] if len(ok) else accepted
    lost = accepted[~np.isin(accepted, events_written, assume_unique=True, kind="sort")]
    steps.done("accepted; no_lost_events (any effect)")
    answered = ~np.isnan(c["answered"]) & (c["status"] != _INT_NULL)
    latencies = (c["answered"] - c["sent"])[answered]
    n = len(latencies)
    ranks = [max(0, math.ceil(p / 100 * n) - 1) for p in (50, 95, 99)] + [n - 1]
    quantiles = np.partition(latencies, ranks)[ranks]
    steps.done("ack_within: latencies, nearest-rank quantiles")
    return {
        "accepted": len(accepted),
        "without an effect": len(lost),
        "unattributed": int(np.count_nonzero(c["effect_event"] < 0)),
        "attributed writes": len(counted),
        "written twice or more": len(twice),
        "written three times or more": int(np.count_nonzero(times > 2)),
        "repeats with the same method": int(np.count_nonzero(same_method)),
        "records": records,
        "steps checked": len(firsts),
        "steps behind": behind,
        "answered": n,
        "quantiles (ms)": [round(float(q) * 1000, 3) for q in quantiles],
    }


def scan_harness(path: Path, steps: Steps) -> dict[str, Any]:
    """The same scans as the harness makes them: ``load()``, ``Facts``, the invariants."""
    from harness.core._quantiles import quantiles
    from harness.history import delivery_rows, load
    from harness.invariants._facts import Facts
    from harness.invariants.ack_within import ack_within
    from harness.invariants.no_duplicate_effects import no_duplicate_effects
    from harness.invariants.no_lost_events import no_lost_events
    from harness.invariants.per_key_order import _walk

    history = load(path, RUN_ID)
    steps.done("load()")
    facts = Facts(history)
    facts.events_by_id  # noqa: B018 - built here, not inside the next step
    steps.done("events_by_id")
    facts.effects_in_order  # noqa: B018
    steps.done("effects by time")
    facts.writes_in_order  # noqa: B018 - Facts._index
    steps.done("_index: each event's first and second write")
    no_duplicate_effects(facts)
    steps.done("no_duplicate_effects (whole)")
    walk = _walk(facts, first_only=True)
    steps.done("per_key_order: the walk (ledger)")
    accepted = facts.accepted
    steps.done("accepted")
    no_lost_events(facts)
    steps.done("no_lost_events (whole)")
    ack_within(facts)
    steps.done("ack_within (whole)")
    rows = delivery_rows(history.deliveries, "answered_at", "status", "sent_at")
    latencies = [a - s for a, status, s in rows if a is not None and status is not None]
    q = quantiles(latencies)
    first, second = facts.first_write, facts.second_write
    return {
        "accepted": len(accepted),
        "without an effect": len(accepted.difference(first)),
        "unattributed": facts.unattributed,
        "attributed writes": facts.attributed_writes,
        "written twice or more": len(second),
        "written three times or more": len(facts.later_writes),
        "repeats with the same method": sum(
            w.method.upper() == first[eid].method.upper() for eid, w in second.items()
        ),
        "records": walk.records,
        "steps checked": walk.checked,
        "steps behind": walk.violations + walk.untold,
        "answered": len(latencies),
        "quantiles (ms)": [round(v * 1000, 3) for v in (q.p50, q.p95, q.p99, q.max) if v],
    }


def measure(path: Path) -> bool:
    print(f"{path.name} ({path.stat().st_size / 2**20:,.0f} MiB):")
    gc.disable()  # as harness check runs: collections paused while it loads and judges
    reset_peak_rss()
    read_steps = Steps()
    columns = read_columns(path, read_steps)
    scan_steps = Steps()
    found = scan_columns(columns, scan_steps)
    del columns
    peak = max_rss_mib()
    total = read_steps.total() + scan_steps.total()
    print(
        f"  as columns: {total:.2f} CPU-s (and numpy's import: {NUMPY_IMPORT_S:.2f}), "
        f"peak RSS {peak:,.0f} MiB"
    )
    _print(read_steps, read_steps.total(), "reading codes and columns")
    _print(scan_steps, scan_steps.total(), "the scans")
    reset_peak_rss()
    harness_steps = Steps()
    expected = scan_harness(path, harness_steps)
    peak = max_rss_mib()
    print(f"  as the harness has them: {harness_steps.total():.2f} CPU-s, peak RSS {peak:,.0f} MiB")
    _print(harness_steps, harness_steps.total(), "load() and the judge's pieces")
    gc.enable()
    same = found == expected
    print(f"  counts: {json.dumps(found)}")
    if not same:
        print(f"  the harness's: {json.dumps(expected)}")
    print(f"  same counts both ways: {'yes' if same else 'NO'}")
    return same


def _print(steps: Steps, total: float, title: str) -> None:
    print(f"    {title}: {total:.2f} CPU-s")
    for name, seconds in steps.times:
        print(f"      {name:<52} {seconds:6.3f}")


def _built(directory: Path) -> list[Path]:
    """bench_judge's passing and failing 1M journals, written into ``directory``."""
    paths = []
    for failing in (False, True):
        path = directory / ("failing.db" if failing else "passing.db")
        write_journal(build(500_000, failing=failing), path)
        paths.append(path)
        gc.collect()
    return paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("journals", nargs="*", type=Path, help="journals of bench_judge.build()")
    args = parser.parse_args()
    if np is None:
        print("numpy is not installed: `pip install numpy` to measure the columns")
        return 1
    print(f"Machine: {machine_line()}")
    with tempfile.TemporaryDirectory() as tmp:
        paths = args.journals or _built(Path(tmp))
        return 0 if all([measure(p) for p in paths]) else 1


if __name__ == "__main__":
    sys.exit(main())
