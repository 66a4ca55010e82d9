"""A fast HTTP receiver on 127.0.0.1 in a process of its own, shared by the delivery benchmarks.

aiohttp's low-level ``web.Server`` answers every request with 200 and a tiny JSON body. The
process is spawned, so it shares neither the event loop nor the GIL with the sender it
measures, and is steered over a pipe: it reports its port, answers "usage" and "arrivals",
and stops on "stop", when the pipe closes (its parent died) or after ``lifetime`` seconds.

With ``record=True`` it keeps, for every request, ``time.monotonic()`` when the handler was
called and the body. On Linux ``time.monotonic()`` reads CLOCK_MONOTONIC, one clock for every
process on the machine, so arrivals compare directly with times the sender took with it.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from aiohttp import web

# The checkout need not be installed: make `import harness` find it.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.core._model import Event

HOST = "127.0.0.1"
PATH = "/hooks/bench"
ANSWER = b'{"ok":true}'
# aiohttp's default listen backlog is 128: 200 connections opened at once would overflow it
# and the dropped SYNs come back a second later, which measures the kernel, not the sender.
BACKLOG = 1024
# The Standard Webhooks secret both benchmarks sign with (a test value, not a credential).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def busy_cpus(seconds: float = 1.0) -> float | None:
    """How many CPUs' worth of work the machine did over ``seconds``; None where unknown.

    Printed before a benchmark runs: on a small machine another process's load halves the
    figures, and a reader should know that without guessing.
    """
    stat = Path("/proc/stat")
    if not stat.is_file():
        return None

    def sample() -> tuple[int, int]:
        ticks = [int(v) for v in stat.read_text().split("\n", 1)[0].split()[1:9]]
        return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # busy = all but idle and iowait

    busy_before, total_before = sample()
    time.sleep(seconds)
    busy_after, total_after = sample()
    share = (busy_after - busy_before) / max(1, total_after - total_before)
    return share * (os.cpu_count() or 1)


def machine_line() -> str:
    """One line saying how loaded the machine is before a benchmark starts: the CPUs busy over
    the last second, and the load average over the last minute."""
    busy = busy_cpus()
    cpus = os.cpu_count() or 1
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    if busy is None:
        return f"{cpus} CPUs{load}"
    warning = "  (other work is running: figures will be low)" if busy > 0.25 else ""
    return f"{cpus} CPUs, {busy:.2f} busy before the start{load}{warning}"


def order_events(times: list[float]) -> list[Event]:
    """One ``order.paid`` event per time, each with a ~400-byte JSON payload naming its ``seq``."""
    return [_order_event(seq, at) for seq, at in enumerate(times)]


def _order_event(seq: int, at: float) -> Event:
    eid = f"evt_{seq:06d}"
    key = f"ord_{seq % 5000:05d}"
    payload = {
        "id": eid,
        "seq": seq,
        "type": "order.paid",
        "data": {
            "order_id": key,
            "customer": {"email": f"ada.lovelace+{seq:06d}@example.com", "name": "Ada Lovelace"},
            "amount": {"value": 12900 + seq, "currency": "EUR"},
            "items": [
                {"sku": "AE-1843", "qty": 1, "price": 9900},
                {"sku": "AE-NOTE-G", "qty": 3, "price": 1000},
            ],
            "shipping": {"city": "London", "country": "GB", "postcode": "SW1A 1AA"},
        },
    }
    return Event(eid, key, seq, "order.paid", at, payload)


@dataclass(frozen=True, slots=True)
class Arrival:
    """One request as the receiver saw it: ``at`` on the system-wide monotonic clock."""

    at: float
    body: bytes


def serve(conn: Connection, record: bool, lifetime: float) -> None:
    """The receiver process's entry point."""
    asyncio.run(_serve(conn, record, lifetime))


async def _serve(conn: Connection, record: bool, lifetime: float) -> None:
    arrivals: list[tuple[float, bytes]] = []
    count = 0

    async def handle(request: web.BaseRequest) -> web.Response:
        nonlocal count
        at = time.monotonic()  # first thing: the headers are in, the request has arrived
        body = await request.read()
        count += 1
        if record:
            arrivals.append((at, body))
        return web.Response(body=ANSWER, content_type="application/json")

    runner = web.ServerRunner(web.Server(handle, access_log=None))
    await runner.setup()
    await web.TCPSite(runner, HOST, 0, backlog=BACKLOG).start()
    stop = asyncio.Event()

    def on_command() -> None:
        try:
            command = conn.recv()
        except EOFError:  # the parent is gone: nobody will ever say "stop"
            command = "stop"
        if command == "usage":
            conn.send((count, time.process_time()))
        elif command == "arrivals":
            conn.send(arrivals)
        else:
            stop.set()

    loop = asyncio.get_running_loop()
    loop.add_reader(conn.fileno(), on_command)
    conn.send(runner.addresses[0][1])
    try:
        await asyncio.wait_for(stop.wait(), lifetime)
    except TimeoutError:
        pass
    finally:
        loop.remove_reader(conn.fileno())
        await runner.cleanup()


class Receiver:
    """``with Receiver() as r:`` — a receiver process listening at ``r.url`` for the block."""

    def __init__(self, *, record: bool = False, lifetime: float = 600.0, wait: float = 30.0):
        self.record = record
        self.lifetime = lifetime
        self.wait = wait  # the longest to wait for the process to start or to answer
        self.url = ""
        context = multiprocessing.get_context("spawn")
        self._conn, self._child_conn = context.Pipe()
        self._process = context.Process(
            target=serve, args=(self._child_conn, record, lifetime), daemon=True
        )

    def __enter__(self) -> Receiver:
        self._process.start()
        self._child_conn.close()
        port = self._answer("start")
        self.url = f"http://{HOST}:{port}{PATH}"
        return self

    def usage(self) -> tuple[int, float]:
        """How many requests it has answered, and the CPU seconds its process has used."""
        self._conn.send("usage")
        count, cpu = self._answer("usage")
        return int(count), float(cpu)

    def arrivals(self) -> list[Arrival]:
        """Every request so far, in arrival order (only with ``record=True``)."""
        self._conn.send("arrivals")
        return [Arrival(at, body) for at, body in self._answer("arrivals")]

    def _answer(self, what: str) -> Any:
        if not self._conn.poll(self.wait):
            raise SystemExit(f"the receiver gave no answer to {what!r} within {self.wait:g} s")
        try:
            return self._conn.recv()
        except EOFError:
            self._process.join(timeout=5)
            raise SystemExit(
                f"the receiver died before answering {what!r} (exit code {self._process.exitcode})"
            ) from None

    def __exit__(self, *_: object) -> None:
        try:
            self._conn.send("stop")
        except OSError:  # already gone
            pass
        self._process.join(timeout=5)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout=5)
        self._conn.close()
