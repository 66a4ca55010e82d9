"""The recorder process: the harness's receiving half of a Locust run, on asyncio.

    python -m harness_locust._recorder FD

Locust monkey-patches its process with gevent; the downstream double and the journal run here
instead, in a plain asyncio process (measured: with the double on an asyncio thread inside the
Locust process, Locust's CPU per request rose from 145-174 to 235-264 µs and its requests/s fell
by a quarter; docs/load-testing.md). This process is the one writer of the run's journal.

FD is one end of a socket pair; the frames on it (``_channel``), in order:
  in   ("start", PreparedRun, RunOptions, report path or None)
  out  ("ready", [double URLs], wall-clock time of run time 0)  or ("error", message, exit code)
  in   ("rows", [row, ...]) any number of times; ("mark", name, detail); ("settings", {...}),
       merged into the run's settings before it is judged (the workers' clocks at the end)
  in   ("finish", "complete" | "aborted", why or None): why says what made it aborted (a
       worker's deliveries missing), else it was interrupted
  out  ("result", exit code, message)
A row is (slot, sent, answered, status, outcome, error, scheduled): wall-clock times (answered
and scheduled may be None), the HTTP status or None, an Outcome value or None (from status).
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from harness import (
    HarnessError,
    Outcome,
    PreparedRun,
    Recorder,
    RunOptions,
    Status,
    print_verdicts,
    write_report,
)
from harness.cli._exits import judged_exit, untested

from ._channel import HEADER, frame, unframe

Row = tuple[int, float, float | None, int | None, str | None, str | None, float | None]

EXIT_OK, EXIT_FAILED, EXIT_INCOMPLETE = 0, 1, 3


class _Link:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def receive(self) -> Any:
        """The next frame; None when the Locust process went away."""
        try:
            (size,) = HEADER.unpack(await self.reader.readexactly(HEADER.size))
            return unframe(await self.reader.readexactly(size))
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    async def send(self, *message: Any) -> None:
        self.writer.write(frame(message))
        await self.writer.drain()


def delivery_of(prepared: PreparedRun, row: Row, wall0: float) -> Any:
    """A row from a Locust process as a Delivery, its wall-clock times made run times."""
    n, sent, answered, status, outcome, error, scheduled = row
    return prepared.delivery(
        n,
        sent - wall0,
        None if answered is None else answered - wall0,
        status,
        error,
        outcome=None if outcome is None else Outcome(outcome),
        scheduled_at=None if scheduled is None else scheduled - wall0,
    )


async def serve(link: _Link) -> None:
    start = await link.receive()
    if start is None:
        return
    _, prepared, options, report = start
    recorder = Recorder(prepared, options)
    try:
        urls = await recorder.start()
    except HarnessError as exc:
        await recorder.stop("aborted")
        await link.send("error", str(exc), exc.exit_code)
        return
    # Run time 0 on the wall clock: Locust processes stamp deliveries with time.time().
    wall0 = time.time() - recorder.clock()
    status, why = "aborted", None
    try:
        # Inside: a Locust process gone before it heard "ready" still leaves the run aborted,
        # its doubles stopped, not a journal saying it is running.
        await link.send("ready", urls, wall0)
        status, why = await _record(link, recorder, prepared, wall0)
        if status == "complete":
            await recorder.settle()
    finally:
        await recorder.stop(status)
    if status != "complete":
        journal = recorder.journal.path
        what = why or "the load test was interrupted"
        await link.send(
            "result",
            EXIT_INCOMPLETE,
            f"{what}; what was recorded is kept in {journal} (status aborted)\n"
            f"  hint: judge it with `harness check {journal}`",
        )
        return
    await link.send(*_judged(recorder, options, report))


async def _record(
    link: _Link, recorder: Recorder, prepared: PreparedRun, wall0: float
) -> tuple[str, str | None]:
    """Journal what the Locust side sends until it says how the run ended, and why."""
    while (message := await link.receive()) is not None:
        kind = message[0]
        if kind == "rows":
            for row in message[1]:
                recorder.delivery(delivery_of(prepared, row, wall0))
        elif kind == "mark":
            recorder.mark(message[1], message[2])
        elif kind == "settings":
            info = recorder.info
            recorder.info = replace(info, settings={**info.settings, **message[1]})
            recorder.journal.describe(recorder.info)
        elif kind == "finish":
            return str(message[1]), message[2]
    return "aborted", None


def _judged(recorder: Recorder, options: RunOptions, report: Path | None) -> tuple[Any, ...]:
    try:
        result = recorder.judge()
        runs = [(result.history, result.verdicts)]
        print_verdicts(runs)
        if report is not None:
            write_report(report, runs, options.journal)
    except HarnessError as exc:
        return ("result", exc.exit_code, str(exc))
    where = f"; report written to {report}" if report is not None else ""
    # `harness run`'s rule (docs/cli.md, exit codes): a run that put nothing to the test —
    # no delivery reached the target, or it accepted none — is never a pass, nor a finding.
    if not result.history.deliveries:
        return ("result", EXIT_INCOMPLETE, f"no delivery reached the target: nothing was put to "
                f"the test{where}")  # fmt: skip
    code = judged_exit(runs)
    if code == EXIT_OK:
        return ("result", EXIT_OK, f"every invariant holds{where}")
    said = []
    for status, name in ((Status.FAIL, "failed"), (Status.INCONCLUSIVE, "inconclusive")):
        invariants = [v.invariant for v in result.verdicts if v.status is status]
        if invariants:
            said.append(f"invariants {name}: {', '.join(invariants)}")
    if code == EXIT_INCOMPLETE and not any(v.status is Status.FAIL for v in result.verdicts):
        said = [*untested([result.history]), *said]
    return ("result", code, "; ".join(said) + where)


async def main(fd: int) -> None:
    # Ctrl-C reaches every process of the terminal's group; the Locust process decides how the
    # run ends and says so, or closes the socket.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sock = socket.socket(fileno=fd)
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        await serve(_Link(reader, writer))
    except ConnectionError:
        pass  # the Locust process went away (stopped before the run began): it says why
    finally:
        writer.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
