"""Which writes a real API makes harmless to repeat: the same request twice changes nothing more.

A ``PUT`` or ``DELETE`` repeated with the same body leaves the resource as once. So does a
``PATCH`` sent as a JSON Merge Patch (RFC 7386, ``Content-Type: application/merge-patch+json``):
it sets the fields it names, and applying it twice gives what once does. A JSON object
``PATCH``ed as ``application/json`` is what its API makes of it: HubSpot's merges the properties
it names (harmless to repeat), Notion's ``PATCH /v1/blocks/{id}/children`` appends them again (a
duplicate). The journal cannot tell them apart: a downstream's ``merges:`` and ``appends:``
routes say which (``Repeats``); undeclared, such a repeat is ``UNDECLARED``, neither passed nor
failed. A JSON Patch (RFC 6902, a list), whose ``add`` appends again, stays counted.

A request carrying an ``Idempotency-Key`` is deduplicated by an API that honours it (Stripe's),
and made again by one that ignores it (Slack's ``chat.postMessage``, mail APIs, most CRMs). The
journal cannot tell them apart either: a downstream's ``idempotency_key:`` routes say which
(``KeyRule``); undeclared, the key is taken as honoured — the automation's author sent it for
that — and the verdict says so (``KeyRule.UNDECLARED``).

A GraphQL mutation is ``POST``ed whatever it does: Shopify's ``customerSet`` upserts (harmless to
repeat), its ``customerCreate`` creates again. Its fields decide, and the request does not say
what they do: undeclared, it is ``UNDECLARED`` too; a route may name them, ``POST /graphql
customerSet``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

from ..core._form import is_form
from ..core._graphql import MARK as GRAPHQL_MARK
from ..core._graphql import operation_of
from ..core._model import KEY_REPLAY_MARK, Effect
from ..core._scenario import Scenario
from ..double._routes import RouteMatcher, compile_route, route_matches
from ..history import History

IDEMPOTENT_METHODS = frozenset({"PUT", "DELETE"})
IDEMPOTENCY_KEY = "Idempotency-Key"
MERGE_PATCH = "application/merge-patch+json"
# The run's settings keys: downstream name -> its declared routes.
MERGES = "merges"
APPENDS = "appends"
# downstream name -> {"honoured": routes, "ignored": routes}
KEYS = "idempotency_key"


class Kind(enum.Enum):
    """What an identical repeat of a write does at its API."""

    HARMLESS = "harmless"  # changes nothing more (idempotent, a merge)
    HARMFUL = "harmful"  # applies again (a POST, an append)
    # A JSON object PATCHed as application/json, a GraphQL mutation: its API decides.
    UNDECLARED = "undeclared"


# A member read from its class costs a call of the enum's machinery (150 ns): read once.
_HARMFUL = Kind.HARMFUL


class KeyRule(enum.Enum):
    """What a write's API does with its ``Idempotency-Key``, as its downstream declares."""

    HONOURED = "honoured"  # a repeat with the same key gets the first answer, nothing more
    IGNORED = "ignored"  # a repeat is made again, key or not
    UNDECLARED = "undeclared"  # taken as honoured, and said so


def repeat_settings(scenario: Scenario) -> dict[str, Any]:
    """The downstreams' ``merges:``, ``appends:`` and ``idempotency_key:`` routes, for
    ``RunInfo.settings``: judged offline as the run was."""
    out: dict[str, Any] = {}
    for key in (MERGES, APPENDS):
        found = {d.name: list(getattr(d, key)) for d in scenario.downstreams if getattr(d, key)}
        if found:
            out[key] = found
    keys = {
        d.name: {"honoured": list(d.key_honoured), "ignored": list(d.key_ignored)}
        for d in scenario.downstreams
        if d.key_honoured or d.key_ignored
    }
    if keys:
        out[KEYS] = keys
    return out


def key_replays(history: History) -> set[str]:
    """The ids of the effects a stateful double answered with their Idempotency-Key's first
    answer (its KEY_REPLAY_MARKs)."""
    found: set[str] = set()
    for m in history.marks:
        if m.name != KEY_REPLAY_MARK:
            continue
        try:
            detail = json.loads(m.detail)
        except ValueError:
            continue
        if isinstance(detail, dict) and isinstance(detail.get("effect"), str):
            found.add(detail["effect"])
    return found


class Repeats:
    """What an identical repeat of each write does, given the routes a run declared."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._merges = _routes(settings.get(MERGES))
        self._appends = _routes(settings.get(APPENDS))
        keys = settings.get(KEYS)
        keys = keys if isinstance(keys, Mapping) else {}
        self._honoured = _routes(_rule_routes(keys, KeyRule.HONOURED))
        self._ignored = _routes(_rule_routes(keys, KeyRule.IGNORED))
        # Does any downstream say whether its API honours an Idempotency-Key?
        self.declares_keys = bool(self._honoured or self._ignored)
        # Does any declare routes merges: or appends:? Without, a POST of no GraphQL request is
        # harmful to repeat, told without a call: a failing run may repeat a million POSTs.
        self.declares_repeats = bool(self._merges or self._appends)

    def key_rule(self, effect: Effect) -> KeyRule:
        """What the effect's API does with an Idempotency-Key: ignored wins where both a
        route declared honoured and one declared ignored cover it."""
        if not self.declares_keys:
            return KeyRule.UNDECLARED
        method = effect.method.upper()
        if self._ignored and _declared(self._ignored, effect, method, every=False):
            return KeyRule.IGNORED
        if self._honoured and _declared(self._honoured, effect, method, every=False):
            return KeyRule.HONOURED
        return KeyRule.UNDECLARED

    def key(self, effect: Effect) -> str | None:
        """The ``Idempotency-Key`` its API may deduplicate the effect by: None without one, or
        where the API is declared to ignore it."""
        found = effect.header(IDEMPOTENCY_KEY)
        if found is None or (self._ignored and self.key_rule(effect) is KeyRule.IGNORED):
            return None
        return found

    def kind(self, effect: Effect, method: str) -> Kind:
        """What sending this request (its upper-case ``method``) again with the same body does."""
        if method == "POST" and not self.declares_repeats and GRAPHQL_MARK not in effect.body:
            return _HARMFUL  # what the rules below find for it, sooner
        if self._harmless(effect, method):
            return Kind.HARMLESS
        if self._appended(effect, method):
            return Kind.HARMFUL
        if method == "POST":
            return Kind.UNDECLARED if mutation_fields(effect) else Kind.HARMFUL
        if method != "PATCH":
            return Kind.HARMFUL
        return Kind.UNDECLARED if object_patch(effect) else Kind.HARMFUL

    def may_harm(self, effect: Effect) -> bool:
        """Could a repeat of this write be a duplicate effect? Not one its API makes harmless
        to repeat, and no ``Idempotency-Key`` for the API to deduplicate it by (none, or one
        its downstream declares ignored). Its body is
        not read: harmful or undecided, a repeat may harm."""
        return not self._harmless(effect, effect.method.upper()) and self.key(effect) is None

    def may_harm_body(self, effect: Effect) -> bool:
        """Could the same request again make something more, its key aside? Not where its API
        makes it harmless (idempotent, declared ``merges:``)."""
        return not self._harmless(effect, effect.method.upper())

    def _harmless(self, effect: Effect, method: str) -> bool:
        """Does its API make a repeat change nothing more (idempotent, a merge)?"""
        if self._appended(effect, method):
            return False
        if method in IDEMPOTENT_METHODS:
            return True
        if self._merges and _declared(self._merges, effect, method, every=True):
            return True
        return method == "PATCH" and merge_patch(effect)

    def _appended(self, effect: Effect, method: str) -> bool:
        return bool(self._appends) and _declared(self._appends, effect, method, every=False)


def merge_patch(effect: Effect) -> bool:
    """Was ``effect`` sent as a JSON Merge Patch (its declared content type)?"""
    kind = effect.header("Content-Type")
    return kind is not None and kind.split(";")[0].strip().lower() == MERGE_PATCH


def object_patch(effect: Effect) -> str:
    """What object ``effect``'s body writes fields of — ``JSON object`` (by its braces, not
    parsed: a run may PATCH a million times, and a body that only looks like one is left
    undecided too, never failed) or ``form`` (a form-encoded body) —, or "" for neither."""
    text = effect.body.strip()
    if text.startswith("{") and text.endswith("}"):
        return "JSON object"
    return "form" if is_form(effect.header("Content-Type")) else ""


def mutation_fields(effect: Effect) -> tuple[str, ...]:
    """The root fields of the GraphQL mutation ``effect`` POSTed; () when it is none."""
    found = operation_of(effect.body)
    return found.fields if found is not None and found.kind == "mutation" else ()


# A declared route, and the GraphQL field it names (None: every request to the route).
_Declared = tuple[RouteMatcher, str | None]


def _rule_routes(keys: Mapping[str, Any], rule: KeyRule) -> dict[str, Any]:
    """downstream name -> its routes declared ``rule`` (``honoured`` or ``ignored``)."""
    return {
        name: declared.get(rule.value)
        for name, declared in keys.items()
        if isinstance(declared, Mapping)
    }


def _routes(found: object) -> dict[str, list[_Declared]]:
    if not isinstance(found, Mapping):
        return {}
    out: dict[str, list[_Declared]] = {}
    for name, routes in found.items():
        if isinstance(routes, list):
            out[str(name)] = [_route(str(r), f"downstream {name}") for r in routes]
    return out


def _route(text: str, where: str) -> _Declared:
    """``POST /graphql customerSet`` -> the route's matcher and its field."""
    method, _, rest = text.partition(" ")
    path, _, field = rest.partition(" ")
    return compile_route(f"{method} {path}", where=where), field or None


def _declared(
    routes: Mapping[str, list[_Declared]], effect: Effect, method: str, *, every: bool
) -> bool:
    """Does a route declared for the effect's downstream cover it? A route naming a GraphQL
    field covers a mutation through it: ``every`` field of the mutation declared, or any."""
    named: set[str] = set()
    for matcher, field in routes.get(effect.downstream, ()):
        if route_matches(matcher, method, effect.path):
            if field is None:
                return True
            named.add(field)
    if not named:
        return False
    fields = mutation_fields(effect)
    test = all if every else any
    return bool(fields) and test(f in named for f in fields)
