"""The ceiling of a distributed Locust run: how many deliveries a second the recorder journals.

    python benchmarks/bench_recorder.py                   # 200,000 rows, batches of 1,000, 2 rounds
    python benchmarks/bench_recorder.py --rows 50000 --rounds 1

In a Locust run (one process, or a master and its workers) every delivery ends as a row that
the process holding the run passes to one recorder process (``harness_locust._recorder``), the
one writer of the run's journal. However many workers send, the rows meet there: its rate is
the run's ceiling. This feeds a real recorder process, over the socket pair the Locust side
uses, rows as fast as it takes them (batches of ``--batch``, as a worker ships 0.2 s of rows at
a time), so the recorder is the only thing working; the figure is the rate while the feeder
waited on it. Then the run is finished, settled and judged as at the end of a load test, and
the journal read back: every row fed must be one delivery in it — nothing lost at saturation.

Next to it, the peer: the same rows through ``Recorder.delivery`` in this process, without the
socket and the unpickling, which is what the recorder process adds to the engine's own path.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _receiver import SECRET, machine_line

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "plugins")]

from harness_locust._channel import HEADER, frame, unframe  # noqa: E402
from harness_locust._recorder import delivery_of  # noqa: E402

from harness import (  # noqa: E402
    DeliverySpec,
    InvariantSpec,
    PreparedRun,
    Recorder,
    RunOptions,
    Scenario,
    Settle,
    SyntheticSource,
    prepare,
)
from harness.history import load_all  # noqa: E402

EXAMPLE = {
    "id": "evt_1",
    "type": "order.paid",
    "occurred_at": "2026-01-01T00:00:00Z",
    "sequence": 1,
    "data": {"order_id": "ord_1", "amount": 12900, "currency": "EUR"},
}
STUCK_AFTER = 60.0  # seconds the socket may make no progress before the round gives up
# A recorder waiting for rows still works a little (its loop-lag watch wakes 100 times a
# second: 2-9% of a CPU here): idle is under IDLE_SHARE of a CPU for IDLE_FOR seconds, its
# start known to IDLE_FOR.
IDLE_FOR, IDLE_SHARE = 0.1, 0.3


def scenario(rows: int) -> Scenario:
    """A run whose automation calls no downstream: the recorder's work is the rows alone."""
    return Scenario(
        name="bench-recorder",
        source=SyntheticSource(
            example=EXAMPLE,
            events=rows,
            records=max(1, rows // 4),
            over=1.0,
            id_path="$.id",
            key_path="$.data.order_id",
            type_path="$.type",
            seq_path="$.sequence",
            time_path="$.occurred_at",
        ),
        invariants=(InvariantSpec("ack_within", {"seconds": 5}),),
        delivery=DeliverySpec(signing="standard-webhooks", secret_env="BENCH_SECRET"),
        settle=Settle(quiet=0.2, deadline=5),
    )


def rows_of(prepared: PreparedRun, wall0: float) -> list[tuple[Any, ...]]:
    """One answered row per slot, stamped as a Locust sender stamps them (wall clock)."""
    return [
        (n, wall0 + slot.at + 0.001, wall0 + slot.at + 0.004, 200, "ok", None, wall0 + slot.at)
        for n, slot in enumerate(prepared.schedule)
    ]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (/proc: in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle(pid: int) -> tuple[float, float]:
    """Wait until a process works less than IDLE_SHARE of a CPU over IDLE_FOR s: (when that
    stillness began, its CPU then)."""
    start, cpu = time.perf_counter(), cpu_seconds(pid)
    while True:
        time.sleep(IDLE_FOR)
        now, used = time.perf_counter(), cpu_seconds(pid)
        if used - cpu < IDLE_SHARE * (now - start):
            return start, cpu
        start, cpu = now, used


class RecorderProcess:
    """A recorder process on one end of a socket pair, as the Locust side starts it."""

    def __init__(self) -> None:
        parent, child = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path[:2])}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "harness_locust._recorder", str(child.fileno())],
            pass_fds=(child.fileno(),),
            env=env,
        )
        child.close()
        self.sock = parent
        self.sock.settimeout(STUCK_AFTER)

    def send(self, *message: Any) -> None:
        self.sock.sendall(frame(message))

    def receive(self) -> tuple[Any, ...]:
        (size,) = HEADER.unpack(self._read(HEADER.size))
        message: tuple[Any, ...] = unframe(self._read(size))
        return message

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise SystemExit("the recorder process went away; see its messages above")
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def through_process(prepared: PreparedRun, options: RunOptions, batch: int) -> tuple[float, float]:
    """Feed a recorder process every slot's row; (rows a second, its CPU µs per row)."""
    recorder = RecorderProcess()
    try:
        recorder.send("start", prepared, options, None)
        reply = recorder.receive()
        if reply[0] != "ready":
            raise SystemExit(f"the recorder could not start: {reply[1]}")
        rows = rows_of(prepared, reply[2])
        frames = [frame(("rows", rows[i : i + batch])) for i in range(0, len(rows), batch)]
        cpu0, start = cpu_seconds(recorder.process.pid), time.perf_counter()
        for data in frames:
            recorder.sock.sendall(data)
        # The socket's buffers still hold a few frames: the recorder is done when it idles.
        end, cpu = idle(recorder.process.pid)
        seconds, cpu = end - start, cpu - cpu0
        recorder.send("finish", "complete")
        result = recorder.receive()
    finally:
        recorder.close()
    if result[0] != "result":
        raise SystemExit(f"the recorder gave no result: {result}")
    return len(rows) / seconds, cpu / len(rows) * 1e6


def in_process(prepared: PreparedRun, options: RunOptions) -> tuple[float, float]:
    """The same rows through ``Recorder.delivery`` here: (rows a second, CPU µs a row)."""
    import asyncio

    async def run() -> tuple[float, float]:
        recorder = Recorder(prepared, options)
        await recorder.start()
        wall0 = time.time() - recorder.clock()
        rows = rows_of(prepared, wall0)
        cpu0, start = time.process_time(), time.perf_counter()
        for row in rows:
            recorder.delivery(delivery_of(prepared, row, wall0))
        recorder.journal.flush()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu0
        await recorder.stop("complete")
        return len(rows) / seconds, cpu / len(rows) * 1e6

    return asyncio.run(run())


def journaled(path: Path, expected: int) -> str:
    (history,) = load_all(path)
    ids = {d.id for d in history.deliveries}
    lost = expected - len(ids)
    return f"{len(history.deliveries)} deliveries journaled, {len(ids)} distinct: {lost} lost"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000, help="rows per frame")
    parser.add_argument("--rounds", type=int, default=2, choices=range(1, 6))
    args = parser.parse_args()
    if not 1_000 <= args.rows <= 1_000_000:
        parser.error(f"--rows {args.rows!r}: use 1,000 .. 1,000,000")
    if not 1 <= args.batch <= 10_000:
        parser.error(f"--batch {args.batch!r}: use 1 .. 10,000")
    os.environ["BENCH_SECRET"] = SECRET
    print(machine_line())
    print(f"{args.rows} rows in frames of {args.batch}; the recorder journals, settles, judges")
    cpu = {"process": float("inf"), "in process": float("inf")}
    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as tmp:
        for round_no in range(1, args.rounds + 1):
            for where in cpu:
                journal = Path(tmp) / f"{where}-{round_no}.db"
                options = RunOptions.create(
                    "http://127.0.0.1:9/", seed=1, downstream="127.0.0.1:0", journal=journal
                )
                prepared = prepare(scenario(args.rows), options)
                if where == "process":
                    rate, used = through_process(prepared, options, args.batch)
                    lost = f"; {journaled(journal, args.rows)}"
                else:
                    rate, used = in_process(prepared, options)
                    lost = ""
                cpu[where] = min(cpu[where], used)
                print(
                    f"  round {round_no} {where:10} {rate:8.0f} rows/s, {used:5.1f} µs of CPU a "
                    f"row{lost}"
                )
    print(
        f"best: recorder process {cpu['process']:.1f} µs of CPU a row, "
        f"Recorder.delivery in process {cpu['in process']:.1f} µs: "
        f"{cpu['process'] / cpu['in process']:.2f}x; one recorder on one CPU of this machine "
        f"journals at most ~{1e6 / cpu['process']:,.0f} deliveries a second"
    )


if __name__ == "__main__":
    main()
