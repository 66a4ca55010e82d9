"""Synthetic events as varied as real ones: properties of every library payload's events."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core import _library, _paths
from harness.core._model import Event
from harness.core._scenario import SyntheticSource
from harness.drive._sources import synthetic
from harness.drive._synthetic_text import traced_synthetic
from harness.drive._vary import Variation
from harness.scenario._load import _library_source
from harness.scenario._project import events_flag
from harness.scenario._schema import SyntheticDoc

NAMES = _library.names()
PINNED = {"currency", "status", "object", "livemode", "type", "mode", "action", "event_type"}


def source(name: str, events: int = 12, records: int = 4) -> SyntheticSource:
    # As the scenario loader makes `source: {synthetic: {library: NAME, …}}`.
    return _library_source(SyntheticDoc(library=name, events=events, records=records, over=30.0))


def leaves(payload: Any) -> dict[str, Any]:
    return {_paths.render(steps): value for steps, value in _paths.leaves(payload)}


def varied(events: list[Event]) -> set[str]:
    """The paths whose value is not the same in every event."""
    seen: dict[str, set[str]] = defaultdict(set)
    for e in events:
        for path, value in leaves(e.payload).items():
            seen[path].add(repr(value))
    return {path for path, values in seen.items() if len(values) > 1}


@settings(max_examples=25, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    seed=st.integers(0, 2**32),
    events=st.integers(2, 30),
    records=st.integers(1, 30),
)
def test_variation_properties(name: str, seed: int, events: int, records: int) -> None:
    records = min(records, events)
    spec = source(name, events, records)
    made = synthetic(spec, seed)
    assert [e.payload for e in made] == [e.payload for e in synthetic(spec, seed)]  # seeded
    example = leaves(spec.example)
    # Equal in the example, equal within each event (a session id in two places); but a count
    # (an order's ``number`` 1) is no quantity's 1.
    key_steps = _paths.parse(spec.key_path)
    plan = Variation(spec.example, id_steps=None, key_steps=key_steps, time_steps=None, keep=set())
    counted = {a.text for a in plan.atoms.values() if a.kind == "counted"}
    groups: dict[str, list[str]] = defaultdict(list)
    for path, value in example.items():
        if isinstance(value, str | int) and not isinstance(value, bool):
            if not (type(value) is int and str(value) in counted):
                groups[repr(value)].append(path)
    later = dict(spec.later)
    for e in made:
        got = leaves(e.payload)
        assert set(got) == set(example)  # the shape: no field added or lost
        for paths in groups.values():
            assert len({repr(got[p]) for p in paths}) == 1, (name, paths)
        for path, value in example.items():
            # Types kept: a number stays a number, a string a string.
            assert type(got[path]) is type(value), (name, path, got[path], value)
            if path.rsplit(".", 1)[-1] in PINNED and path != spec.type_path:
                # As the example, or a record's later event as its entry's ``later`` says.
                assert got[path] in (value, later.get(path, value)), (name, path)
        assert str(_paths.get(e.payload, key_steps)) == e.key
    assert len({e.id for e in made}) == events  # ids differ across events
    by_key: dict[str, set[str]] = defaultdict(set)
    for e in made:
        by_key[e.key].add(repr(_paths.get(e.payload, key_steps)))
    assert len(by_key) == records and all(len(v) == 1 for v in by_key.values())


# (what an id of the example looks like, what a new one must look like): an example's id has a
# digit, a new one may have drawn none.
ID_SHAPES = [
    (r"^[a-z]+_(test_)?(?=[A-Za-z]*[0-9])[A-Za-z0-9]{8,}$", r"^[a-z]+_(test_)?[A-Za-z0-9]{8,}$"),
    (r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",) * 2,
    (r"^[0-9a-f]{40}$",) * 2,  # a git sha
    (r"^[A-Z][A-Za-z]?(?=[A-Z]*[0-9])[0-9A-Z]{7,}$", r"^[A-Z][A-Za-z]?[0-9A-Z]{7,}$"),  # Slack
]


def id_shape(value: Any) -> re.Pattern[str] | None:
    """The shape a new value of an example's id must have; None for a value that is no id."""
    if not isinstance(value, str):
        return None
    return next((re.compile(new) for old, new in ID_SHAPES if re.match(old, value)), None)


@pytest.mark.parametrize("name", NAMES)
def test_ids_times_and_amounts_vary_in_their_shape(name: str) -> None:
    spec = source(name)
    made = synthetic(spec, 7)
    example = leaves(spec.example)
    changed = varied(made)
    for path in changed:
        old = example[path]
        values = [leaves(e.payload)[path] for e in made]
        if isinstance(old, str):
            shape = id_shape(old)
            if shape is not None:
                assert all(shape.match(v) and len(v) == len(old) for v in values), (path, values)
                prefix = old.partition("_")[0] + "_" if "_" in old else ""
                assert all(v.startswith(prefix) for v in values), (path, values[:3])
            if re.match(r"^\d{4}-\d\d-\d\dT", old):
                for v in values:  # the same form: offset, fraction digits
                    zone = "Z" if old.endswith("Z") else old[-6:]
                    assert len(v) == len(old) and v.endswith(zone), (path, v, old)
                    datetime.fromisoformat(v.replace("Z", "+00:00"))
        elif isinstance(old, int) and 10**9 <= old < 10**10:
            assert all(10**9 <= v < 10**10 for v in values)  # Unix seconds stay seconds
        elif isinstance(old, int) and 10**12 <= old < 10**13:
            assert all(10**12 <= v < 10**13 for v in values)  # milliseconds stay milliseconds
    # Every id-like, time and amount field of the example varies, not only the id and key —
    # but the account's (the entry's ``same``, wherever its values are: tests/test_same_values).
    kept = {repr(_paths.get(spec.example, _paths.parse(p), None)) for p in spec.same}
    for path, old in example.items():
        last = path.rsplit(".", 1)[-1]
        if repr(old) in kept:
            assert path not in changed, (name, path)
        elif id_shape(old) is not None:
            assert path in changed, (name, path)
        if isinstance(old, int) and not isinstance(old, bool) and old > 0:
            if last.startswith("amount") or last in ("created", "occurredAt", "event_time"):
                assert path in changed, (name, path)


def test_a_value_repeated_inside_a_string_follows_it() -> None:
    for e in synthetic(source("shopify:orders/updated"), 3):
        order = e.payload
        assert order["admin_graphql_api_id"] == f"gid://shopify/Order/{order['id']}"
        assert order["fulfillments"][0]["order_id"] == order["id"]
        assert isinstance(order["id"], int) and len(str(order["id"])) == 13
    for e in synthetic(source("stripe:payment_intent.succeeded"), 3):
        intent = e.payload["data"]["object"]
        assert intent["client_secret"].startswith(intent["id"] + "_secret_")
        assert intent["amount"] == intent["amount_received"] != 4900
        assert intent["currency"] == "usd" and intent["status"] == "succeeded"


def test_the_object_the_key_is_the_id_of_belongs_to_the_record() -> None:
    made = synthetic(source("stripe:customer.subscription.updated"), 2)
    by_key: dict[str, set[str]] = defaultdict(set)
    for e in made:
        sub = e.payload["data"]["object"]
        by_key[e.key].add(sub["customer"] + sub["items"]["data"][0]["id"])
        assert sub["items"]["data"][0]["subscription"] == sub["id"] == e.key
    assert all(len(v) == 1 for v in by_key.values())
    assert len({e.payload["created"] for e in made}) > 1  # times still vary per event


@pytest.mark.parametrize("name", ["stripe:checkout.session.completed", "stripe:invoice.paid"])
def test_the_customer_a_key_names_is_described_alike_in_its_events(name: str) -> None:
    """Keyed by ``customer``: a customer's checkouts carry its email and name (a find-or-create
    by email races only where they do), other customers' their own; the session is each
    event's. Each event drew a new email and name at first."""
    made = synthetic(source(name, events=12, records=3), 5)
    described: dict[str, set[str]] = defaultdict(set)
    for e in made:
        found = e.payload["data"]["object"]
        described[e.key].add(repr({k: v for k, v in found.items() if k.startswith("customer_")}))
    assert len(described) == 3 and all(len(v) == 1 for v in described.values()), described
    assert len({next(iter(v)) for v in described.values()}) == 3  # records differ
    assert len({e.payload["data"]["object"]["id"] for e in made}) == 12


def test_the_time_path_keeps_the_example_s_unit() -> None:
    stripe = synthetic(source("stripe:invoice.paid"), 1)
    hubspot = synthetic(source("hubspot:contact.propertyChange"), 1)
    assert [e.payload["created"] for e in stripe[:2]] == [1767225600, 1767225602]
    assert hubspot[1].payload["occurredAt"] == 1767225602500
    paid = stripe[0].payload["data"]["object"]["status_transitions"]
    assert paid["finalized_at"] < paid["paid_at"] <= stripe[0].payload["created"]


def test_an_issue_is_opened_once_and_its_later_events_edit_it() -> None:
    # A register of issue events, every one "opened": an automation that creates a ticket on
    # opened and updates it on edited was never asked to update — its race of an edit with the
    # creation (two workers, no lock) dropped edits that no hazard sent. GitHub opens an issue
    # once.
    for name in ("github:issues", "github:pull_request"):
        # As a scenario names it, and as `harness init --events NAME` puts it in a project.
        project = events_flag(name).source
        assert isinstance(project, SyntheticSource)
        for spec in (source(name, 12, 4), replace(project, events=12, records=4, over=30.0)):
            actions: dict[str, list[str]] = defaultdict(list)
            for e in synthetic(spec, 1):
                actions[e.key].append(e.payload["action"])
            assert len(actions) == 4, name
            assert all(a[0] == "opened" and set(a[1:]) == {"edited"} for a in actions.values())


def test_records_never_share_the_ids_of_their_own_objects() -> None:
    # An issue's number is GitHub's address for it (/repos/{owner}/{repo}/issues/{number}) and
    # is unique within its repository; an example's 4-digit number has 1,000 values, and 60
    # issues drawn at random shared one in nearly every run: an automation that upserts a ticket
    # by the number merged two issues, and its verdicts judged the harness's doing.
    for seed in range(5):
        made = synthetic(source("github:issues", events=120, records=60), seed)
        numbers: dict[int, set[str]] = defaultdict(set)
        authors: dict[int, set[str]] = defaultdict(set)
        for e in made:
            numbers[e.payload["issue"]["number"]].add(e.key)
            authors[e.payload["issue"]["user"]["id"]].add(e.key)
        assert len(numbers) == 60 and all(len(keys) == 1 for keys in numbers.values()), seed
        assert all(len(keys) == 1 for keys in authors.values()), seed
    # A shape with fewer values than records (a 2-digit number: 10) repeats them, as drawn.
    ticket = {"id": "tkt_9f8e7d6c5b", "number": 12}
    example = {"id": "evt_1a2b3c4d5e", "type": "t", "ticket": ticket}
    spec = SyntheticSource(example, events=40, records=20, over=10.0, key_path="$.ticket.id")
    few = synthetic(spec, 3)
    assert len({e.key for e in few}) == 20
    assert len({e.payload["ticket"]["number"] for e in few}) == 10


def test_a_property_change_brings_a_new_value_each_time() -> None:
    """HubSpot's contact.propertyChange: each event a new email, as real changes of a contact's
    email are — the library's first change set 'lifecyclestage' to 'customer' in every event,
    and a register hazard saw nothing change from one update to the next."""
    made = synthetic(source("hubspot:contact.propertyChange", events=40, records=10), 1)
    assert {e.payload["propertyName"] for e in made} == {"email"}
    values = [e.payload["propertyValue"] for e in made]
    assert len(set(values)) == len(values) and all("@" in v for v in values), values


def test_a_time_that_is_the_event_s_own_moves_with_it() -> None:
    """Slack's message ``ts`` and ``event_ts`` are the moment of ``event_time``, written finer:
    moved a random bit earlier each, they would put one message of a channel before another
    that its ``event_time`` (and the run's order) puts after it."""
    made = synthetic(source("slack:event_callback", 30, 3), 5)
    for e in made:
        message = e.payload["event"]
        assert message["ts"] == message["event_ts"]
        assert int(float(message["ts"])) == e.payload["event_time"], e.payload
    assert sorted(made, key=lambda e: float(e.payload["event"]["ts"])) == made


def test_a_customers_first_and_last_names_are_drawn_per_record() -> None:
    """Shopify's ``customer.first_name``/``last_name`` are one word each: taken for enums, every
    synthetic order was "Bob Norman"'s. Drawn by faker per record now, the same in the order's
    addresses where the example repeats them."""
    source = _library_source(
        SyntheticDoc(library="shopify:orders/create", events=12, records=4, over=1.0)
    )
    names: dict[str, set[tuple[str, str, str]]] = {}
    for ev in traced_synthetic(source, 5, "zqnames"):
        customer, billing = ev.payload["customer"], ev.payload["billing_address"]
        assert (billing["first_name"], billing["last_name"]) == (
            customer["first_name"],
            customer["last_name"],
        )
        names.setdefault(ev.key, set()).add(
            (customer["first_name"], customer["last_name"], billing["first_name"])
        )
    assert all(len(found) == 1 for found in names.values()), names  # one customer, one name
    assert len({next(iter(found)) for found in names.values()}) > 1, names  # not all Bob
