"""The resource store of a stateful downstream double: a small REST API kept in memory.

Per collection path: POST ``/coll`` creates a resource with a generated id (201), PUT
``/coll/{id}`` replaces it or creates it (200 / 201), PATCH merges into it (404 when absent),
GET ``/coll/{id}`` reads it (404 when absent), GET ``/coll`` lists the collection (a
collection nothing was written to: ``[]`` at the top level, else 404), DELETE removes
(204 / 404).
Automations that read, modify and write then meet what a real API would give them, and a
lost update shows in the final state. A write's body is a JSON object, or a form
(``application/x-www-form-urlencoded``, Stripe's bracket notation: ``core._form``) stored as the
object its fields make, every value text.

A collection GET is filtered by its query parameters that name a field of the collection's
resources (``?email=ada@example.com``; dotted for a nested one, ``?customer.email=…``): a
find-or-create automation looks its record up that way. A parameter no resource has a field
for (``limit``, ``sort``, a credential) is ignored, as ``cursor`` is.

With a ``page_size`` a collection GET answers at most that many resources a page, in creation
order, as ``{"data": [...], "next": "/coll?cursor=N" or null}`` with a ``Link: <...>;
rel="next"`` header: following ``next`` until it is null yields every resource once, whatever
is created meanwhile (the cursor is a resource's creation number, not an offset).

A store can start from given resources (``records``: what a year's earlier month left, see
``_carry``); ``resources()`` is then what this run wrote, ``records()`` everything it holds.

``Idempotency-Key`` works as Stripe's does: a write repeated with the same key on the same
downstream gets the first answer again (``Idempotent-Replayed: true``) and does not change the
store; the same key on a different request (another method, path, or body: bodies compared as
the objects they make, a form's fields in any order) is refused with 400. Where the API ignores
the key (a downstream's ``idempotency_key: ignored`` routes), the double passes none: each
repeat is applied again.
"""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from ..core import _gc
from ..core._form import FORM_TYPE, FormError, parse_form
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
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resource:
    """One stored resource: its collection path, its id and its body (with ``"id"``)."""

    collection: str
    id: str
    body: dict[str, JSON]


class ResourceStore:
    """The resources of one double, by collection path, and the Idempotency-Keys it has seen.

    ``records``: resources it starts with (ids it generates then continue past theirs).
    """

    def __init__(self, records: Iterable[Resource] = ()) -> None:
        self._collections: dict[str, dict[str, dict[str, JSON]]] = {}
        # Per collection, its resources' creation numbers in order (the pagination cursor).
        self._order: dict[str, _Order] = {}
        self._created = itertools.count(1)
        # key -> (the request it came with, the answer it got)
        self._keys: dict[str, tuple[tuple[str, str, Any], Answer]] = {}
        self._given: set[tuple[str, str]] = set()  # given and not written since
        last = 0
        # A year's store holds many long-lived dicts: full collections would rescan them all.
        with _gc.paused():
            for r in records:
                self._put(r.collection, r.id, dict(r.body))
                found = _GENERATED.fullmatch(r.id)
                last = max(last, int(found[1]) if found else 0)
        self._numbers = itertools.count(last + 1)
        self.begin()

    def begin(self) -> None:
        """A new run starts: what the store holds now is given to it, not its own state."""
        self._given = {(c, rid) for c, items in self._collections.items() for rid in items}

    def handle(
        self,
        method: str,
        path: str,
        text: str,
        key: str | None,
        *,
        query: str = "",
        page_size: int | None = None,
        form: bool = False,
    ) -> Answer:
        """Apply one request (``path`` without its query, ``query`` apart) and say what to
        answer; ``page_size``: a collection GET answers pages of that many; ``form``: the body
        is form-encoded (``core._form``), else JSON."""
        if method == "GET":
            if page_size is not None:
                page = self._page(path, query, page_size)
                if page is not None:
                    return page
            return self._read(path, query)
        if key is None or method not in _WRITES:
            return self._apply(method, path, text, form)
        request = (method, path, _parsed(text, form))
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
        answer = self._apply(method, path, text, form)
        self._keys[key] = (request, answer)
        return answer

    def resources(self) -> list[Resource]:
        """The run's own resources (written since ``begin``), by collection and then in
        creation order: its final state."""
        return [r for r in self.records() if (r.collection, r.id) not in self._given]

    def records(self) -> list[Resource]:
        """Every stored resource, by collection and then in creation order: what to carry."""
        return [
            Resource(collection, rid, body)
            for collection, items in sorted(self._collections.items())
            for rid, body in items.items()
        ]

    def _put(self, collection: str, rid: str, body: dict[str, JSON]) -> None:
        items = self._collections.setdefault(collection, {})
        if rid not in items:
            self._order.setdefault(collection, _Order()).add(rid, next(self._created))
        items[rid] = body
        self._given.discard((collection, rid))

    def _page(self, path: str, query: str, size: int) -> Answer | None:
        """A page of the collection at ``path``; None when ``path`` is not a collection."""
        path = "/" + path.strip("/")
        parent, _, rid = path.rpartition("/")
        if rid in self._collections.get(parent or "/", {}):
            return None  # a resource, not a collection
        if path not in self._collections and parent:
            return None  # unknown: read as one absent resource
        cursor = _cursor(query)
        if cursor is None:
            return Answer(
                400,
                {"error": f"the cursor in ?{query} is not one this API gave: follow next"},
                False,
            )
        items = self._collections.get(path, {})
        order = self._order.get(path)
        keep = _filter(items, query)
        ids, last = order.after(cursor, size, keep) if order is not None else ([], None)
        data: list[JSON] = [items[i] for i in ids]
        more = last is not None and order is not None and order.beyond(last, keep)
        link = f"{path}?cursor={last}" if more else None
        headers = {"Link": f'<{link}>; rel="next"'} if link else {}
        return Answer(200, {"data": data, "next": link}, committed=True, headers=headers)

    def _apply(self, method: str, path: str, text: str, form: bool) -> Answer:
        path = "/" + path.strip("/")
        parent, _, rid = path.rpartition("/")
        parent = parent or "/"
        if method == "POST":
            return self._create(path, text, form)
        if method not in _WRITES or not rid:
            return Answer(405, {"error": f"{method} {path} is not supported here"}, False)
        items = self._collections.get(parent, {})
        if method == "DELETE":
            if items.pop(rid, None) is None:
                return _absent(path)
            self._order[parent].remove(rid)
            self._given.discard((parent, rid))
            return Answer(204, None, committed=True)
        body = request_object(text, form)
        if body is None:
            return _not_an_object(method, path, form)
        if method == "PUT":
            status = 200 if rid in items else 201
            stored = {**body, "id": rid}
            self._put(parent, rid, stored)
            return Answer(status, stored, committed=True)
        current = items.get(rid)  # PATCH
        if current is None:
            return _absent(path)
        merged = _merge(current, body)
        merged["id"] = rid
        self._put(parent, rid, merged)
        return Answer(200, merged, committed=True)

    def _create(self, collection: str, text: str, form: bool) -> Answer:
        body = request_object(text, form)
        if body is None:
            return _not_an_object("POST", collection, form)
        rid = f"{GENERATED_PREFIX}{next(self._numbers)}"
        stored = {**body, "id": rid}
        self._put(collection, rid, stored)
        return Answer(201, stored, committed=True)

    def _read(self, path: str, query: str) -> Answer:
        path = "/" + path.strip("/")
        parent, _, rid = path.rpartition("/")
        parent = parent or "/"
        found = self._collections.get(parent, {}).get(rid)
        if found is not None:
            return Answer(200, found, committed=True)
        if path in self._collections:
            items = self._collections[path]
            keep = _filter(items, query)
            listed = [body for rid, body in items.items() if keep is None or keep(rid)]
            return Answer(200, listed, committed=True)
        if parent == "/":
            return Answer(200, [], committed=True)  # a top-level collection, empty so far
        # Unknown: an absent resource and an empty nested collection look alike; a read of
        # one resource (to modify it) is the common case, and it must see 404.
        return _absent(path)


class _Order:
    """One collection's resource ids in creation order, with their creation numbers."""

    def __init__(self) -> None:
        self._numbers: list[int] = []
        self._ids: list[str] = []
        self._number_of: dict[str, int] = {}

    def add(self, rid: str, number: int) -> None:
        self._numbers.append(number)
        self._ids.append(rid)
        self._number_of[rid] = number

    def remove(self, rid: str) -> None:
        number = self._number_of.pop(rid)
        i = bisect.bisect_left(self._numbers, number)
        del self._numbers[i], self._ids[i]

    def after(
        self, cursor: int, size: int, keep: Callable[[str], bool] | None = None
    ) -> tuple[list[str], int | None]:
        """Up to ``size`` ids created after ``cursor`` (those ``keep`` keeps), and the last
        one's number."""
        i = bisect.bisect_right(self._numbers, cursor)
        if keep is None:
            ids = self._ids[i : i + size]
            return ids, (self._numbers[i + len(ids) - 1] if ids else None)
        kept: list[str] = []
        last = None
        for n in range(i, len(self._ids)):
            if len(kept) == size:
                break
            if keep(self._ids[n]):
                kept.append(self._ids[n])
                last = self._numbers[n]
        return kept, last

    def beyond(self, number: int, keep: Callable[[str], bool] | None = None) -> bool:
        i = bisect.bisect_right(self._numbers, number)
        return any(keep(rid) for rid in self._ids[i:]) if keep else i < len(self._ids)


def _cursor(query: str) -> int | None:
    """The ``cursor`` a query names (0: the first page); None for one this store never gave."""
    for name, _, value in (part.partition("=") for part in query.split("&") if part):
        if name == "cursor":
            return int(value) if value.isdigit() else None
    return 0


def _filter(items: dict[str, dict[str, JSON]], query: str) -> Callable[[str], bool] | None:
    """Which resources of a collection a GET's query asks for: each parameter that names a
    field of one of them must equal it (a number or true/false/null as its JSON text); None
    when no parameter names a field."""
    if not query or not items:
        return None
    asked = [
        (name.split("."), value)
        for name, value in parse_qsl(query, keep_blank_values=True)
        if name != "cursor"
    ]
    named = [
        (steps, value)
        for steps, value in asked
        if any(_field(body, steps) is not _NO_FIELD for body in items.values())
    ]
    if not named:
        return None

    def keep(rid: str) -> bool:
        body = items[rid]
        return all(_text(_field(body, steps)) == value for steps, value in named)

    return keep


_NO_FIELD: Any = object()


def _field(body: JSON, steps: list[str]) -> Any:
    for step in steps:
        if not isinstance(body, dict) or step not in body:
            return _NO_FIELD
        body = body[step]
    return body


def _text(value: Any) -> str | None:
    """A field's value as a query string writes it; None for an object or a list."""
    if isinstance(value, str):
        return value
    if value is _NO_FIELD or isinstance(value, dict | list):
        return None
    return json.dumps(value)


_GENERATED = re.compile(re.escape(GENERATED_PREFIX) + r"(\d+)")


def _parsed(text: str, form: bool) -> Any:
    """The body as JSON for comparing requests (key order and spacing do not matter; a form's
    fields in any order are the same request, as Stripe compares a key's parameters)."""
    try:
        if form:
            return json.dumps(parse_form(text), sort_keys=True)
        return json.dumps(json.loads(text), sort_keys=True) if text else ""
    except (ValueError, RecursionError):  # FormError is a ValueError
        return text


def request_object(text: str, form: bool) -> dict[str, JSON] | None:
    """A request body that is a JSON object, or with ``form`` a form body whose fields make an
    object (its values text), parsed; None for anything else."""
    if not form:
        return json_object(text)
    try:
        return parse_form(text)
    except FormError:
        return None


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


def _not_an_object(method: str, path: str, form: bool) -> Answer:
    if form:
        why = "got a form body whose field names do not make one object (a=1&a[b]=2)"
    else:
        why = f"needs a JSON object body, or a form body ({FORM_TYPE})"
    return Answer(400, {"error": f"{method} {path} {why}"}, committed=False)
