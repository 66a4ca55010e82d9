"""A find-or-create by email (tests/gallery/chained_accounts.py) replayed from a recording of
Stripe's own event objects, as a user starts: ``harness init --events events.jsonl``, then
``harness run simultaneous-same-record``. Two things made the race invisible on a recording:
init keyed each checkout by its own session (the export's reader takes the event's object as its
record), so no two events shared a record; and, traced for the comparison of final states, each
checkout's email carried its own event's token, so no look-up could find another's account. A
customer's checkouts now share its record and its one email (``drive._record_marks``). And
judged by the hazard's register, two of a customer's three checkouts were 'superseded' (a
lost subscription would pass): a recording whose types the payload library knows is judged by
their model, a ledger for checkouts (``scenario._project.recorded_model``)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from harness.core._model import Model
from harness.core._scenario import RecordedSource
from harness.history import load_all
from harness.scenario._project import events_flag, recorded_model

from .test_gallery import QUICK, said
from .test_gallery_round8 import hazards, project
from .test_init import LIBRARY

pytestmark = pytest.mark.integration

STRIPE = {"STRIPE_WEBHOOK_SECRET": "whsec_gallery0recorded0race0not0real"}  # the test's own
NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov"]
NAMES += ["Donald Knuth", "Frances Allen", "Ken Thompson", "Radia Perlman", "John Backus"]


def recording(path: Path) -> Path:
    """Three checkouts for each of ten customers, one email each, as Stripe lists them."""
    example = json.loads((LIBRARY / "stripe" / "checkout.session.completed.json").read_text())
    lines = []
    for n in range(len(NAMES) * 3):
        name = NAMES[n // 3]
        event = json.loads(json.dumps(example["payload"]))
        event["id"], event["created"] = f"evt_rec{n:03d}", 1722249417 + 10 * n
        session = event["data"]["object"]
        session["id"], session["customer"] = f"cs_test_rec{n:03d}", f"cus_rec{n // 3:02d}"
        session["customer_details"]["name"] = name
        session["customer_details"]["email"] = name.lower().replace(" ", ".") + "@example.com"
        lines.append(json.dumps(event))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_recorded_customers_checkouts_race_its_find_or_create(tmp_path: Path) -> None:
    events = str(recording(tmp_path / "events.jsonl"))
    with project(tmp_path, "chained_accounts", "/webhooks/stripe", STRIPE, events):
        _, found = hazards(tmp_path, "simultaneous-same-record", *QUICK, env=STRIPE)
    [db] = (tmp_path / "harness-runs").glob("*.db")
    raced = next(r for r in load_all(db) if r.info.scenario == "simultaneous-same-record")
    emails: dict[str, set[str]] = {}
    for ev in raced.events:
        email = ev.payload["data"]["object"]["customer_details"]["email"]
        emails.setdefault(ev.key, set()).add(email)
    assert len(emails) == len(NAMES), sorted(emails)  # one record a customer
    for key, found_emails in emails.items():
        [email] = found_emails  # one email for the customer's checkouts
        number = re.search(r"k(\d+)$", key)
        assert number is not None and f"k{number.group(1)}@" in email, (key, email)
    made = Counter(
        next(v.key for v in raced.events if v.id == e.event_ids[0])
        for e in raced.effects
        if e.method == "POST" and e.path == "/accounts" and e.status == 201 and e.event_ids
    )
    twice = {key for key, n in made.items() if n > 1}
    repeated = found["simultaneous-same-record"]["no_duplicate_effects"]
    assert repeated["status"] == ("fail" if twice else "pass"), said(repeated)
    if twice:
        assert "simultaneous events racing a find-or-create" in repeated["summary"]
    # The export's times ($.created) differ: writes not judged were the older event's,
    # still unanswered when the newer's was written — not "the same time".
    order = found["simultaneous-same-record"]["per_key_order"]["summary"]
    if "not judged" in order:
        assert "or the older still unanswered when the newer was written" in order, order
    assert raced.info.model is Model.LEDGER  # judged as checkouts are, not as the register
    lost = found["simultaneous-same-record"]["no_lost_events"]
    assert "superseded" not in lost["summary"], said(lost)


def test_a_recordings_model_is_its_library_types_where_they_agree(tmp_path: Path) -> None:
    checkouts = recording(tmp_path / "checkouts.jsonl")
    assert recorded_model(RecordedSource(checkouts)) is Model.LEDGER
    updated = json.loads((LIBRARY / "stripe" / "customer.subscription.updated.json").read_text())[
        "payload"
    ]
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(checkouts.read_text() + json.dumps(updated) + "\n")
    assert recorded_model(RecordedSource(mixed)) is None  # a ledger's and a register's
    alone = tmp_path / "updated.jsonl"
    alone.write_text(json.dumps(updated) + "\n")
    assert recorded_model(RecordedSource(alone)) is Model.REGISTER
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text(json.dumps({"id": "e1", "key": "k1", "payload": {"amount": 1}}) + "\n")
    assert recorded_model(RecordedSource(unknown)) is None


def test_a_recordings_model_reads_every_event_not_its_first_thousand(tmp_path: Path) -> None:
    """A register's updates after a ledger's thousand checkouts (or the other way round): the
    model of the first thousand judged them all, and as a register a customer's older
    checkouts were owed nothing — a lost one would pass. docs/recording.md says every type."""
    checkout = json.loads(recording(tmp_path / "one.jsonl").read_text().splitlines()[0])
    updated = json.loads((LIBRARY / "stripe" / "customer.subscription.updated.json").read_text())[
        "payload"
    ]
    late = tmp_path / "late.jsonl"
    late.write_text((json.dumps(checkout) + "\n") * 1_000 + json.dumps(updated) + "\n")
    assert recorded_model(RecordedSource(late)) is None
    late.write_text((json.dumps(updated) + "\n") * 1_000 + json.dumps(checkout) + "\n")
    assert recorded_model(RecordedSource(late)) is None


def test_events_flag_keys_an_export_as_init_does(tmp_path: Path) -> None:
    """``harness run --events events.jsonl`` without a project: the same key init writes, where
    a key was each checkout's session (the export's reader's) and no two events shared one."""
    found = events_flag(str(recording(tmp_path / "checkouts.jsonl")))
    assert isinstance(found.source, RecordedSource)
    assert found.source.key_path == "$.data.object.customer"
    assert found.model is Model.LEDGER
    own = tmp_path / "own.jsonl"  # JSON lines that name their record: theirs, as before
    own.write_text(json.dumps({"id": "e1", "key": "k1", "payload": {"amount": 1}}) + "\n")
    found = events_flag(str(own))
    assert isinstance(found.source, RecordedSource) and found.source.key_path is None
