"""Prepared runs hashed against the ones the code gave before preparation was made faster
(issue #16 goal 2): for every library payload, a recorded file and every perturbation, the same
seed and tag give the same events, schedule, attempts, bodies and signed headers."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from harness.core._scenario import (
    DeliverySpec,
    Perturbation,
    RecordedSource,
    Scenario,
    SyntheticSource,
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
        h.update(json.dumps(run.slot_headers(n, 1_700_000_000), sort_keys=True).encode())
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


# Computed from the code before issue #16 goal 2's changes (66f58b2).
LIBRARY: dict[str, str] = {
    "attio:record.updated": "e1895abfa12a6616",
    "github:issues": "951543efbdced10c",
    "github:pull_request": "7f241587d462b5d7",
    "github:push": "35acf9d1c6b09815",
    "hubspot:contact.propertyChange": "1d0cd0c2bbe618f1",
    "shopify:orders/create": "463edf87612c6980",
    "shopify:orders/updated": "1fb0b1658ada03d2",
    "slack:event_callback": "3ce70a09c031bf71",
    "standard-webhooks:contact.updated": "c259c2db0ee8ff93",
    "stripe:checkout.session.completed": "afafeca12502b97a",
    "stripe:customer.subscription.updated": "2bfbfe2755327585",
    "stripe:invoice.paid": "eb800ff6b4a6d607",
    "stripe:payment_intent.succeeded": "44c2da68d2cfb684",
}
SHAPES: dict[str, str] = {
    "duplicate": "37f39cd005a745e2",
    "reorder": "ccec303582d3a936",
    "simultaneous": "5d67801e44f04f22",
    "tamper": "ee3fae88bb4b6af2",
    "burst": "8413480036263a3f",
    "replay": "94dda969d56b35ca",
    "drift": "3fd1f3093a2e33dc",
    "recorded": "447a46592e8677ac",
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
