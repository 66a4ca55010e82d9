"""The suite's CPU per test: a pytest plugin that logs it, and a summary of the logs.

    PYTHONPATH=.:plugins:benchmarks CPU_PER_TEST=/tmp/cpu/run pytest -p cpu_per_test -n 4 [TESTS]
    python benchmarks/cpu_per_test.py /tmp/cpu/run [--top N] [--durations tests/durations.json]

Around each test's protocol (setup, call, teardown): the CPU (user + system) of the process
that runs it (``RUSAGE_SELF``), of the children it reaped (``RUSAGE_CHILDREN``) and of every
live descendant with the children each reaped (``/proc``), its change written as a JSON line to
``CPU_PER_TEST-<worker>.jsonl``. The automations' zygote (tests/zygote.py) is the controller's
child, not a worker's: under this plugin each xdist worker starts a zygote of its own,
so a forked automation's CPU is its test's (test_forked_workers' one-zygote test fails under it).
Each row also has the real seconds the test's in-process runs spent in ``wait_quiet``: settling
(``settled``) and the clean runs' pace (``paced``) — a gallery test's wall is mostly these.
pytest's ``--durations`` gives wall time only; on two shared CPUs the suite is bound by CPU, not
wall. ``--durations FILE`` writes the wall of each test of 2 s or more, which the suite's
conftest reads to start the longest tests first.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

_TICK = os.sysconf("SC_CLK_TCK")
_OUT = os.environ.get("CPU_PER_TEST", "cpu-per-test")
# Below it a test's place in the order is its kind's (tests/conftest.py, expected_seconds): the
# 2,300 tests under it would only make the file long.
LONGER_THAN = 2.0

if os.environ.get("PYTEST_XDIST_WORKER"):  # without xdist the conftest's zygote is our child
    from tests import forked_workers

    # Before the conftest's pytest_configure reads it: this worker's own automations' zygote.
    os.environ["HARNESS_TESTS_ZYGOTE"] = forked_workers.start("tests.zygote", Path.cwd()).path


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for thread in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{thread}/children") as listed:
                found += [int(child) for child in listed.read().split()]
    except OSError:  # gone meanwhile
        pass
    return found


def _own_and_reaped(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return sum(int(ticks) for ticks in fields[11:15]) / _TICK  # utime stime cutime cstime


def cpu() -> float:
    """CPU-seconds of this process, its reaped children and its live descendants."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    reaped = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime
    seen: set[int] = set()
    waiting = _children(os.getpid())
    while waiting:
        pid = waiting.pop()
        if pid not in seen:
            seen.add(pid)
            total += _own_and_reaped(pid)
            waiting += _children(pid)
    return total


_waited = {"settled": 0.0, "paced": 0.0}  # this test's seconds in wait_quiet, by its caller
_counting = False


def _count_waits() -> None:
    """Wrap ``wait_quiet`` where settling (``_recorder``) and the clean run's pace (``_pace``)
    call it, adding each wait's real seconds to ``_waited``. Done at the first test: the
    controller, which runs none, never imports the engine."""
    global _counting
    if _counting:
        return
    _counting = True
    from harness.engine import _pace, _recorder

    def counted(into: str, wait: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.monotonic()
            try:
                return await wait(*args, **kwargs)
            finally:
                _waited[into] += time.monotonic() - began

        return timed

    _recorder.wait_quiet = counted("settled", _recorder.wait_quiet)
    _pace.wait_quiet = counted("paced", _pace.wait_quiet)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Generator[None, Any, None]:
    _count_waits()
    _waited.update(settled=0.0, paced=0.0)
    before, started = cpu(), time.monotonic()
    yield
    used, wall = cpu() - before, time.monotonic() - started
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"{_OUT}-{worker}.jsonl", "a") as log:
        row = {"id": item.nodeid, "cpu": round(used, 3), "wall": round(wall, 3)}
        row.update({name: round(seconds, 3) for name, seconds in _waited.items()})
        log.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="Sums of the logs, by module and by test.")
    parser.add_argument("prefix", help="CPU_PER_TEST of the run")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--durations", type=Path, help="write the walls of 2 s or more here")
    args = parser.parse_args()
    rows = [
        json.loads(line)
        for path in sorted(Path(args.prefix).parent.glob(Path(args.prefix).name + "-*.jsonl"))
        for line in path.read_text().splitlines()
    ]
    print(f"{len(rows)} tests, {sum(r['cpu'] for r in rows):.1f} CPU-s")
    walls, settled = sum(r["wall"] for r in rows), sum(r.get("settled", 0.0) for r in rows)
    paced = sum(r.get("paced", 0.0) for r in rows)
    print(f"walls {walls:.1f} s: settling {settled:.1f} s, the clean runs' pace {paced:.1f} s")
    modules: dict[str, list[float]] = collections.defaultdict(lambda: [0.0, 0, 0.0])
    for row in rows:
        module = modules[row["id"].partition("::")[0]]
        module[0] += row["cpu"]
        module[1] += 1
        module[2] += row["wall"]
    for name, (used, count, wall) in sorted(modules.items(), key=lambda m: -m[1][0])[: args.top]:
        print(f"{used:7.1f} CPU-s {int(count):5d} tests {wall:8.1f} s  {name}")
    for row in sorted(rows, key=lambda r: -r["cpu"])[: args.top]:
        print(f"{row['cpu']:7.2f} CPU-s {row['wall']:8.1f} s  {row['id']}")
    if args.durations:
        walls = {row["id"]: round(row["wall"], 1) for row in rows if row["wall"] >= LONGER_THAN}
        ordered = dict(sorted(walls.items(), key=lambda item: (-item[1], item[0])))
        args.durations.write_text(json.dumps(ordered, indent=0) + "\n")
        print(f"{len(ordered)} tests of {LONGER_THAN:g} s or more written to {args.durations}")


if __name__ == "__main__":
    main()
