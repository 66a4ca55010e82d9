"""The resource store of a stateful downstream double: a small REST API kept in memory.

Per collection path: POST ``/coll`` creates a resource with a generated id (201), PUT
``/coll/{id}`` replaces it or creates it (200 / 201), PATCH merges into it (404 when absent),
GET ``/coll/{id}`` reads it (404 when absent), GET ``/coll`` lists the collection (a
collection nothing was written to: ``[]`` at the top level, else 404), DELETE removes
(204 / 404).
Automations that read, modify and write then meet what a real API would give them, and a
lost update shows in the final state.

``Idempotency-Key`` works as Stripe's does: a write repeated with the same key on the same
downstream gets the first answer again (``Idempotent-Replayed: true``) and does not change the
store; the same key on a different request is refused with 400.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from ..core._model import JSON

GENERATED_PREFIX = "ds_"
"""Ids a double makes up (its store, or a stateless 201) start with this; a final-state check
does not compare them."""

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Answer:
    """What the store answers one request, and whether the request changed the store."""

    status: int
    body: JSON  # None: no body (204)
    committed: bool
    replayed: bool = False


@dataclass(frozen=True, slots=True)
class Resource:
    """One stored resource: its collection path, its id and its body (with ``"id"``)."""

    collection: str
    id: str
    body: dict[str, JSON]


class ResourceStore:
    """The resources of one double, by collection path, and the Idempotency-Keys it has seen."""

    def __init__(self) -> None:
        self._collections: dict[str, dict[str, dict[str, JSON]]] = {}
        self._numbers = itertools.count(1)
        # key -> (the request it came with, the answer it got)
        self._keys: dict[str, tuple[tuple[str, str, Any], Answer]] = {}

    def handle(self, method: str, path: str, text: str, key: str | None) -> Answer:
        """Apply one request (``path`` without its query) and say what to answer."""
        if key is None or method not in _WRITES:
            return self._apply(method, path, text)
        request = (method, path, _parsed(text))
        seen = self._keys.get(key)
        if seen is not None:
            first, answer = seen
            if first != request:
                return Answer(
                    400,
                    {
                        "error": f"Idempotency-Key {key!r} was first used with {first[0]} "
                        f"{first[1]} and another body; keys can only be reused with the same "
                        "request"
                    },
                    committed=False,
                )
            return Answer(answer.status, answer.body, committed=False, replayed=True)
        answer = self._apply(method, path, text)
        self._keys[key] = (request, answer)
        return answer

    def resources(self) -> list[Resource]:
        """Every stored resource, by collection and then in creation order."""
        return [
            Resource(collection, rid, body)
            for collection, items in sorted(self._collections.items())
            for rid, body in items.items()
        ]

    def _apply(self, method: str, path: str, text: str) -> Answer:
        path = "/" + path.strip("/")
        parent, _, rid = path.rpartition("/")
        parent = parent or "/"
        if method == "POST":
            return self._create(path, text)
        if method == "GET":
            return self._read(path, parent, rid)
        if method not in _WRITES or not rid:
            return Answer(405, {"error": f"{method} {path} is not supported here"}, False)
        items = self._collections.get(parent, {})
        if method == "DELETE":
            if items.pop(rid, None) is None:
                return _absent(path)
            return Answer(204, None, committed=True)
        body = json_object(text)
        if body is None:
            return _not_an_object(method, path)
        if method == "PUT":
            status = 200 if rid in items else 201
            stored = {**body, "id": rid}
            self._collections.setdefault(parent, {})[rid] = stored
            return Answer(status, stored, committed=True)
        current = items.get(rid)  # PATCH
        if current is None:
            return _absent(path)
        merged = _merge(current, body)
        merged["id"] = rid
        items[rid] = merged
        return Answer(200, merged, committed=True)

    def _create(self, collection: str, text: str) -> Answer:
        body = json_object(text)
        if body is None:
            return _not_an_object("POST", collection)
        rid = f"{GENERATED_PREFIX}{next(self._numbers)}"
        stored = {**body, "id": rid}
        self._collections.setdefault(collection, {})[rid] = stored
        return Answer(201, stored, committed=True)

    def _read(self, path: str, parent: str, rid: str) -> Answer:
        found = self._collections.get(parent, {}).get(rid)
        if found is not None:
            return Answer(200, found, committed=True)
        if path in self._collections:
            return Answer(200, list(self._collections[path].values()), committed=True)
        if parent == "/":
            return Answer(200, [], committed=True)  # a top-level collection, empty so far
        # Unknown: an absent resource and an empty nested collection look alike; a read of
        # one resource (to modify it) is the common case, and it must see 404.
        return _absent(path)


def _parsed(text: str) -> Any:
    """The body as JSON for comparing requests (key order and spacing do not matter)."""
    try:
        return json.dumps(json.loads(text), sort_keys=True) if text else ""
    except (ValueError, RecursionError):
        return text


def json_object(text: str) -> dict[str, JSON] | None:
    """A request body that is a JSON object, parsed; None for anything else."""
    try:
        value = json.loads(text) if text else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _merge(current: dict[str, JSON], patch: dict[str, JSON]) -> dict[str, JSON]:
    """JSON Merge Patch (RFC 7386): objects merge, null removes a member, the rest replaces."""
    merged = dict(current)
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        elif isinstance(value, dict) and isinstance(merged.get(name), dict):
            merged[name] = _merge(merged[name], value)
        else:
            merged[name] = value
    return merged


def _absent(path: str) -> Answer:
    return Answer(404, {"error": f"no resource at {path}"}, committed=False)


def _not_an_object(method: str, path: str) -> Answer:
    return Answer(400, {"error": f"{method} {path} needs a JSON object body"}, committed=False)
