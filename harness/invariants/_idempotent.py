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
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

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
    UNDECLARED = "undeclared"  # a JSON object PATCHed as application/json: its API decides


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
        if method != "PATCH" or self._appended(effect, method):
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
        if self._merges and _declared(self._merges, effect, method):
            return True
        return method == "PATCH" and merge_patch(effect)

    def _appended(self, effect: Effect, method: str) -> bool:
        return bool(self._appends) and _declared(self._appends, effect, method)


def merge_patch(effect: Effect) -> bool:
    """Was ``effect`` sent as a JSON Merge Patch (its declared content type)?"""
    kind = effect.header("Content-Type")
    return kind is not None and kind.split(";")[0].strip().lower() == MERGE_PATCH


def _json_object(body: str) -> bool:
    """Is ``body`` a JSON object? By its braces, not parsed: a run may PATCH a million times,
    and a body that only looks like one is left undecided too, never failed."""
    text = body.strip()
    return text.startswith("{") and text.endswith("}")


def _routes(found: object) -> dict[str, list[RouteMatcher]]:
    if not isinstance(found, Mapping):
        return {}
    return {
        str(name): [compile_route(str(r), where=f"downstream {name}") for r in routes]
        for name, routes in found.items()
        if isinstance(routes, list)
    }


def _declared(routes: Mapping[str, list[RouteMatcher]], effect: Effect, method: str) -> bool:
    return any(route_matches(r, method, effect.path) for r in routes.get(effect.downstream, ()))
