"""Where an event's id, record key, type and time live in a payload, guessed for ``harness init``.

The provider's known layout is tried first (Stripe puts the event id at ``$.id`` and the record
at ``$.data.object.customer``), then generic field names (``id``, ``*_id``, ``type``/``event``/
``topic``, ``created``/``*_at``/``timestamp``). Each guess says why it was made, so a user can
judge it before it is written into ``harness.yaml``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ..core import _paths

FIELDS = ("id", "key", "type", "time")
"""The paths of an event source, in the order they are asked and written."""

MEANING = {
    "id": "the event id (the same on a redelivery)",
    "key": "the record the event is about (events of one record keep their order)",
    "type": "the event type",
    "time": "when the event happened",
    "sequence": "the event's number in its record's order",
}


@dataclass(frozen=True, slots=True)
class Guess:
    """One path of an event source: ``path`` is None when nothing fitted."""

    field: str
    path: str | None
    reason: str
    value: Any = None


# The providers' documented layouts: per field, candidate paths in order of preference. They
# agree with the payload library's (core/payloads), which was written from the same pages.
_LAYOUTS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "stripe": {
        "id": ("$.id",),
        "key": ("$.data.object.customer", "$.data.object.id"),
        "type": ("$.type",),
        "time": ("$.created",),
    },
    "github": {
        "key": ("$.issue.id", "$.pull_request.id", "$.repository.id"),
        "time": ("$.issue.updated_at", "$.pull_request.updated_at", "$.head_commit.timestamp"),
    },
    "shopify": {"key": ("$.customer.id", "$.id"), "time": ("$.updated_at", "$.created_at")},
    "slack": {
        "id": ("$.event_id",),
        "key": ("$.event.channel", "$.event.user", "$.team_id"),
        "type": ("$.type",),
        "time": ("$.event_time",),
    },
    "hubspot": {
        "id": ("$.eventId",),
        "key": ("$.objectId",),
        "type": ("$.subscriptionType",),
        "time": ("$.occurredAt",),
    },
    "attio": {"key": ("$.events[0].id.record_id",), "type": ("$.events[0].event_type",)},
    "standard-webhooks": {"key": ("$.data.id",), "type": ("$.type",), "time": ("$.timestamp",)},
}

# Where a provider sends the event id or type in a header, not the body (docs/payloads.md): the
# harness writes that header per event, so the payload needs no path for it.
HEADERS: Mapping[str, Mapping[str, str]] = {
    "github": {"id": "X-GitHub-Delivery", "type": "X-GitHub-Event"},
    "shopify": {"id": "X-Shopify-Webhook-Id", "type": "X-Shopify-Topic"},
    "attio": {"id": "Idempotency-Key"},
    "standard-webhooks": {"id": "webhook-id"},
}

_TYPE_NAMES = ("type", "event_type", "eventType", "event", "topic", "action", "kind")
_TIME_NAMES = ("created", "created_at", "createdAt", "timestamp", "occurred_at", "occurredAt")
_TIME_SUFFIX = re.compile(r"(_at|At|_time|Time)$")
_ID_SUFFIX = re.compile(r"(_id|Id|ID)$")
_PLAIN_NAME = re.compile(r"[A-Za-z_][\w-]*")
_EVENT_ID_NAMES = ("id", "event_id", "eventId", "message_id", "messageId")
_SEQUENCE_NAMES = ("sequence", "seq", "sequence_number", "sequenceNumber", "version")


def guess_paths(
    payload: Any, provider: str | None, given: Mapping[str, str] | None = None
) -> dict[str, Guess]:
    """A Guess for each of FIELDS. ``given`` paths (from flags) are taken as they are."""
    given = given or {}
    sample = payload[0] if isinstance(payload, list) and payload else payload
    guesses = {field: given_path(payload, field, path) for field, path in given.items()}
    for field in FIELDS:
        if field in guesses:
            continue
        taken = {g.path for g in guesses.values() if g.path}
        header = HEADERS.get(provider or "", {}).get(field)
        guesses[field] = (
            _from_layout(sample, provider, field, taken)
            or (Guess(field, None, f"the {header} header carries it") if header else None)
            or _generic(sample, field, taken)
        )
    return {field: guesses[field] for field in FIELDS}


def guess_sequence(payload: Any) -> Guess | None:
    """Where an example numbers its record's events (a top-level integer named sequence, seq,
    version): the hazards write 1, 2, 3 … there per record. Left as it is, every event they
    make carries the example's number, and an automation that skips an update not newer than
    the record's skips all but each record's first. None where no field fits."""
    sample = payload[0] if isinstance(payload, list) and payload else payload
    found = _first(
        sample,
        set(),
        lambda name, value: name in _SEQUENCE_NAMES and type(value) is int,
        top_only=True,
    )
    if found is None:
        return None
    path, value = found
    return Guess(
        "sequence",
        path,
        f"a top-level integer named {path[2:]}: the hazards number each record's events there",
        value,
    )


def given_path(payload: Any, field: str, path: str) -> Guess:
    """A path the user gave, with the value it finds (None: it finds nothing)."""
    sample = payload[0] if isinstance(payload, list) and payload else payload
    return Guess(field, path, "given", _value(sample, path))


def _from_layout(sample: Any, provider: str | None, field: str, taken: set[str]) -> Guess | None:
    layout = _LAYOUTS.get(provider or "", {})
    if (
        provider == "stripe"
        and field == "key"
        and str(_value(sample, "$.type")).endswith(".updated")
    ):
        # customer.subscription.updated: successive states of the object, so it is the record.
        value = _value(sample, "$.data.object.id")
        if _usable(value) and "$.data.object.id" not in taken:
            return Guess(
                field, "$.data.object.id", "a stripe *.updated event is about its object", value
            )
    for path in layout.get(field, ()):
        value = _value(sample, path)
        if _usable(value) and path not in taken:
            return Guess(field, path, f"the {provider} layout puts {field} at {path}", value)
    return None


def _generic(sample: Any, field: str, taken: set[str]) -> Guess:
    if field == "id":
        found = _first(sample, taken, lambda name, _: name in _EVENT_ID_NAMES, top_only=True)
        why = "a top-level field named {name}"
    elif field == "key":
        found = _first(sample, taken, lambda name, _: bool(_ID_SUFFIX.search(name)))
        why = "the first field named *_id ({name}) after the event id"
        if found is None:
            found = _first(sample, taken, lambda name, _: name == "id", nested=True)
            why = "the id of the first nested object ({name})"
    elif field == "type":
        found = _first(
            sample, taken, lambda name, value: name in _TYPE_NAMES and isinstance(value, str)
        )
        why = "a field named {name} (type/event/topic/action) holding text"
    else:
        found = _first(
            sample,
            taken,
            lambda name, _: name in _TIME_NAMES or bool(_TIME_SUFFIX.search(name)),
        )
        why = "a field named {name} (created/*_at/timestamp)"
    if found is None:
        return Guess(field, None, "no field fits")
    path, value = found
    return Guess(field, path, why.format(name=path.rsplit(".", 1)[-1]), value)


def _first(
    sample: Any, taken: set[str], fits: Any, *, top_only: bool = False, nested: bool = False
) -> tuple[str, Any] | None:
    """The shallowest usable leaf whose name fits (``fits(name, value)``), not already taken:
    only at the top with ``top_only``, only below it with ``nested``."""
    for steps, value in _shallow_first(sample):
        if top_only and len(steps) > 1:
            break
        if nested and len(steps) == 1:
            continue
        name = steps[-1]
        if not all(isinstance(s, int) or _PLAIN_NAME.fullmatch(s) for s in steps):
            continue  # a member named "a b" or "a.b" has no .name step to write it with
        path = _paths.render(steps)
        if isinstance(name, str) and fits(name, value) and _usable(value) and path not in taken:
            return path, value
    return None


def _shallow_first(sample: Any) -> Iterator[tuple[tuple[_paths.Step, ...], Any]]:
    """Every member of the objects in ``sample`` (lists: their first element), by depth."""
    level: list[tuple[tuple[_paths.Step, ...], Any]] = [((), sample)]
    while level:
        deeper: list[tuple[tuple[_paths.Step, ...], Any]] = []
        for at, node in level:
            if isinstance(node, dict):
                for name, inner in node.items():
                    yield (*at, name), inner
                    deeper.append(((*at, name), inner))
            elif isinstance(node, list) and node:
                deeper.append(((*at, 0), node[0]))
        level = deeper


def _value(sample: Any, path: str) -> Any:
    return _paths.get(sample, _paths.parse(path), None)


def _usable(value: Any) -> bool:
    """A scalar a path can name: text or a number, not an object, a list, a bool or null."""
    return isinstance(value, str | int | float) and not isinstance(value, bool) and value != ""


# The last word of an event type that says what its events are (``contact.updated``,
# ``orders/updated``, ``contact.propertyChange``, ``invoice.paid``): a change of a record's
# state (successive states: a register) or a fact of its own (a ledger). Types saying neither
# (``issues``, ``push``) are left to the hazard, as ``model:`` can change.
_REGISTER_WORDS = frozenset(
    {"updated", "update", "changed", "change", "modified", "edited", "upserted", "synced"}
)
_LEDGER_WORDS = frozenset(
    {"created", "paid", "succeeded", "completed", "placed", "submitted", "refunded",
     "charged", "captured", "received", "booked", "fulfilled", "shipped"}
)  # fmt: skip
_LAST_WORD = re.compile(r"([A-Za-z]+)$")
_CAMEL = re.compile(r"[A-Z]?[a-z]+$")
# A type's trailing version (``customer.updated.v2``, ``order_paid_v1``) says nothing of it.
_VERSION = re.compile(r"[._/-]v\d+$", re.IGNORECASE)
# A negated last word (``order.not_paid``) says the opposite of the word.
_NEGATED = re.compile(r"(?:^|[._/-])(?:not|non)[._-][A-Za-z]+$", re.IGNORECASE)


def guess_model(event_type: object) -> tuple[str, str] | None:
    """``("register", why)`` or ``("ledger", why)`` from an event type's last word, or None
    when it says neither."""
    if not isinstance(event_type, str):
        return None
    bare = _VERSION.sub("", event_type)
    if _NEGATED.search(bare):
        return None
    found = _LAST_WORD.search(bare)
    if found is None:
        return None
    word = found.group(1)
    camel = _CAMEL.search(word)  # propertyChange -> Change
    words = {word.lower(), camel.group(0).lower() if camel else ""}
    if words & _REGISTER_WORDS:
        return (
            "register",
            f"the type {event_type} reads as a change of a record: successive states, a newer "
            "one supersedes an older",
        )
    if words & _LEDGER_WORDS:
        return (
            "ledger",
            f"the type {event_type} reads as a fact of its own: every one is owed its effects",
        )
    return None
