"""How well a distributed load test knows its workers' clocks: the uncertainty the master
measured (``harness_locust._clock``) on a loaded machine, tree against tree.

    python benchmarks/bench_clock.py --busy 2 --tree /path/to/main --tree .

Each round runs, for each tree in turn, a Locust master and ``--workers`` workers on loopback
(the tree's ``harness`` and ``harness_locust`` on their PYTHONPATH) delivering 8 events of
``bulk-import-burst`` to a receiver (benchmarks/_receiver.py), and reads from the run's journal
each worker's measured offset and uncertainty (``clocks`` in the run's settings). ``--busy N``
keeps N processes spinning (``while 1: pass``) for the whole benchmark, killed at its end: the
uncertainty is half the shortest round trip the master saw, which a busy machine lengthens.
Printed per run: each worker's uncertainty at its join (and, a tree that reads the clocks again
when the test ends, at the end), the run's bound (the largest), the master's and workers'
CPU-seconds, and the master's log lines of the measurements. Bounded: every run by its 8 events,
Locust's -t and a timeout; 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from _receiver import SECRET, Receiver, machine_line

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.cli._processes import free_port  # noqa: E402
from harness.history import load_all  # noqa: E402

LOCUSTFILE = """\
from harness_locust import ScenarioUser


class Bench(ScenarioUser):
    pass
"""
TIMEOUT = 120.0  # seconds a run may take, start to verdicts


def run(tree: Path, url: str, workdir: Path, workers: int) -> tuple[dict[str, object], str, float]:
    """One master and ``workers`` workers of ``tree``: the run's ``clocks`` setting, the
    master's measurement lines and the CPU-seconds of every process of the run."""
    locustfile = workdir / "locustfile.py"
    locustfile.write_text(LOCUSTFILE)
    journal = workdir / "run.db"
    journal.unlink(missing_ok=True)
    pythonpath = os.pathsep.join([str(tree), str(tree / "plugins")])
    env = {**os.environ, "HARNESS_SECRET": SECRET, "PYTHONPATH": pythonpath}
    port = free_port()
    locust = [sys.executable, "-m", "locust", "-f", str(locustfile)]
    host, path = url.split("/hooks", 1)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (workdir / "workers.log").open("w") as log:
        worker = [*locust, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
        started = [
            subprocess.Popen(worker, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
            for _ in range(workers)
        ]
        try:
            master = subprocess.run(
                [
                    *locust, "--master", "--master-bind-host", "127.0.0.1",
                    "--master-bind-port", str(port), "--expect-workers", str(workers),
                    "--expect-workers-max-wait", "60", "--headless", "--only-summary",
                    "--loglevel", "INFO", "-u", "4", "-r", "4", "-t", "30s",
                    "--host", host + "/hooks" + path, "--harness-scenario", "bulk-import-burst",
                    "--harness-events", "8", "--harness-seed", "1",
                    "--harness-downstream", f"127.0.0.1:{free_port()}",
                    "--harness-journal", str(journal),
                ],
                env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=workdir,
            )  # fmt: skip
        finally:
            for w in started:
                try:
                    w.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = [x for x in master.stderr.splitlines() if "clock is" in x]
    if not journal.is_file():
        raise SystemExit(f"no journal from {tree}: exit code {master.returncode}\n{master.stderr}")
    (history,) = load_all(journal)
    clocks = history.info.settings.get("clocks")
    if not isinstance(clocks, dict):
        raise SystemExit(f"no clocks setting in the run of {tree}")
    said = "\n".join(re.sub(r"^.*harness: ", "    ", x) for x in lines)
    return clocks, said, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tree", type=Path, action="append", help="a checkout (repeatable)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--busy", type=int, default=0, help="spinning processes beside the runs")
    args = parser.parse_args()
    trees = [t.resolve() for t in (args.tree or [REPO])]
    print(machine_line())
    spinning = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.busy)]
    found: dict[Path, list[float]] = {t: [] for t in trees}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-clock-") as tmp, Receiver() as receiver:
            for round_no in range(1, args.rounds + 1):
                for tree in trees:
                    clocks, said, cpu = run(tree, receiver.url, Path(tmp), args.workers)
                    workers = clocks["workers"]
                    assert isinstance(workers, list)
                    each = ", ".join(f"{w['uncertainty'] * 1e3:.3f}" for w in workers)
                    # Read again at the end (a tree that does): each worker's end reading, and
                    # the bound the run was judged on.
                    ends = ", ".join(
                        f"{w['end']['uncertainty'] * 1e3:.3f}" if w["end"] else "not read"
                        for w in workers
                        if "end" in w
                    )
                    u = float(clocks["uncertainty"])  # type: ignore[arg-type]
                    found[tree].append(u)
                    print(
                        f"round {round_no} {tree}: run {u * 1e3:.3f} ms (workers {each} ms"
                        + (f"; at the end {ends} ms" if ends else "")
                        + f"), {cpu:.1f} CPU-s\n{said}"
                    )
    finally:
        for p in spinning:
            p.kill()
            p.wait()
    for tree, us in found.items():
        shown = ", ".join(f"{u * 1e3:.3f}" for u in us)
        print(f"{tree}: the run's uncertainty {shown} ms (largest {max(us) * 1e3:.3f})")


if __name__ == "__main__":
    main()
