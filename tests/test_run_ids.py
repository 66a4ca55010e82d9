"""Each run's own string ids (``drive._run_ids``): a synthetic source's other ids (a Stripe
invoice's ``in_…`` under an event keyed by its customer) differ between a run and its clean
run, so an automation that remembers objects by their id meets the run's as new ones."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from harness.core._model import Event, Status
from harness.core._scenario import RecordedSource, SyntheticSource, TracerSpec
from harness.drive._sources import synthetic_events
from harness.drive._tracer import traced
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

from .conftest import Automation, run_text, unmet

INVOICES = _library_source(
    SyntheticDoc(library="stripe:invoice.paid", events=60, records=12, over=6.0)
)


def _objects(tag: str) -> list[dict[str, str]]:
    """Each event's invoice id, charge id and first line's id."""
    found = []
    for ev in synthetic_events(INVOICES, 7, tag):
        invoice = ev.payload["data"]["object"]
        found.append(
            {
                "invoice": invoice["id"],
                "charge": invoice["charge"],
                "line": invoice["lines"]["data"][0]["id"],
            }
        )
    return found


def test_two_runs_of_one_seed_draw_different_ids_of_one_shape() -> None:
    mine, theirs, seed_s = _objects("zqaaaaa"), _objects("zqbbbbb"), _objects("")
    assert _objects("zqaaaaa") == mine  # the same run, the same ids
    for a, b, s in zip(mine, theirs, seed_s, strict=True):
        for field in ("invoice", "charge", "line"):
            assert a[field] != b[field] and a[field] != s[field]
            # prefix and first character, length and alphabet kept
            assert a[field][:4] == b[field][:4] == s[field][:4]
            assert len(a[field]) == len(b[field]) == len(s[field])
            assert re.fullmatch(r"[a-z]+_[A-Za-z0-9]+", a[field])
    # one-to-one within the run: as many different invoices as the seed drew
    assert len({o["invoice"] for o in mine}) == len({o["invoice"] for o in seed_s}) == 60


def test_a_uuid_keeps_its_version_and_variant_and_a_record_s_ids_stay_its_own() -> None:
    example = {
        "id": "evt_1A2b3C4d5E6f",
        "request": "0b2c3d4e-5f60-4a71-8b92-a3b4c5d6e7f8",
        "order": {"id": "ord_9Z8y7X6w5V4u", "customer": "cus_Q1w2E3r4T5y6"},
    }
    source = SyntheticSource(example, events=40, records=5, over=4.0, key_path="$.order.id")
    for tag in ("zqccccc", "zqddddd"):
        events = list(synthetic_events(source, 3, tag))
        for ev in events:
            made = uuid.UUID(ev.payload["request"])
            assert made.version == 4 and made.variant == uuid.RFC_4122
            # in the example's lower case: a digit permuted to a letter came out upper case
            # (``58739aB6-…-eBB2924F5c35``), which a receiver matching ``[0-9a-f]`` would refuse
            assert ev.payload["request"] == str(made)
        customers: dict[str, set[str]] = {}
        for ev in events:
            customers.setdefault(ev.key, set()).add(ev.payload["order"]["customer"])
        # the key is the order's id: its customer is the record's, one per record
        assert all(len(found) == 1 for found in customers.values())
    runs = [
        [e.payload["request"] for e in synthetic_events(source, 3, t)]
        for t in ("zqccccc", "zqddddd")
    ]
    assert all(a != b for a, b in zip(*runs, strict=True))


SCENARIO = """\
name: invoices-paid-twice
model: ledger
provider: {name: stripe, retries: 0}
source:
  synthetic:
    library: "stripe:invoice.paid"
    events: 40
    records: 10
    over: 2s
perturbations:
  - duplicate: {rate: 0.5, spread: 1s}
downstreams:
  - name: store
    stateful: true
invariants: [no_lost_events, no_duplicate_effects, final_state_matches_baseline]
delivery: {secret_env: HARNESS_SECRET, timeout: 5s}
settle: {quiet: 1s, deadline: 30s}
"""


@pytest.mark.integration
def test_a_receiver_remembering_invoices_is_not_judged_to_lose_the_run_s(
    sound: Automation, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sound demo keeps a Stripe object's state by its id and skips an event no newer than
    what it holds: with the clean run's invoice ids sent again, it skipped every event of the
    run and no_lost_events failed it (60 of 60 lost, in `harness init` + `harness run`)."""
    verdicts = run_text(sound, SCENARIO, tmp_path, 5, monkeypatch)
    found = {v.invariant: v for v in verdicts}
    assert {"no_lost_events", "no_duplicate_effects", "final_state_matches_baseline"} <= set(found)
    assert not unmet(verdicts), [(v.invariant, v.summary) for v in verdicts]
    assert all(v.status is Status.PASS for v in found.values())


def _recorded(n: int) -> Event:
    invoice = {
        "id": f"in_1PgcInvoice{n % 3:04d}",  # three invoices, each in several events
        "object": "invoice",
        "billing_reason": "subscription_cycle",
        "collection_method": "charge_automatically",
        "customer_email": "ada@example.com",
        "customer_name": "Ada Lovelace",
        "request": "0b2c3d4e-5f60-4a71-8b92-a3b4c5d6e7f8",
        "trace": "0B2C3D4E-5F60-4A71-8B92-A3B4C5D6E7F8",
        "sha": "3f2a9c0d4e5b6a7f8091a2b3c4d5e6f708192a3b",
        "url": "https://invoice.stripe.com/i/acct_1PgcR8QWoDuPnP/x",
        "amount_paid": 2000,
    }
    payload = {"id": f"evt_1PgcStripe{n:04d}Inv", "data": {"object": invoice}}
    return Event(payload["id"], invoice["id"], n, "invoice.paid", float(n), payload)


def test_a_recording_is_sent_as_recorded_but_for_its_ids_each_run_s_own() -> None:
    recorded = [_recorded(n) for n in range(6)]
    spec = TracerSpec().resolved(RecordedSource(Path("events.json")))
    assert spec == TracerSpec(rewrite=False, ids=True)
    runs = {tag: list(traced(recorded, tag, spec)) for tag in ("zqaaaaa", "zqbbbbb")}
    for sent in runs.values():
        for before, after in zip(recorded, sent, strict=True):
            was, now = before.payload["data"]["object"], after.payload["data"]["object"]
            # the event's id and the record's key: the run's own, of their shape
            assert after.id != before.id and after.id[:5] == before.id[:5]
            assert len(after.id) == len(before.id) and after.payload["id"] == after.id
            assert after.key == now["id"] != was["id"] and len(now["id"]) == len(was["id"])
            assert re.fullmatch(r"[0-9a-f]{40}", now["sha"]) and now["sha"] != was["sha"]
            assert uuid.UUID(now["request"]).version == 4 and now["request"] != was["request"]
            assert now["request"] == now["request"].lower() and now["trace"].isupper()
            assert now["trace"] == now["request"].upper()  # one id in either case
            # everything else as recorded: enums, an email, a name, amounts; a URL but for the
            # id inside it (``_inner_ids``: recorded as is before, the same in every run)
            for field in ("billing_reason", "collection_method", "customer_email"):
                assert now[field] == was[field]
            account = re.fullmatch(r"https://invoice\.stripe\.com/i/(acct_1\w{13})/x", now["url"])
            assert account is not None and account.group(1) != "acct_1PgcR8QWoDuPnP", now["url"]
            assert now["customer_name"] == "Ada Lovelace" and now["amount_paid"] == 2000
        # one invoice, one id within the run
        assert len({e.key for e in sent}) == 3
        assert [e.key for e in sent[:3]] == [e.key for e in sent[3:]]
    a, b = runs.values()
    assert all(x.id != y.id and x.key != y.key for x, y in zip(a, b, strict=True))
