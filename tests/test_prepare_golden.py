"""Prepared runs hashed against the ones the code gave before preparation was made faster
(issue #16 goal 2): for every library payload, a recorded file and every perturbation, the same
seed and tag give the same events, schedule, attempts, bodies and signed headers. (Where a
change of the synthetic source's draws changed its events on purpose, the hashes were
recomputed: see the comment above LIBRARY.)"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.core._scenario import (
    DeliverySpec,
    Perturbation,
    RecordedSource,
    Scenario,
    SyntheticSource,
    TracerSpec,
)
from harness.drive._fakes import POOL
from harness.engine._options import RunOptions
from harness.engine._prepare import PreparedRun, prepare
from harness.scenario._load import _library_source
from harness.scenario._schema import SyntheticDoc

EVENTS = POOL + 300  # past the pool of free text
TAG = "zqgolds"
ALL_SHAPES = (
    Perturbation("duplicate", {"rate": 0.3, "spread": 2.0}),
    Perturbation("reorder", {"window": 4, "rate": 0.5}),
    Perturbation("simultaneous", {"records": 3, "events": 3}),
    Perturbation("tamper", {"mode": "replayed", "rate": 0.1}),
    Perturbation("tamper", {"mode": "stale", "rate": 0.1}),
    Perturbation("burst", {"within": 1.0, "count": 200}),
    Perturbation("replay", {"times": 1, "gap": 5.0}),
)


def options_for(seed: int, tmp_path: Path) -> RunOptions:
    return RunOptions.create("http://127.0.0.1:9/h", seed=seed, journal=tmp_path / "j.db")


def digest(scenario: Scenario, seed: int, tmp_path: Path) -> str:
    """One hash of everything a prepared run sends and journals, signatures included."""
    return digest_of(prepare(scenario, options_for(seed, tmp_path), tag=TAG))


def digest_of(run: PreparedRun) -> str:
    """``digest`` of a run prepared whole."""
    h = hashlib.sha256()
    for ev in run.events:
        row = [ev.id, ev.key, ev.seq, ev.type, ev.occurred_at, ev.payload, dict(ev.headers)]
        h.update(json.dumps(row, sort_keys=True).encode())
    for n, slot in enumerate(run.schedule):
        h.update(repr((slot, run.attempts[n])).encode())
        h.update(json.dumps(run.slot_request(n, 1_700_000_000)[1], sort_keys=True).encode())
    for body in run.bodies:
        h.update(body)
    return h.hexdigest()[:16]


def library_scenario(name: str) -> Scenario:
    # As the scenario loader makes `source: {synthetic: {library: NAME, …}}`.
    source = _library_source(
        SyntheticDoc(library=name, events=EVENTS, records=EVENTS // 5, over=EVENTS / 100.0)
    )
    duplicate = (Perturbation("duplicate", {"rate": 0.1}),)
    return Scenario(name, source, perturbations=duplicate, delivery=DeliverySpec(signing="none"))


# Computed from the code before issue #16 goal 2's changes (66f58b2); the synthetic sources'
# again when their events changed on purpose (a record's values drawn at its first event,
# faker unweighted; ids drawn from random bytes); the six whose ids or keys are JSON numbers
# again when those were renumbered per run (``_tracer.renumbered``); the two GitHub ones again
# when a record's own ids were kept apart between records (``_sources._Owned``: their 264
# issues had 223 numbers between them); HubSpot's again when its entry's first change became an
# email, new for every event (``_vary``: a property change's value varies by its property); Slack's
# and Standard Webhooks' again when a time within a second of the event's own (Slack's
# ``event_ts``, a contact's ``updated_at``) moved with it exactly, not a random bit earlier;
# the two GitHub ones again when a record's events after its first became edits of the issue
# or pull request (their entries' ``later``: ``"action": "edited"``), not openings again; the
# six whose payloads hold integers under id-named fields again when the tracer renumbered those
# per run, as it does an id or key held as a number (an issue's ``number``, a customer's id);
# the twelve whose examples hold string ids again when those became each run's own
# (``drive._run_ids``: the same hashes with it turned off, standard-webhooks' has none); the two
# GitHub ones again when a number of 16 bits or fewer (an issue's ``number``) was renumbered
# among the 31-bit ones, not within its own bit length (``_tracer.renumbered``); the three whose
# examples hold lower-case UUIDs (Attio's, Slack's, a subscription's) again when a run's UUID
# stayed in lower case (``_run_ids``: a digit permuted to a letter had come out upper case); the
# six whose strings hold an id of the payload (GitHub's URLs ending in an issue's number or
# holding a user's id, Shopify's ``gid://shopify/Order/…``, a subscription's items ``url``
# naming it) again when an id inside a string took the run's own value, as it does standing
# alone (``drive._inner_ids``: the same hashes with it turned off); the two Shopify ones again
# when each synthetic order was counted its own ``order_number``, its ``name`` written from it,
# both renumbered per run as ids (``drive._vary.COUNTED``: 1001 and "#1001" in every order before);
# Stripe's invoice and Shopify's updated order again when an upper-case id led by a digit (an
# invoice ``number``'s prefix ``6C2E1A3B``, a tracking number ``1Z2345E6…``) became an id
# (``drive._vary.ID_TOKEN``: every invoice had the example's "6C2E1A3B-0002" before); the two
# Shopify ones again when an id of one digit (an order's ``number`` 1) was counted per order and
# 1 renumbered per run as any short number is (``_tracer.renumbered``: 1 in every order before);
# all but Standard Webhooks' (it draws nothing per event) and the seven shapes of a synthetic
# source again when its per-event values were drawn a batch of events at a time
# (``_vary.Variation.columns``: an id's characters for 256 events in one draw of random bytes,
# the times' and amounts' draws together), another order of draws from one seed; all those whose
# payloads hold free text faker fills (names, emails, companies, notes: all but Attio's and a
# subscription's, and the seven shapes of a synthetic source) again when faker drew from several
# locales (``drive._fakes.LOCALES``: a name in thirteen beyond ASCII, as real customers' are);
# Stripe's checkout and paid invoice again when the fields describing the customer their key
# names (``customer_details``, ``customer_email``, …) were drawn once per record, not per event
# (``_vary.Variation._mark_described``); those two and Standard Webhooks' contact again when a
# record's own emails carried the record's tracer token, not the event's, and the three Stripe
# ones keyed by ``customer`` again when the id of the event's own object (the session's
# ``cs_test_…``, the invoice's ``in_…``, the payment intent's ``pi_…``) became a token of the
# event's (``_tracer.Marks``); the two Shopify ones again when a customer's one-word
# ``first_name`` and ``last_name`` were drawn per record (``_vary._fakes``, ``_fakes.PERSON_NAME``:
# "Bob Norman" in every order before); Shopify's created order again when a record keyed by a
# number (the customer's ``id``, renumbered per run) had its own emails carry its record's token
# too, as a string key's do (``_tracer.Tokens.record_token``: each order's email carried its
# event's before, so a customer's orders never shared one); Attio's, HubSpot's, Slack's and the
# three GitHub ones again when the values their provider sends the same in every event of one
# account (the entry's ``same``: Attio's ``webhook_id`` and workspace, HubSpot's ``portalId``,
# Slack's team, GitHub's installation) stopped being drawn per event (tests/test_same_values.py).
LIBRARY: dict[str, str] = {
    "attio:record.updated": "58888d13caea4dff",
    "github:issues": "31ee22ff1f3a87c7",
    "github:pull_request": "c66eb1c266e1fb4f",
    "github:push": "8d5756ef699da706",
    "hubspot:contact.propertyChange": "1e410b0cfec2080c",
    "shopify:orders/create": "d3c7e4610bb31e82",
    "shopify:orders/updated": "d21262d8187c85e5",
    "slack:event_callback": "1bf2bb9a442edade",
    "standard-webhooks:contact.updated": "8585617d250db6af",
    "stripe:checkout.session.completed": "0b299217827a26e6",
    "stripe:customer.subscription.updated": "5f4b343fe937c3ff",
    "stripe:invoice.paid": "ca394d156cf2ff47",
    "stripe:payment_intent.succeeded": "7e324279ed078c97",
}
SHAPES: dict[str, str] = {
    "duplicate": "3816a1e991e55efa",
    "reorder": "f9696c4bc3c1a9ca",
    "simultaneous": "fb0ebebe1c881c47",
    "tamper": "6e2dfbf839f4137d",
    "burst": "9b242e7f4f6c937d",
    "replay": "45e9e0dd4b565890",
    "drift": "7f3215c67013394a",
    # Recomputed when a recording's ids became each run's own (``drive._own_ids``): the old
    # hash with ``tracer: {rewrite: false}``, the recording sent exactly as recorded.
    "recorded": "75b65f8c77cf4f49",
}


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_library_sources_prepare_as_before(name: str, tmp_path: Path) -> None:
    assert digest(library_scenario(name), 3, tmp_path) == LIBRARY[name]


def shaped(kind: str, tmp_path: Path) -> Scenario:
    example = {
        "id": "evt_1A2b3C4d5E",
        "key": "ord_9Z8y7X6w",
        "type": "order.paid",
        "created_at": "2026-03-01T12:00:00Z",
        "note": "first one",
        "email": "a@b.io",
        "amount": 1250,
    }
    if kind == "recorded":
        lines = tmp_path / "recorded.jsonl"
        rows = [
            {**example, "id": f"evt_1A2b3C4d{n % 40:04d}", "key": f"ord_9Z8y7X{n % 7:02d}"}
            for n in range(60)
        ]
        lines.write_text("".join(json.dumps(r) + "\n" for r in rows))
        source: Any = RecordedSource(lines, id_path="$.id", key_path="$.key", over=6.0)
        shapes = ALL_SHAPES
    else:
        source = SyntheticSource(
            example, events=400, records=40, over=20.0, time_path="$.created_at"
        )
        shapes = tuple(p for p in ALL_SHAPES if p.kind == kind)
        if kind == "drift":
            shapes = (
                Perturbation("rename_field", {"path": "$.note", "to": "memo", "rate": 0.5}),
                Perturbation("retype_field", {"path": "$.amount", "to": "string", "rate": 0.3}),
            )
    signed = DeliverySpec(signing="standard-webhooks")
    return Scenario(kind, source, perturbations=shapes, delivery=signed)


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_perturbations_plan_as_before(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_SECRET", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert digest(shaped(kind, tmp_path), 11, tmp_path) == SHAPES[kind]


def test_a_recording_sent_exactly_as_recorded_prepares_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``tracer: {rewrite: false}``: the recorded ids themselves, as every replay sent them
    before a recording's ids became each run's own."""
    monkeypatch.setenv("HARNESS_SECRET", "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    exact = replace(shaped("recorded", tmp_path), tracer=TracerSpec(rewrite=False))
    assert digest(exact, 11, tmp_path) == "447a46592e8677ac"
