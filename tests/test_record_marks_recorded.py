"""A recording's record-level emails (``drive._record_marks``): traced for a comparison of
final states, an email that several events of one record carry, and no other record's, is
marked with the record's token — a customer's checkouts reach the target with one email, so a
find-or-create by email can race as it does in production. Before, each event's token made it
one email per checkout, and the race could not happen."""

from __future__ import annotations

import json
from pathlib import Path

from harness.core._model import Event
from harness.core._scenario import DeliverySpec, InvariantSpec, RecordedSource, Scenario
from harness.drive._record_marks import record_marks
from harness.drive._tracer import Tracer
from harness.engine._options import RunOptions
from harness.engine._prepare import prepare

TAG = "zqrecmarks"


def checkout(n: int, customer: str, mail: str, support: str) -> dict[str, object]:
    return {
        "id": f"evt_{n}",
        "key": customer,
        "type": "checkout.session.completed",
        "occurred_at": f"2026-01-01T00:00:0{n}Z",
        "payload": {
            "id": f"evt_{n}",
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": f"cs_{n}",
                    "customer": customer,
                    "customer_details": {"email": mail, "name": "Ada Lovelace"},
                    "support_email": support,  # every customer's checkouts carry it
                }
            },
        },
    }


LINES = [
    checkout(1, "cus_a", "ada@example.com", "help@shop.example"),
    checkout(2, "cus_a", "ada@example.com", "help@shop.example"),
    checkout(3, "cus_b", "bob@example.com", "help@shop.example"),
    checkout(4, "cus_b", "bob@example.com", "help@shop.example"),
    checkout(5, "cus_c", "cy@example.com", "help@shop.example"),  # one checkout
]


def mails(ev: Event) -> tuple[str, str]:
    obj = ev.payload["data"]["object"]
    return obj["customer_details"]["email"], obj["support_email"]


def prepared(tmp_path: Path, *invariants: str) -> list[Event]:
    path = tmp_path / "checkouts.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    scenario = Scenario(
        "recorded",
        RecordedSource(path, over=1.0),
        delivery=DeliverySpec(signing="none"),
        invariants=tuple(InvariantSpec(name) for name in invariants),
    )
    options = RunOptions.create("http://127.0.0.1:9/h", seed=5, journal=tmp_path / "j.db")
    return list(prepare(scenario, options, tag=TAG).events)


def test_a_customers_recorded_checkouts_carry_one_email_marked_with_its_record(
    tmp_path: Path,
) -> None:
    events = prepared(tmp_path, "final_state_matches_baseline")
    tracer = Tracer(TAG, events)
    by_key: dict[str, set[str]] = {}
    for ev in events:
        mail, support = mails(ev)
        by_key.setdefault(ev.key, set()).add(mail)
        # Shared by every record: the event's, as before.
        assert support == f"help+{TAG}e{ev.seq}@shop.example", support
    twice = [k for k, found in by_key.items() if len(found) == 1 and "cy" not in next(iter(found))]
    assert len(twice) == 2, by_key  # cus_a's and cus_b's checkouts: one email each
    for key in twice:
        [mail] = by_key[key]
        assert tracer.attribute(mail) == ((), key), mail  # the record's, no event's
    [cy] = [ev for ev in events if mails(ev)[0].startswith("cy")]
    assert mails(cy)[0] == f"cy+{TAG}e{cy.seq}@example.com"  # one checkout: its own


def test_a_recording_sent_as_recorded_keeps_its_emails(tmp_path: Path) -> None:
    """Without a comparison of final states a recording is not traced beyond its ids: its
    emails are as recorded, one per customer already."""
    events = prepared(tmp_path, "no_lost_events")
    assert {mails(ev)[0] for ev in events} == {
        "ada@example.com",
        "bob@example.com",
        "cy@example.com",
    }


def test_record_marks_names_only_emails_of_one_record_seen_more_than_once() -> None:
    events = [
        Event(str(line["id"]), str(line["key"]), n, "t", 0.0, line["payload"])
        for n, line in enumerate(LINES)
    ]
    marks = record_marks(events)
    assert {eid: m.emails for eid, m in marks.items()} == {
        "evt_1": frozenset({"ada@example.com"}),
        "evt_2": frozenset({"ada@example.com"}),
        "evt_3": frozenset({"bob@example.com"}),
        "evt_4": frozenset({"bob@example.com"}),
    }
