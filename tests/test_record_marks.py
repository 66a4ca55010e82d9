"""Whose a synthetic event's values are (``_tracer.Marks``): a record's own emails carry the
record's tracer token, so that a customer's checkouts carry one email, as a real customer's do;
where the key names another object (a checkout's ``customer``), the event's own object's id (the
session's ``cs_…``) carries the event's token, so that a write naming the session is still the
event's. The same made as objects, as text, and under an explicit ``schedule:``."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from harness.core._model import Event
from harness.core._scenario import DeliverySpec, PlannedDelivery, Scenario, TracerSpec
from harness.core._text_event import TextEvent, payload_json
from harness.drive._sources import Shape, checked
from harness.drive._synthetic_text import traced_objects, traced_synthetic
from harness.drive._tracer import Tracer
from harness.engine._options import RunOptions
from harness.engine._prepare import prepare
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

TAG = "zqmarks"
CHECKOUTS = _library_source(
    SyntheticDoc(library="stripe:checkout.session.completed", events=12, records=3, over=1.2)
)


def email(ev: Event) -> str:
    return str(ev.payload["data"]["object"]["customer_details"]["email"])


def session(ev: Event) -> str:
    return str(ev.payload["data"]["object"]["id"])


def by_record(events: list[Event]) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = defaultdict(list)
    for ev in events:
        found[ev.key].append(ev)
    return found


def check_marks(events: list[Event]) -> None:
    """One email per record, carrying the record's token and naming it; each session id the
    event's token in Stripe's format, naming the event."""
    tracer = Tracer(TAG, events)
    records = by_record(events)
    assert len(records) == 3 and all(len(evs) > 1 for evs in records.values())
    emails = set()
    for key, evs in records.items():
        [mail] = {email(ev) for ev in evs}  # one email for the record's checkouts
        emails.add(mail)
        number = re.fullmatch(r"cus_zqmarksk(\d+)", key)
        assert number is not None, key
        assert f"+{TAG}k{number.group(1)}@" in mail, mail
        assert tracer.attribute(mail) == ((), key)  # the record, no event of it
        for ev in evs:
            assert session(ev) == f"cs_test_{TAG}e{ev.seq}"
            assert tracer.attribute(f'{{"checkout": "{session(ev)}", "email": "{mail}"}}') == (
                (ev.id,),
                key,
            )
    assert len(emails) == 3


@pytest.mark.parametrize("way", ["text", "objects"])
def test_a_customers_checkouts_carry_its_email_and_each_its_own_session(way: str) -> None:
    if way == "text":
        events = list(traced_synthetic(CHECKOUTS, 5, TAG))
        assert all(isinstance(ev, TextEvent) for ev in events)  # written as text
    else:
        events = list(traced_objects(Shape(checked(CHECKOUTS)), 5, TAG, None))
    check_marks(events)


def test_an_explicit_schedule_marks_its_events_as_a_streamed_run_does(tmp_path: Path) -> None:
    """``schedule:`` picks events of the source, then traces them (``_prepare._traced``): each
    keeps its record's email and its session id the token of its place in the schedule."""
    planned = tuple(PlannedDelivery(n, at=n / 10) for n in range(12))
    scenario = Scenario(
        "scheduled", CHECKOUTS, delivery=DeliverySpec(signing="none"), schedule=planned
    )
    options = RunOptions.create("http://127.0.0.1:9/h", seed=5, journal=tmp_path / "j.db")
    run = prepare(scenario, options, tag=TAG)
    check_marks(list(run.events))
    streamed = list(traced_synthetic(CHECKOUTS, 5, TAG))
    assert [payload_json(e) for e in streamed] == [payload_json(e) for e in run.events]


def test_paths_named_by_the_user_are_rewritten_as_they_are_no_marks() -> None:
    """``tracer: {paths: [...]}``: only those paths, each marked with the event's token."""
    spec = TracerSpec(paths=("$.data.object.customer_details.email", "$.data.object.id"))
    events = list(traced_synthetic(CHECKOUTS, 5, TAG, spec))
    for ev in events:
        assert f"+{TAG}e{ev.seq}@" in email(ev)
        assert session(ev) == f"cs_test_{TAG}e{ev.seq}"


ORDERS = _library_source(
    SyntheticDoc(library="shopify:orders/create", events=12, records=3, over=1.2)
)


@pytest.mark.parametrize("way", ["text", "objects", "columns"])
def test_a_shopify_customers_orders_carry_its_email_though_its_key_is_a_number(way: str) -> None:
    """Shopify keys an order by ``customer.id``, a JSON number: renumbered per run, it holds
    no token. Its orders carried each its own event's email, so a find-or-create by email
    could never race (tests/test_gallery_shopify_contacts.py); the record's token in its email
    now names the renumbered key, in a Tracer holding events as objects or as columns (a
    streamed run's)."""
    if way == "objects":
        events = list(traced_objects(Shape(checked(ORDERS)), 5, TAG, None))
    else:
        events = list(traced_synthetic(ORDERS, 5, TAG))
    tracer = Tracer(TAG, columns=True) if way == "columns" else Tracer(TAG)
    for ev in events:
        tracer.add(ev)
    records = by_record(events)
    assert len(records) == 3 and all(key.isdigit() and len(evs) > 1 for key, evs in records.items())
    emails = set()
    for key, evs in records.items():
        [mail] = {ev.payload["customer"]["email"] for ev in evs}  # one email for its orders
        assert {ev.payload["email"] for ev in evs} == {mail}
        emails.add(mail)
        assert re.search(rf"\+{TAG}k\d+@", mail), mail
        assert tracer.attribute(mail) == ((), key)  # the record, no event of it
    assert len(emails) == 3
