"""Document numbers followed by value (drive._carried, docs/correlation.md "Document numbers"):
an invoice's ``number``, an order's ``order_number`` (its ``#1001`` name), a tracking number.
The run makes each its own but cannot put a token in it, so an effect carrying one is matched by
value: the one event holding it, the record whose events share it, or nobody where events of
several records hold it — never one of two events that share it."""

from __future__ import annotations

import json

import pytest

from harness.core._model import Event
from harness.core._scenario import TracerSpec
from harness.drive import _carried
from harness.drive._carried import document_numbers
from harness.drive._correlate import Correlation
from harness.drive._event_batch import EventBatch
from harness.drive._synthetic_text import laid_batches
from harness.drive._tracer import Tracer
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

TAG = "zqtestab"
HEADERS = {"Content-Type": "application/json"}


def invoice(seq: int, customer: str, number: str) -> Event:
    """An ``invoice.paid`` event as sent: its id a token, its invoice's number none."""
    payload = {
        "id": f"evt_{TAG}e{seq}",
        "data": {"object": {"id": f"in_{TAG}e{seq}", "customer": customer, "number": number}},
    }
    return Event(f"evt_{TAG}e{seq}", customer, seq, "invoice.paid", 0.0, payload)


EVENTS = [
    invoice(0, "cus_a", "0W39BDTH-0001"),
    invoice(1, "cus_a", "JK72SQTU-0002"),
    invoice(2, "cus_a", "JK72SQTU-0002"),  # the same number twice in one record
    invoice(3, "cus_b", "CR46TGO5-0003"),
    invoice(4, "cus_c", "CR46TGO5-0003"),  # ... and in two records
    invoice(5, "cus_c", "DRRWOQOO-0004"),  # drawn without a digit
]


def entry(number: str) -> str:
    return json.dumps({"doc_number": number, "amount_paid": 3126, "currency": "usd"})


def test_the_document_numbers_of_a_payload_are_those_the_run_made_its_own() -> None:
    text = json.dumps(
        {
            "number": "6C2E1A3B-0002",
            "tracking_number": "1Z2345E60312345678",
            "order_number": 2055997325,
            "lines": [{"number": "DRRWOQOO-0004"}],
            "credit_note": {"number": "6C2E1A3B-0002-CN-01"},
            "transferNumber": "tr_1PgcQ8fK2mZx9a",
            # Kept as drawn from the seed, or counted: not the run's own.
            "phone_number": "+1 415-555-0123",
            "sequence_number": 12345678901,
            "receipt_number": "1234-5678",
            # Too short to tell from a count, and a tracer token (the tracer's).
            "orderNumber": 1001,
            "invoice_number": f"INV-{TAG}e3",
            "amount": 2055997325,
        }
    )
    assert list(document_numbers(text, TAG)) == [
        "6C2E1A3B-0002",
        "1Z2345E60312345678",
        "2055997325",
        "DRRWOQOO-0004",
        "6C2E1A3B-0002-CN-01",
        "tr_1PgcQ8fK2mZx9a",
    ]
    assert list(document_numbers('{"customer": "cus_a", "amount": 100}', TAG)) == []


def test_a_number_of_one_event_names_it_of_one_record_the_record_and_of_several_nobody() -> None:
    f = Correlation(Tracer(TAG, EVENTS)).for_downstream("ledger")
    assert f("POST", "/entries", HEADERS, entry("0W39BDTH-0001")) == ((EVENTS[0].id,), "cus_a")
    assert f("POST", "/entries", HEADERS, entry("DRRWOQOO-0004")) == ((EVENTS[5].id,), "cus_c")
    # Shared by two events: neither of them, whatever the order they came in.
    assert f("POST", "/entries", HEADERS, entry("JK72SQTU-0002")) == ((), "cus_a")
    assert f("POST", "/entries", HEADERS, entry("CR46TGO5-0003")) == ((), None)
    # In a path, a query, a sentence; a prefix or a sequence alone names nothing.
    assert f("GET", "/entries/0W39BDTH-0001?x=1", HEADERS, "")[0] == (EVENTS[0].id,)
    assert f("POST", "/notes", HEADERS, '{"text": "paid 0W39BDTH-0001 today"}')[0] == (
        EVENTS[0].id,
    )
    assert f("POST", "/entries", HEADERS, entry("0W39BDTH")) == ((), None)
    assert f("POST", "/entries", HEADERS, entry("0001")) == ((), None)


def test_a_final_state_record_is_attributed_by_its_number_too() -> None:
    correlation = Correlation(Tracer(TAG, EVENTS))
    assert correlation.attribute_text(entry("0W39BDTH-0001")) == ((EVENTS[0].id,), "cus_a")
    assert correlation.attribute_text(entry("CR46TGO5-0003")) == ((), None)


@pytest.mark.parametrize(
    "spec", [TracerSpec(rewrite=False), TracerSpec(rewrite=True, paths=("$.id",))]
)
def test_numbers_are_not_followed_where_the_run_did_not_make_its_ids_its_own(
    spec: TracerSpec,
) -> None:
    """Sent as recorded (or but for some paths), a number is the recording's in every run
    that sends it: an earlier run's late write would be taken for this run's event."""
    correlation = Correlation(Tracer(TAG, EVENTS), spec=spec)
    f = correlation.for_downstream("ledger")
    assert f("POST", "/entries", HEADERS, entry("0W39BDTH-0001")) == ((), None)
    assert "numbers" not in correlation.settings()["tracer"]


def test_a_recording_replayed_with_ids_of_its_own_follows_its_numbers() -> None:
    correlation = Correlation(Tracer(TAG, EVENTS), spec=TracerSpec(rewrite=False, ids=True))
    f = correlation.for_downstream("ledger")
    assert f("POST", "/entries", HEADERS, entry("0W39BDTH-0001")) == ((EVENTS[0].id,), "cus_a")
    assert correlation.settings()["tracer"] == {"rewrite": "ids", "numbers": 4}


def test_past_the_most_held_a_held_number_still_learns_who_shares_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run of millions of events holds at most ``_MOST`` numbers: one not held names nobody,
    and one held that a later event of another record holds too is nobody's, not the first's."""
    monkeypatch.setattr(_carried, "_MOST", 1)
    events = [invoice(0, "cus_b", "CR46TGO5-0003"), *EVENTS[:3], EVENTS[4]]
    events = [Event(f"e{n}", e.key, n, e.type, 0.0, e.payload) for n, e in enumerate(events)]
    f = Correlation(Tracer(TAG, events)).for_downstream("ledger")
    assert f("POST", "/entries", HEADERS, entry("0W39BDTH-0001")) == ((), None)  # not held
    assert f("POST", "/entries", HEADERS, entry("CR46TGO5-0003")) == ((), None)


def test_a_streamed_run_follows_the_numbers_of_the_events_made_so_far() -> None:
    """A streamed run's tracer holds its events payload-less: the numbers are read from each
    batch's texts as it is made, before any of its events is sent."""
    spec = _library_source(
        SyntheticDoc(library="stripe:invoice.paid", events=600, records=80, over=30.0)
    )
    batches = [b for b in laid_batches(spec, 5, TAG) if isinstance(b, EventBatch)]
    assert len(batches) == 3 and all(b.tokens is not None for b in batches)
    tracer = Tracer(TAG, columns=True)
    f = Correlation(tracer).for_downstream("ledger")  # as prepare makes it: no event yet
    numbers: list[tuple[str, str, str]] = []
    for batch in batches:
        assert f("POST", "/entries", HEADERS, entry("0W39BDTH-0001")) == ((), None)
        tracer.extend_made(batch)
        for text, event_id, key in zip(batch.texts, batch.ids, batch.keys, strict=True):
            numbers.append((json.loads(text)["data"]["object"]["number"], event_id, key))
    assert len({n for n, _, _ in numbers}) == 600  # each invoice's own
    for number, event_id, key in numbers:
        body = json.dumps({"doc_number": number, "customer": "x"})
        assert f("POST", "/entries", HEADERS, body) == ((event_id,), key)


def test_an_order_is_named_by_its_name_written_from_its_renumbered_count() -> None:
    """Shopify's ``name`` ("#1001") is its ``order_number``, renumbered per run as an id."""
    order = Event(
        "6100000000001",
        "7381952046117",
        0,
        "orders/create",
        0.0,
        {"id": 6100000000001, "order_number": 2055997325, "name": "#2055997325"},
    )
    f = Correlation(Tracer(TAG, [order])).for_downstream("slips")
    assert f("POST", "/slips", HEADERS, '{"order": "#2055997325"}') == (
        (order.id,),
        order.key,
    )
