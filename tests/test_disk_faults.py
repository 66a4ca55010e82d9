"""The disk under the harness fails: a journal or a report that cannot be written is one clear
message and exit 3, and what was recorded up to then stays readable; journals in read-only
folders are still checked and reported; paths known bad are refused (exit 2) before anything
is sent.

A full disk is a small tmpfs where one can be mounted (root), else a file-size limit
(RLIMIT_FSIZE, with SIGXFSZ ignored so that writes fail with EFBIG instead of killing the
process); a read-only folder is a tmpfs remounted read-only (root ignores permissions), else a
folder without write permission.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness.core._model import Event, Model
from harness.history import Journal, RunInfo, load
from harness.history._schema import CHUNKED

from .conftest import SECRET, Automation, Completed, harness

pytestmark = pytest.mark.integration


@contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("no tmpfs can be mounted here (needs root): the RLIMIT_FSIZE case covers it")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextmanager
def _read_only(path: Path, fill: Callable[[Path], None]) -> Iterator[Path]:
    """A folder holding what ``fill`` writes, then made read-only."""
    if os.geteuid() != 0:
        path.mkdir()
        fill(path)
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)
        return
    with _tmpfs(path, "8m"):
        fill(path)
        subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)
        yield path


def _limited(max_bytes: int) -> Callable[[], None]:
    def preexec() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return preexec


def _harness_limited(max_bytes: int, *args: str) -> Completed:
    """``harness`` in a process whose files may not grow beyond ``max_bytes``."""
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "HARNESS_SECRET": SECRET, "COLUMNS": "200"},
        preexec_fn=_limited(max_bytes),
    )
    return Completed(proc.returncode, proc.stdout, proc.stderr)


def _run_args(fragile: Automation, journal: Path, *extra: str) -> list[str]:
    return [
        "run",
        "duplicate-storm",
        "--target",
        fragile.hook,
        "--downstream",
        f"127.0.0.1:{fragile.downstream_port}",
        "--journal",
        str(journal),
        "--time-scale",
        "0.05",
        "--seed",
        "3",
        *extra,
    ]


def _rows(journal: Path, table: str) -> int:
    """Rows of ``table``: of events, deliveries and effects, those its chunks hold."""
    counted = 'coalesce(sum("rows"), 0)' if table in CHUNKED else "count(*)"
    with sqlite3.connect(f"{journal.resolve().as_uri()}?mode=ro", uri=True) as db:
        return int(db.execute(f"SELECT {counted} FROM {table}").fetchone()[0])


def _assert_stopped_on_a_full_journal(done: Completed, journal: Path, table: str) -> None:
    """Exit 3 with the message, and what was committed before the disk filled (rows of
    ``table`` at least) kept and judged as an incomplete run."""
    text = done.out + done.err
    assert done.code == 3, text
    assert "the journal could not be written" in done.err and "Traceback" not in text
    assert f"harness check {journal}" in done.err
    assert _rows(journal, table) > 0
    checked = harness("check", str(journal))
    assert checked.code == 3, checked.out + checked.err
    assert "is incomplete" in checked.err and "Traceback" not in checked.err


def test_a_full_disk_for_the_journal_stops_the_run_with_exit_3_keeping_what_was_recorded(
    fragile: Automation, tmp_path: Path
) -> None:
    # Smaller than the run's write-ahead log, so that the disk fills while the run writes
    # whenever the checkpointer copies. At 300k a run sent fast enough (dc11e5e spared each
    # drive a full collection) fitted in the log whole and only the last copy at close was
    # refused: the other full-disk outcome, which the file-size-limit test below covers.
    with _tmpfs(tmp_path / "small", "200k") as small:
        journal = small / "run.db"
        done = harness(*_run_args(fragile, journal))
        _assert_stopped_on_a_full_journal(done, journal, "deliveries")


def test_a_file_size_limit_for_the_journal_stops_the_run_with_exit_3(
    fragile: Automation, tmp_path: Path
) -> None:
    journal = tmp_path / "run.db"
    # The run's journal ends near 190 kB. Where the limit is met depends on when the
    # checkpointer copies the write-ahead log into the .db: the log reaches it first, or a
    # copy into the .db does (the run stops at its next write), or the last copy at close
    # does (the run was recorded whole, in the .db and its -wal together).
    done = _harness_limited(150_000, *_run_args(fragile, journal))
    if "could not be copied" in done.err:
        assert done.code == 3 and "Traceback" not in done.out + done.err
        assert Path(f"{journal}-wal").exists()
        assert harness("check", str(journal)).code == 1  # every verdict, from both files
    else:
        _assert_stopped_on_a_full_journal(done, journal, "events")


_GROW_A_FULL_JOURNAL = """
import json, sys, time
from harness.core._errors import OutputError
from harness.core._model import Delivery, Event, Model, Outcome
from harness.history import Journal, RunInfo
j = Journal(sys.argv[1], batch=1)
j.begin(RunInfo("b", "s", 1, "t", "t", Model.LEDGER, (), "now", "zqabc"),
        [Event(f"b{i}", "k", i, "t", 0.0, {"pad": "y" * 200}) for i in range(100)])
try:
    if sys.argv[2] == "mid-run":
        for _ in range(200):  # bounded: the checkpointer copies every second
            if j._checkpointer.error is not None:
                break
            time.sleep(0.05)
        j.delivery(Delivery("d1", "b0", 1, 0.0, 0.0, 0.1, 200, Outcome.OK))
    j.end("complete", 1.0)
    j.close()
except OutputError as exc:
    print(json.dumps(str(exc)))
"""


@pytest.mark.parametrize("where", ["mid-run", "at-close"])
def test_a_journal_file_that_cannot_grow_is_reported_and_its_log_kept(
    tmp_path: Path, where: str
) -> None:
    """A file-size limit on the .db alone (its write-ahead log still grows): the checkpointer's
    refused copy mid-run stops the run at its next write; a refused last copy at close is an
    error too; every row stays readable from the .db and its -wal together."""
    journal = tmp_path / "run.db"
    first = Journal(journal)
    events = [Event(f"a{i}", "k", i, "t", 0.0, {"pad": "x" * 200}) for i in range(2_000)]
    first.begin(RunInfo("a", "s", 1, "t", "t", Model.LEDGER, (), "now", "zqabc"), events)
    first.end("complete", 1.0)
    first.close()
    done = subprocess.run(
        [sys.executable, "-c", _GROW_A_FULL_JOURNAL, str(journal), where],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited(journal.stat().st_size),  # the .db may not grow; its -wal may
    )
    assert done.returncode == 0, done.stderr
    message = json.loads(done.stdout)
    assert message.startswith(f"{journal}: the journal could not be written ("), message
    run = load(journal, "b")
    if where == "mid-run":
        assert "the run stopped there" in message and run.status == "running"
    else:
        assert f"every row is kept, in the file and {journal}-wal together" in message
        assert run.status == "complete"
    assert len(run.events) == 100 and Path(f"{journal}-wal").exists()


def test_a_full_disk_for_the_report_exits_3_and_the_journal_keeps_the_run(
    fragile: Automation, tmp_path: Path
) -> None:
    journal = tmp_path / "run.db"
    with _tmpfs(tmp_path / "small", "16k") as small:
        done = harness(*_run_args(fragile, journal, "--report", str(small / "r.html")))
        text = done.out + done.err
        assert done.code == 3, text
        assert "the report could not be written" in done.err and "Traceback" not in text
        assert not list(small.iterdir()), "a partial report or temporary file was left"
        again = harness("report", str(journal), "-o", str(small / "r.html"))
        assert again.code == 3 and "the report could not be written" in again.err
    checked = harness("check", str(journal))
    assert checked.code in (0, 1), checked.out + checked.err  # the run itself is complete


def test_a_file_size_limit_for_the_report_exits_3(fragile: Automation, tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    assert harness(*_run_args(fragile, journal)).code in (0, 1)
    done = _harness_limited(10_000, "report", str(journal), "-o", str(tmp_path / "r.html"))
    assert done.code == 3, done.out + done.err
    assert "the report could not be written" in done.err and "Traceback" not in done.err
    assert not (tmp_path / "r.html").exists()


def test_journals_in_a_read_only_folder_are_checked_and_reported(
    fragile: Automation, tmp_path: Path
) -> None:
    complete = tmp_path / "complete.db"
    assert harness(*_run_args(fragile, complete)).code in (0, 1)
    shutil.copy(complete, tmp_path / "killed.db")
    db = sqlite3.connect(tmp_path / "killed.db")  # as a killed run leaves it: in WAL mode
    db.execute("PRAGMA journal_mode=WAL")
    with db:
        db.execute("UPDATE runs SET status = 'running'")
    db.close()  # copies the log into the .db, which stays in WAL mode

    def fill(folder: Path) -> None:
        shutil.copy(complete, folder / "complete.db")
        shutil.copy(tmp_path / "killed.db", folder / "killed.db")

    with _read_only(tmp_path / "ro", fill) as ro:
        checked = harness("check", str(ro / "complete.db"))
        assert checked.code in (0, 1), checked.out + checked.err
        reported = harness("report", str(ro / "complete.db"), "-o", str(tmp_path / "r.md"))
        assert reported.code in (0, 1), reported.out + reported.err
        killed = harness("check", str(ro / "killed.db"))
        assert killed.code == 3, killed.out + killed.err
        assert "incomplete (running" in killed.err and "Traceback" not in killed.err
        assert sorted(p.name for p in ro.iterdir()) == ["complete.db", "killed.db"]
        # Writing there is refused before anything is sent; so is writing where the folder's
        # permission bits allow it but no file can be made (/proc, even for root).
        for refused in (
            harness(*_run_args(fragile, ro / "new.db")),
            harness(*_run_args(fragile, tmp_path / "j.db", "--report", str(ro / "r.html"))),
            harness(*_run_args(fragile, Path("/proc/new.db"))),
            harness(*_run_args(fragile, tmp_path / "k.db", "--report", "/proc/r.html")),
        ):
            assert refused.code == 2, refused.out + refused.err
            assert "no file can be created in" in refused.err, refused.err
            assert "Traceback" not in refused.err
            assert "deliveries planned" not in refused.err  # nothing was sent
