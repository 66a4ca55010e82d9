"""The payload library: realistic example events of each provider, written from its public
documentation, by name (``stripe:checkout.session.completed``).

Each entry is a JSON file ``payloads/<provider>/<type>.json`` shipped inside the package:
``{"provider", "type", "source" (the documentation page it was written from), "model" (what its
events mean: ``ledger``, each its own fact — a paid invoice, a push; ``register``, successive
states of a record — a contact's change, an order updated), "paths" (id, key, type, time: where
the event id, the record key, the event type and the event's time live), "payload"}``. A
batching provider's payload (HubSpot) is a JSON array, the request body a sender posts;
``paths`` then apply to each element and ``example`` is the first one.

Where a provider names the event type or id in headers rather than the body (GitHub's
``X-GitHub-Event`` and ``X-GitHub-Delivery``, Shopify's ``X-Shopify-Topic`` and
``X-Shopify-Webhook-Id``), the provider's signing scheme writes those headers from the event's
type and id (``_signing``), so an entry's ``type`` path may be absent from its payload: the
entry then has no ``type`` path, and the event's type is the entry's ``type``. Its ``id`` path
leads to the body's own id of the object the event is about (GitHub's ``$.issue.id``), the one a
receiver that dedups on the body would read.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from ._errors import InputError
from ._model import JSON, Model

PATH_NAMES = ("id", "key", "type", "time")


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One example event of a provider. ``paths``: id, key, and where present type and time."""

    name: str
    provider: str
    type: str
    source: str
    paths: Mapping[str, str]
    payload: JSON
    model: Model  # what its events mean: a hazard over them is judged by it (scenario._hazards)
    # Values at payload paths for a record's events after its first: a GitHub issue is opened
    # once, and its later events are edits of it, not openings again.
    later: Mapping[str, JSON] = field(default_factory=dict)
    # Payload paths whose value the provider sends the same in every event of one account or
    # subscription (Attio's ``webhook_id`` and workspace, HubSpot's ``portalId``): not varied.
    same: tuple[str, ...] = ()

    @property
    def id_path(self) -> str | None:
        """Where an event's id is written into its payload: the entry's id path; without one,
        ``$.id`` where the example has an ``id`` (Shopify's order id), else nowhere — the
        provider carries the id in a header alone (Standard Webhooks' ``webhook-id``, Attio's
        ``Idempotency-Key``), and a field its sender never writes is not invented: a receiver
        validating the body strictly (``extra="forbid"``) would refuse every event."""
        if "id" in self.paths:
            return self.paths["id"]
        example = self.example
        return "$.id" if isinstance(example, dict) and "id" in example else None

    @property
    def example(self) -> JSON:
        """One event's payload: the payload, or a batch's first element."""
        if isinstance(self.payload, list):
            return self.payload[0]
        return self.payload


def _folder() -> Any:
    return resources.files("harness.core") / "payloads"


@functools.cache
def _catalogue() -> dict[str, LibraryEntry]:
    found: dict[str, LibraryEntry] = {}
    for provider_dir in sorted(_folder().iterdir(), key=lambda p: p.name):
        if not provider_dir.is_dir():
            continue
        for item in sorted(provider_dir.iterdir(), key=lambda p: p.name):
            if item.name.endswith(".json"):
                entry = _read(json.loads(item.read_text(encoding="utf-8")))
                found[entry.name] = entry
    return found


def _read(doc: dict[str, Any]) -> LibraryEntry:
    paths = {name: doc["paths"][name] for name in PATH_NAMES if name in doc["paths"]}
    return LibraryEntry(
        f"{doc['provider']}:{doc['type']}",
        doc["provider"],
        doc["type"],
        doc["source"],
        paths,
        doc["payload"],
        Model(doc["model"]),
        doc.get("later", {}),
        tuple(doc.get("same", ())),
    )


def names() -> tuple[str, ...]:
    """Every entry's name, ``provider:type``, sorted."""
    return tuple(sorted(_catalogue()))


def entry(name: str) -> LibraryEntry:
    """The entry named ``name``; an InputError naming the close ones otherwise."""
    found = _catalogue().get(name)
    if found is not None:
        return found
    every = names()
    near = difflib.get_close_matches(name, every, n=3, cutoff=0.5)
    if not near:
        provider = name.partition(":")[0]
        near = [n for n in every if n.startswith(provider + ":")]
    guess = f" — did you mean {', '.join(map(repr, near))}?" if near else ""
    raise InputError(
        f"no payload {name!r} in the library{guess}",
        hint=f"use one of {', '.join(every)}",
    )
