"""``harness export --redacted`` over every table of a journal: the report fixture's run (secrets
in payloads, event headers, effect headers, bodies and a query) written with an answer body, a
mark and a final state that hold secrets too; the copy holds none of them and is judged alike."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from harness.core._model import Delivery, Outcome, StateRecord
from harness.history import History, Journal, load_all

from .conftest import harness
from .test_report import CARD, EMAILS, SECRETS, SIGNING_SECRET, fixture_history

PASSWORD = "db-password-seed-77"


def _write(history: History, path: Path) -> None:
    journal = Journal(path)
    journal.begin(history.info, history.events, history.faults)
    for d in history.deliveries:
        journal.delivery(d)
    for e in history.effects:
        journal.effect(e)
    journal.mark(1.0, "note", f"customer {EMAILS[0]} paid with {CARD}")
    journal.states(
        [StateRecord("payments", "/payouts", "po_1", {"email": EMAILS[1], "card": int(CARD)})]
    )
    journal.end("complete", 3.6)
    journal.close()


def _leaky_history() -> History:
    h = fixture_history()
    refused = Delivery(
        "dlv_000099", h.events[11].id, 2, 3.0, 3.0, 3.01, 500, Outcome.FAILED, None,
        json.dumps({"error": "boom", "password": PASSWORD}),
    )  # fmt: skip
    return dataclasses.replace(h, deliveries=[*h.deliveries, refused])


def test_the_export_holds_no_secret_and_is_judged_alike(tmp_path: Path) -> None:
    journal = tmp_path / "run.db"
    _write(_leaky_history(), journal)
    raw = journal.read_bytes()
    assert all(s.encode() in raw for s in (SIGNING_SECRET, CARD, PASSWORD, EMAILS[0]))

    env = {"HARNESS_SECRET": SIGNING_SECRET}
    done = harness("export", str(journal), "-o", "shared.db", "--redacted", cwd=tmp_path, env=env)
    assert done.code == 0, done.err
    assert "1 run of" in done.err
    shared = (tmp_path / "shared.db").read_bytes()
    assert [s for s in (*SECRETS, PASSWORD) if s.encode() in shared] == []
    assert not list(tmp_path.glob(".harness-export-*"))  # no stray temporary file

    (copy,) = load_all(tmp_path / "shared.db")
    assert copy.states[0].body["card"] == copy.events[0].payload["data"]["card_number"]
    assert "[redacted" in copy.marks[0].detail
    for name in ("run", "shared"):
        out = harness("report", f"{name}.db", "-o", f"{name}.json", cwd=tmp_path, env=env)
        assert out.code == 1, out.err

    def verdicts(name: str) -> list[tuple[str, str, str]]:
        (run,) = json.loads((tmp_path / f"{name}.json").read_text())["runs"]
        return [(v["invariant"], v["status"], v["summary"]) for v in run["verdicts"]]

    assert verdicts("shared") == verdicts("run")


def test_export_of_what_is_no_journal_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.db").write_text("not sqlite")
    done = harness("export", "notes.db", "-o", "out.db", "--redacted", cwd=tmp_path)
    assert done.code == 2 and "not a harness journal" in done.err
    assert not (tmp_path / "out.db").exists()
