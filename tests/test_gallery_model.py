"""A project's events whose model nobody gave, judged by a hazard that assumes one.

``harness init`` over a contact sync's own example (``contact.updated`` with a ``contact_id``,
which no library payload's paths fit) wrote no ``model:``, and the built-in hazards judged the
events by their own: ``downstream-outage`` as a ledger, ``out-of-order`` as a register. Against
``stale_guard`` (tests/gallery: keeps each contact's newest state, answers an older update 200
and writes nothing) the outage's retried updates, answered after a newer one of their contact
was written, were called "lost ... dropped, not slow" — a correct automation failed. Which it
is turns on what the events mean, which nobody said: inconclusive, saying how to say it
(``invariants/_newer_first``); declared, judged by it. ``swallowed_errors`` (every error logged
and answered 200) drops the updates the CRM refused and must still fail whatever was assumed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.history import load_all

from .conftest import SECRET, Completed, harness
from .test_gallery import QUICK, Target, automation, run, said, verdicts

pytestmark = pytest.mark.integration

CONTACTS = "/webhooks/contacts"
EXAMPLE = {
    "id": "evt_1",
    "type": "contact.updated",
    "timestamp": "2026-01-01T00:00:00.000Z",
    "data": {
        "contact_id": "con_1",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "company": "Analytical Engines Ltd",
    },
}
NOBODY_SAID = "nobody said which: the hazard assumed a {} for events[0] (contact.json)"


def _project(tmp_path: Path, target: Target, model: str | None) -> Path:
    """What ``harness init`` writes for the sync's own example, with ``model`` (or none)."""
    (tmp_path / "contact.json").write_text(json.dumps(EXAMPLE))
    project = tmp_path / "harness.yaml"
    project.write_text(
        f"target: {target.url}\n"
        "provider: standard-webhooks\n"
        "secret_env: WEBHOOK_SECRET\n"
        "events:\n"
        "  - example: contact.json\n"
        "    id: $.id\n    key: $.data.contact_id\n    type: $.type\n    time: $.timestamp\n"
        + (f"    model: {model}\n" if model else "")
        + f"downstreams:\n  - name: crm\n    port: {target.downstream_port}\n    stateful: true\n"
    )
    return project


def _run(
    tmp_path: Path, name: str, hazard: str, model: str | None, *more: str
) -> tuple[Completed, dict[str, Any]]:
    env = {"WEBHOOK_SECRET": SECRET}
    with automation(name, CONTACTS, env) as target:
        report = tmp_path / "report.json"
        done = harness(
            "run", hazard, "--project", str(_project(tmp_path, target, model)),
            "--seed", "3", "--report", str(report), "--journal", str(tmp_path / "j.db"), *QUICK,
            *more, env=env,
        )  # fmt: skip
    assert report.exists(), done.out + done.err
    return done, json.loads(report.read_text())


def test_updates_skipped_for_a_newer_state_are_not_called_lost_by_an_assumed_ledger(
    tmp_path: Path,
) -> None:
    done, report = _run(tmp_path, "stale_guard", "downstream-outage", None)
    found = verdicts(report)
    for name in ("no_lost_events", "recovers_after_outage"):
        verdict = found[name]
        assert verdict["status"] == "inconclusive", said(verdict)
        assert NOBODY_SAID.format("ledger") in verdict["summary"], said(verdict)
        assert "say `model: register` or `model: ledger` on those events" in verdict["summary"]
        # Each witness names the newer update of its contact that was written first.
        assert all("its record's newer event evt_" in line for line in verdict["evidence"]["lines"])
    assert not [v for v in found.values() if v["status"] == "fail"], found
    assert done.code == 1  # inconclusive is not a pass


def test_declared_a_register_the_skipped_updates_pass(tmp_path: Path) -> None:
    done, report = _run(tmp_path, "stale_guard", "downstream-outage", "register")
    found = verdicts(report)
    assert all(v["status"] == "pass" for v in found.values()), found
    assert "superseded updates skipped (not loss)" in found["no_lost_events"]["summary"]
    assert done.code == 0, done.out


def test_declared_a_ledger_the_skipped_updates_are_lost_and_told_why(tmp_path: Path) -> None:
    done, report = _run(tmp_path, "stale_guard", "downstream-outage", "ledger")
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert (
        "a loss where each event is its own fact, as these are declared (a ledger)"
        in (lost["summary"])
    ), said(lost)
    assert "nobody said which" not in lost["summary"]
    assert done.code == 1


def test_updates_dropped_on_an_error_stay_lost_whatever_the_model_assumed(
    tmp_path: Path,
) -> None:
    """Each refused update was written, refused and answered 200 before any newer update of
    its contact was written: a drop, not a skip. The outage at a fiftieth of its time, 4.8 s
    (the hazard's 1.2 s was missed by an app short of CPU on a loaded machine: nothing refused,
    nothing dropped, both verdicts passed)."""
    done, report = _run(
        tmp_path, "swallowed_errors", "downstream-outage", None, "--time-scale", "0.02"
    )
    [judged] = [r for r in load_all(tmp_path / "j.db") if r.baseline is not None]
    assert any(e.status == 503 for e in judged.effects), "no write met the outage"
    found = verdicts(report)
    for name in ("no_lost_events", "recovers_after_outage"):
        verdict = found[name]
        assert verdict["status"] == "fail", said(verdict)
        assert "nobody said which" not in verdict["summary"], said(verdict)
    assert done.code == 1


def test_superseded_updates_that_wrote_nothing_are_not_passed_by_an_assumed_register(
    tmp_path: Path,
) -> None:
    """Out of order, the older updates ``stale_guard`` skips wrote nothing: superseded in a
    register, lost in a ledger."""
    done, report = _run(tmp_path, "stale_guard", "out-of-order", None)
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "inconclusive", said(lost)
    assert (
        "superseded events (a newer one of their record accepted) made no write"
        in (lost["summary"])
    ), said(lost)
    assert NOBODY_SAID.format("register") in lost["summary"], said(lost)
    assert "(not loss)" not in lost["summary"]
    assert done.code == 1


def test_a_newest_wins_check_that_counts_only_confirmed_writes_is_told_why_it_went_back(
    tmp_path: Path,
) -> None:
    """Under ambiguous-commit ``stale_guard``'s PUTs land and are answered 502; it marks a
    contact only once a write is confirmed, so the sender's redelivery of an older update
    writes it again after a newer one: a stale overwrite, its cause named."""
    done, report = _run(tmp_path, "stale_guard", "ambiguous-commit", "register")
    order = verdicts(report)["per_key_order"]
    assert order["status"] == "fail", said(order)
    assert (
        "the older event's write had already landed — the API committed it and answered "
        in (order["summary"])
    ), said(order)
    assert "an ambiguous acknowledgement" in order["summary"], said(order)
    assert done.code == 1


# Each contact's two updates ten seconds apart, the second ones all in an outage the automation
# swallows; nothing in the written fields (short words) carries an event's token: the writes
# name only their contact (its key in the path).
LATE_OUTAGE = """\
name: second-updates-refused
model: register
time_scale: 0.05
source:
  recorded:
    file: contacts.jsonl
faults:
  - {downstream: crm, at: 9.9s, for: 30s, mode: status, status: 503}
invariants: [no_lost_events]
downstreams:
  - name: crm
    stateful: true
delivery: {signing: standard-webhooks, secret_env: WEBHOOK_SECRET, timeout: 5s}
settle: {quiet: 20s, deadline: 60s}
"""


def _update(n: int, contact: int, at: float) -> str:
    payload = {
        "id": f"evt_{n}",
        "type": "contact.updated",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "data": {
            "contact_id": f"con_{contact:06d}",
            "name": "Ada",
            "email": "x",
            "company": "Acme",
        },
    }
    line = {"id": f"evt_{n}", "key": f"con_{contact:06d}", "type": "contact.updated"}
    return json.dumps({**line, "occurred_at": 1_767_225_600 + at, "payload": payload})


def test_a_register_record_written_only_before_its_newest_update_is_not_passed(
    tmp_path: Path,
) -> None:
    """Each contact's first update written, its newest refused and dropped (logged, answered
    200): every contact got a write, and a register owes one — it passed ("all 10 records got
    the expected effects of their latest accepted event") while each was left on its older
    state. A write made before the newest update was sent cannot be its."""
    (tmp_path / "late.scenario.yaml").write_text(LATE_OUTAGE)
    firsts = [_update(i, i, i * 0.5) for i in range(10)]
    seconds = [_update(10 + i, i, 10 + i * 0.5) for i in range(10)]
    (tmp_path / "contacts.jsonl").write_text("\n".join(firsts + seconds) + "\n")
    env = {"WEBHOOK_SECRET": SECRET}
    with automation("swallowed_errors", CONTACTS, env) as target:
        done, report = run(target, str(tmp_path / "late.scenario.yaml"), tmp_path, *QUICK, env=env)
    lost = verdicts(report)["no_lost_events"]
    assert lost["status"] == "fail", said(lost)
    assert "10 records short of PUT /contacts/{id}" in lost["summary"], said(lost)
    # Why: the newest updates' calls were refused and never made again (swallowed).
    assert (
        "; their calls the downstream refused (10 calls answered 503) were never made again: it "
        "drops the work when a call is refused and still answers 2xx" in lost["summary"]
    ), said(lost)
    lines = lost["evidence"]["lines"]
    assert lines and all(
        "came before it, none after: none can be that event's, and the record was left on an "
        "older event's state" in line
        for line in lines
    ), said(lost)
    assert done.code == 1
