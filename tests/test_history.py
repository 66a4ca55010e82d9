import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from harness._errors import InputError
from harness._history import InvariantSpec, Journal, RunInfo, load, load_all, run_ids
from harness._model import Delivery, Effect, Event, Fault, Model, Outcome


def info(run_id: str = "r1") -> RunInfo:
    return RunInfo(
        run_id,
        "duplicate-storm",
        7,
        "http://127.0.0.1:1/h",
        "t",
        Model.LEDGER,
        (InvariantSpec("ack_within", {"seconds": 1.5}),),
        "2026-11-24T00:00:00+00:00",
        "zqabc",
        "desc",
        {"downstream": "127.0.0.1:9100"},
    )


def test_round_trip(tmp_path: Path) -> None:
    j = Journal(tmp_path / "run.db")
    events = [Event("e1", "k1", 0, "order.paid", 0.0, {"a": [1, "x"]}, {"h": "v"})]
    j.begin(info(), events, [Fault("crm", "status", 1.0, 2.0, {"status": 503})])
    d = Delivery("dlv_1", "e1", 1, 0.0, 0.01, 0.02, 200, Outcome.OK)
    timeout = Delivery("dlv_2", "e1", 2, 0.0, 0.01, None, None, Outcome.INDETERMINATE, "slow")
    eff = Effect("eff_1", "api", 0.5, "POST", "/payouts", {"A": "b"}, '{"x":1}', 201, ("e1",), "k1")
    j.delivery(d)
    j.delivery(timeout)
    j.effect(eff)
    j.mark(0.7, "settling")
    j.end("complete", 1.0)
    j.close()
    h = load(tmp_path / "run.db", "r1")
    assert h.info == info()
    assert h.events == events and h.deliveries == [d, timeout] and h.effects == [eff]
    assert h.faults[0].params == {"status": 503}
    assert h.marks[0].name == "settling"
    assert (h.status, h.ended_at) == ("complete", 1.0)
    assert timeout.latency is None and d.latency == pytest.approx(0.01)


def test_several_runs_in_one_journal(tmp_path: Path) -> None:
    j = Journal(tmp_path / "run.db")
    for rid in ("a", "b"):
        j.begin(info(rid), [])
        j.end("complete", 0.0)
    j.close()
    assert run_ids(tmp_path / "run.db") == ["a", "b"]
    assert [h.info.run_id for h in load_all(tmp_path / "run.db")] == ["a", "b"]


def test_killed_writer_keeps_what_was_flushed(tmp_path: Path) -> None:
    db = tmp_path / "killed.db"
    script = f"""
import os
from harness._history import Journal, RunInfo, InvariantSpec
from harness._model import Delivery, Model, Outcome
j = Journal({str(db)!r}, batch=10)
j.begin(RunInfo("r", "s", 1, "t", "t", Model.LEDGER, (), "now", "zqabc"), [])
for i in range(25):
    j.delivery(Delivery(f"d{{i}}", "e", 1, 0.0, 0.0, 0.1, 200, Outcome.OK))
os._exit(9)  # no close, no end: as if killed
"""
    subprocess.run([sys.executable, "-c", script], check=False)
    h = load(db, "r")
    assert h.status == "running"
    assert len(h.deliveries) == 20  # two full batches were flushed, the last 5 were in memory


def test_bad_journal_paths(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such journal file"):
        load_all(tmp_path / "missing.db")
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite at all" * 100)
    with pytest.raises(InputError, match="not a harness journal"):
        load_all(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(InputError, match="not a harness journal"):
        load_all(other)
    j = Journal(tmp_path / "ok.db")
    j.close()
    with pytest.raises(InputError, match="no run 'zz'"):
        load(tmp_path / "ok.db", "zz")
