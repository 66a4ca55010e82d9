"""Which writes a real API makes harmless to repeat: the same request twice changes nothing more.

A ``PUT`` or ``DELETE`` repeated with the same body leaves the resource as once. So does a
``PATCH`` sent as a JSON Merge Patch (RFC 7386, ``Content-Type: application/merge-patch+json``):
it sets the fields it names, and applying it twice gives what once does. A JSON object
``PATCH``ed as ``application/json`` is what its API makes of it: HubSpot's merges the properties
it names (harmless to repeat), Notion's ``PATCH /v1/blocks/{id}/children`` appends them again (a
duplicate). The journal cannot tell them apart: a downstream's ``merges:`` and ``appends:``
routes say which (``Repeats``); undeclared, such a repeat is ``UNDECLARED``, neither passed nor
failed. A JSON Patch (RFC 6902, a list), whose ``add`` appends again, stays counted. A request
carrying an ``Idempotency-Key`` is deduplicated by an API that honours it.

A GraphQL mutation is ``POST``ed whatever it does: Shopify's ``customerSet`` upserts (harmless to
repeat), its ``customerCreate`` creates again. Its fields decide, and the request does not say
what they do: undeclared, it is ``UNDECLARED`` too; a route may name them, ``POST /graphql
customerSet``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

from ..core._graphql import operation_of
from ..core._model import Effect
from ..core._scenario import Scenario
from ..double._routes import RouteMatcher, compile_route, route_matches

IDEMPOTENT_METHODS = frozenset({"PUT", "DELETE"})
IDEMPOTENCY_KEY = "Idempotency-Key"
MERGE_PATCH = "application/merge-patch+json"
# The run's settings keys: downstream name -> its declared routes.
MERGES = "merges"
APPENDS = "appends"


class Kind(enum.Enum):
    """What an identical repeat of a write does at its API."""

    HARMLESS = "harmless"  # changes nothing more (idempotent, a merge)
    HARMFUL = "harmful"  # applies again (a POST, an append)
    # A JSON object PATCHed as application/json, a GraphQL mutation: its API decides.
    UNDECLARED = "undeclared"


def repeat_settings(scenario: Scenario) -> dict[str, Any]:
    """The downstreams' ``merges:`` and ``appends:`` routes, for ``RunInfo.settings``: judged
    offline as the run was."""
    out: dict[str, Any] = {}
    for key in (MERGES, APPENDS):
        found = {d.name: list(getattr(d, key)) for d in scenario.downstreams if getattr(d, key)}
        if found:
            out[key] = found
    return out


class Repeats:
    """What an identical repeat of each write does, given the routes a run declared."""

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self._merges = _routes(settings.get(MERGES))
        self._appends = _routes(settings.get(APPENDS))

    def kind(self, effect: Effect, method: str) -> Kind:
        """What sending this request (its upper-case ``method``) again with the same body does."""
        if self._harmless(effect, method):
            return Kind.HARMLESS
        if self._appended(effect, method):
            return Kind.HARMFUL
        if method == "POST":
            return Kind.UNDECLARED if mutation_fields(effect) else Kind.HARMFUL
        if method != "PATCH":
            return Kind.HARMFUL
        return Kind.UNDECLARED if _json_object(effect.body) else Kind.HARMFUL

    def may_harm(self, effect: Effect) -> bool:
        """Could a repeat of this write be a duplicate effect? Not one its API makes harmless
        to repeat, and no ``Idempotency-Key`` for the API to deduplicate it by. Its body is
        not read: harmful or undecided, a repeat may harm."""
        return not self._harmless(effect, effect.method.upper()) and (
            effect.header(IDEMPOTENCY_KEY) is None
        )

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


def _json_object(body: str) -> bool:
    """Is ``body`` a JSON object? By its braces, not parsed: a run may PATCH a million times,
    and a body that only looks like one is left undecided too, never failed."""
    text = body.strip()
    return text.startswith("{") and text.endswith("}")


def mutation_fields(effect: Effect) -> tuple[str, ...]:
    """The root fields of the GraphQL mutation ``effect`` POSTed; () when it is none."""
    found = operation_of(effect.body)
    return found.fields if found is not None and found.kind == "mutation" else ()


# A declared route, and the GraphQL field it names (None: every request to the route).
_Declared = tuple[RouteMatcher, str | None]


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
