"""Do two checkouts of the harness judge the same journals the same? What a change meant to
make ``harness check`` faster must show before it is merged.

    python benchmarks/same_verdicts.py BEFORE AFTER JOURNAL_OR_FOLDER ...

BEFORE and AFTER are source trees (a ``git worktree`` of the code before, and this one). Each
journal (a folder: every ``*.db`` under it) is checked by ``harness check --report`` once with
each tree first on ``PYTHONPATH``; their exit codes, standard output and every run's verdicts
(invariant, status, class, summary, evidence) are compared. Prints one line per journal that
differs and a count; exit status 1 when any differs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

CHECK_TIMEOUT_S = 600  # one check of a million-delivery journal takes about 10 s here


def journals(paths: list[Path]) -> list[Path]:
    """The journals named, and those under the folders named, in order."""
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.rglob("*.db")) if path.is_dir() else [path])
    return found


def check(tree: Path, journal: Path, report: Path) -> tuple[int, str, list[Any]]:
    """``harness check`` of ``journal`` by the code in ``tree``: exit code, standard output and
    the verdicts of its JSON report."""
    env = {**os.environ, "PYTHONPATH": f"{tree}{os.pathsep}{tree / 'plugins'}"}
    done = subprocess.run(
        [sys.executable, "-m", "harness", "check", str(journal), "--report", str(report)],
        env=env,
        cwd=report.parent,  # not a checkout's root: ``-m`` puts the working folder first
        check=False,
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT_S,
    )
    verdicts: list[Any] = []
    if report.exists():
        runs = json.loads(report.read_text(encoding="utf-8"))["runs"]
        verdicts = [(r["run_id"], r["verdicts"]) for r in runs]
    return done.returncode, done.stdout, verdicts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the source tree of the code before")
    parser.add_argument("after", type=Path, help="the source tree of the code after")
    parser.add_argument("journals", type=Path, nargs="+", help="journals, or folders of them")
    args = parser.parse_args()
    found = journals(args.journals)
    differ = verdicts = 0
    with tempfile.TemporaryDirectory() as scratch:
        for n, journal in enumerate(found):
            before = check(args.before.resolve(), journal.resolve(), Path(scratch, f"{n}.b.json"))
            after = check(args.after.resolve(), journal.resolve(), Path(scratch, f"{n}.a.json"))
            verdicts += sum(len(v) for _, v in before[2])
            if before != after:
                differ += 1
                print(f"differs: {journal}")
    print(
        f"{len(found)} journals, {len(found) - differ} judged the same (exit code, standard "
        f"output, {verdicts} verdicts), {differ} not"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
