"""The Locust side of a run: senders deliver slots, the owner holds the recorder process.

A **sender** lives in every process that runs users (the local runner, or each worker): it hands
out its share of the schedule's slots, turns Locust's request events into delivery rows, and
ships them in batches. The **owner** lives in the process that holds the run (the local runner,
or the master): it starts the recorder process, passes rows on to it, and at the end asks it to
settle, judge and report.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gevent
import gevent.event
import gevent.lock

from ._channel import HEADER, frame, unframe

if TYPE_CHECKING:
    from harness import PreparedRun, RunOptions

log = logging.getLogger("harness_locust")

# (slot, sent, answered, status, outcome, error, scheduled); times on the owner's wall clock.
Row = tuple[int, float, float | None, int | None, str | None, str | None, float | None]
Ship = Callable[[list[Row], bool], None]

FLUSH_INTERVAL = 0.2  # seconds between two batches of rows; bounds what a crash loses
READY_TIMEOUT = 30.0  # for the recorder process to start its doubles
RESULT_MARGIN = 120.0  # beyond the scenario's settle deadline, for judging and the report


def classify(
    status: int, exception: BaseException | None, timeout: float
) -> tuple[int | None, str | None, str | None]:
    """(status, outcome, error) of one request as Locust reports it.

    A status means an answer came; its outcome follows the status. Without one, a refused
    connection certainly had no effect (failed); a timeout or a broken connection may have
    reached the target (indeterminate), as in the engine's Deliverer.
    """
    if status:
        return status, None, None
    # geventhttpclient reports the last error of its (here: no) retries as RetriesExceeded.
    while getattr(exception, "original", None) is not None:
        exception = exception.original  # type: ignore[union-attr]
    if isinstance(exception, TimeoutError | socket.timeout | gevent.Timeout):
        return None, "indeterminate", f"no answer within {timeout:g} s"
    if isinstance(exception, ConnectionRefusedError | socket.gaierror) or (
        isinstance(exception, OSError) and exception.errno == errno.ECONNREFUSED
    ):
        return None, "failed", f"connection failed: {exception}"
    detail = type(exception).__name__ + (f": {exception}" if str(exception) else "")
    return None, "indeterminate", f"connection broke before an answer: {detail}"


class Sender:
    """One process's share of the slots, and the rows of what became of them."""

    def __init__(
        self,
        prepared: PreparedRun,
        slots: list[int],
        *,
        index: int,
        wall0: float,
        timeline: bool,
        ship: Ship,
        on_exhausted: Callable[[], None],
        offset: float = 0.0,
    ) -> None:
        self.prepared = prepared
        self.index = index
        self.wall0 = wall0
        # This process's clock minus the owner's (a worker's, measured as it joined: _clock);
        # 0 where the owner runs the users. Rows are stamped here and shipped on the owner's.
        self.offset = offset
        self.timeline = timeline
        self.timeout = prepared.attempt_timeout
        self.planned = len(slots)
        self.delivered = 0
        self._queue = deque(slots)
        self._held: set[int] = set()  # taken by a user that waits for the slot's time
        self._in_flight: dict[int, tuple[float, float | None]] = {}  # slot: (sent, scheduled)
        self._rows: list[Row] = []
        self._ship = ship
        self._on_exhausted = on_exhausted
        self._exhausted = False
        self.final = False
        self._flusher = gevent.spawn(self._flush_every_interval)
        self._check_exhausted()  # an empty share (fewer records than workers) is done at once

    def take(self) -> int | None:
        """The next slot to deliver; None when this share is used up or its final batch was
        shipped (a delivery after it would never reach the owner)."""
        if not self._queue or self.final:
            return None
        n = self._queue.popleft()
        self._held.add(n)
        return n

    def give_back(self, n: int) -> None:
        """A slot taken but not sent (its user was stopped while waiting for its time)."""
        self._held.discard(n)
        self._queue.appendleft(n)

    def due(self, n: int) -> float | None:
        """When slot ``n`` is due on this process's wall clock, if the run follows the plan's
        timeline."""
        return self.wall0 + self.offset + self.prepared.schedule.at[n] if self.timeline else None

    def sending(self, n: int, scheduled: float | None) -> None:
        self._held.discard(n)
        self._in_flight[n] = (time.time(), scheduled)

    def answered(
        self, n: int, start_time: float, response_time: float, status: int, exception: Any
    ) -> None:
        """Locust's request event for slot ``n``: ``response_time`` in ms, as Locust gives it."""
        _, scheduled = self._in_flight.pop(n, (start_time, None))
        code, outcome, error = classify(status, exception, self.timeout)
        sent = start_time - self.offset
        answered = None if outcome == "indeterminate" else sent + response_time / 1000
        self._rows.append((n, sent, answered, code, outcome, error, self._owners(scheduled)))
        self.delivered += 1
        self._check_exhausted()

    def interrupted(self, n: int) -> None:
        """Slot ``n``'s user was stopped mid-request: the target may or may not have it."""
        if n not in self._in_flight:
            return
        sent, scheduled = self._in_flight.pop(n)
        error = "the load test stopped this user before an answer"
        row = (n, sent - self.offset, None, None, "indeterminate", error, self._owners(scheduled))
        self._rows.append(row)
        self.delivered += 1

    def _owners(self, t: float | None) -> float | None:
        """A time of this process's clock on the owner's."""
        return None if t is None else t - self.offset

    def finish(self) -> None:
        """Ship what is left as the final batch; safe to call again (re-sends an empty one)."""
        for n in list(self._in_flight):
            self.interrupted(n)
        self.final = True
        self._flusher.kill(block=False)
        rows, self._rows = self._rows, []
        self._ship(rows, True)

    def _check_exhausted(self) -> None:
        if not (self._exhausted or self._queue or self._held or self._in_flight):
            self._exhausted = True
            self._on_exhausted()

    def _flush_every_interval(self) -> None:
        while not self.final:
            gevent.sleep(FLUSH_INTERVAL)
            if self._rows and not self.final:
                rows, self._rows = self._rows, []
                self._ship(rows, False)


class RecorderProcess:
    """The recorder process (``harness_locust._recorder``) seen from a gevent process."""

    def __init__(self) -> None:
        parent, child = socket.socketpair()
        fd = child.fileno()
        env = {**os.environ, "PYTHONPATH": _pythonpath()}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "harness_locust._recorder", str(fd)], pass_fds=(fd,), env=env
        )
        child.close()
        self._sock = parent
        self._lock = gevent.lock.BoundedSemaphore()

    def send(self, *message: Any) -> None:
        with self._lock:
            self._sock.sendall(frame(message))

    def receive(self, timeout: float) -> tuple[Any, ...] | None:
        """The next frame; None if none came within ``timeout`` s or the process is gone."""
        with gevent.Timeout(timeout, False):
            header = self._read(HEADER.size)
            if header is not None:
                body = self._read(HEADER.unpack(header)[0])
                if body is not None:
                    message: tuple[Any, ...] = unframe(body)
                    return message
        return None

    def _read(self, size: int) -> bytes | None:
        chunks: list[bytes] = []
        while size:
            chunk = self._sock.recv(min(size, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._sock.close()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _pythonpath() -> str:
    """Where ``harness`` and ``harness_locust`` were imported from, before the inherited path:
    Locust puts the locustfile's folder on sys.path, which a fresh interpreter would not have."""
    import harness
    import harness_locust

    roots = [str(Path(m.__file__ or "").resolve().parents[1]) for m in (harness, harness_locust)]
    inherited = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(p for p in dict.fromkeys([*roots, *inherited.split(os.pathsep)]) if p)


class Owner:
    """The run, in the process that holds it: its recorder process, the shares' progress and
    how the run ended. One per Locust test (test_start .. test_stop)."""

    def __init__(
        self,
        prepared: PreparedRun,
        options: RunOptions,
        report: Path | None,
        *,
        workers: int,
        on_all_exhausted: Callable[[], None],
    ) -> None:
        self.prepared = prepared
        self.options = options
        self.report = report
        self.workers = workers
        self._on_all_exhausted = on_all_exhausted
        self._exhausted: set[int] = set()
        self._shares: dict[int, tuple[int, int]] = {}  # index: (planned, delivered), when final
        self._received: dict[int, int] = {}  # index: rows that reached this process
        self._finals = gevent.event.Event()
        self._recorder: RecorderProcess | None = None
        self.wall0 = 0.0
        self.exit_code: int | None = None
        self._finishing = False
        self._finished = gevent.event.Event()

    @property
    def done(self) -> bool:
        """Every share is delivered and answered."""
        return len(self._exhausted) >= self.workers

    def start(self, spare: RecorderProcess | None = None) -> float:
        """Start the recorder process (or use ``spare``, spawned earlier) and its doubles; the
        wall-clock time of run time 0.

        Raises RuntimeError with the recorder's message if it could not start (a port in use).
        """
        recorder = spare or RecorderProcess()
        recorder.send("start", self.prepared, self.options, self.report)
        reply = recorder.receive(READY_TIMEOUT)
        if reply is None or reply[0] != "ready":
            recorder.close()
            why = reply[1] if reply else f"no answer within {READY_TIMEOUT:g} s"
            raise RuntimeError(f"the harness recorder could not start: {why}")
        self._recorder = recorder
        _, urls, self.wall0 = reply
        log.info("downstream double listening at %s", ", ".join(urls))
        return self.wall0

    def rows(self, rows: list[Row], index: int = 0) -> None:
        """Rows of share ``index`` for the journal; counted, to check against its final word."""
        if rows and self._recorder is not None:
            self._received[index] = self._received.get(index, 0) + len(rows)
            self._recorder.send("rows", rows)

    def final(self, index: int, planned: int, delivered: int) -> None:
        self._shares[index] = (planned, delivered)
        if len(self._shares) >= self.workers:
            self._finals.set()

    def exhausted(self, index: int) -> None:
        self._exhausted.add(index)
        if self.done:
            self._on_all_exhausted()

    def finish(
        self,
        status: str,
        *,
        finals_timeout: float,
        described: Callable[[], dict[str, object] | None] | None = None,
    ) -> int:
        """Wait (at most ``finals_timeout`` s) for every share's final rows, then have the
        recorder settle, judge and report; the exit code. ``described``: settings the run
        learnt at its end (the workers' clocks measured again), asked once the last rows are
        in, and kept in the run's settings before it is judged. Later calls return the same
        code, waiting for it while the first call settles."""
        if self.exit_code is not None:
            return self.exit_code
        if self._recorder is None:
            self.exit_code = 3
            return self.exit_code
        if self._finishing:
            # Locust's -t (or Ctrl-C, SIGTERM) while the test's end settles and judges: that
            # end's code. A second "finish" read the recorder's socket the first one waits on
            # (gevent's ConcurrentObjectUseError, Locust's exit code 2), and Locust exited
            # while the recorder went on settling and printed its verdicts after it.
            self._finished.wait()
            return 3 if self.exit_code is None else self.exit_code
        self._finishing = True
        try:
            return self._finish(self._recorder, status, finals_timeout, described)
        finally:
            self._finished.set()

    def _finish(
        self,
        recorder: RecorderProcess,
        status: str,
        finals_timeout: float,
        described: Callable[[], dict[str, object] | None] | None,
    ) -> int:
        self._finals.wait(finals_timeout)
        for index, (planned, delivered) in sorted(self._shares.items()):
            detail = f"worker index {index} of {self.workers}: {delivered} of {planned} deliveries"
            recorder.send("mark", "locust.share", detail)
            if delivered < planned and status == "complete":
                log.warning(
                    "harness: worker index %d of %d delivered %d of its %d slots before the "
                    "test ended",
                    index,
                    self.workers,
                    delivered,
                    planned,
                )
        missing = self._missing(finals_timeout)
        for detail in missing:
            recorder.send("mark", "locust.share_missing", detail)
        why = None
        if missing and status == "complete":
            # Judged, the run would pass or fail on part of what was delivered, as if it were
            # all: it ends aborted, its journal kept, saying whose deliveries are missing.
            status = "aborted"
            why = (
                "; ".join(missing) + ": the history lacks what they delivered, so the run is "
                "not judged"
            )
        learnt = described() if described is not None and status == "complete" else None
        if learnt:
            recorder.send("settings", learnt)
        recorder.send("finish", status, why)
        # The recorder settles after the last fault window closes (run clock), then judges.
        last_fault = max((f.end for f in self.prepared.faults), default=0.0)
        reply = recorder.receive(last_fault + self.prepared.settle.deadline + RESULT_MARGIN)
        recorder.close()
        if reply is None:
            self.exit_code = 3
            log.error("the harness recorder gave no verdicts; see its messages above")
        else:
            _, self.exit_code, message = reply
            (log.info if self.exit_code == 0 else log.error)("harness: %s", message)
        return self.exit_code

    def _missing(self, waited: float) -> list[str]:
        """One line per share whose deliveries did not all reach this process: no final word
        from it within ``waited`` s, or not as many rows as it said it delivered."""
        said = []
        for index in range(self.workers):
            received = self._received.get(index, 0)
            share = self._shares.get(index)
            if share is None:
                said.append(
                    f"worker index {index} of {self.workers} sent no final word within "
                    f"{waited:g} s ({received} of its deliveries reached the master)"
                )
            elif received != share[1]:
                said.append(
                    f"worker index {index} of {self.workers} delivered {share[1]}, of which "
                    f"{received} reached the master"
                )
        return said
