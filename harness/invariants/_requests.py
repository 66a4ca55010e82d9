"""Requests: the kinds of write a run makes — downstream, method and route template
(``PUT /contacts/{id}``) — named alike in the clean run and the judged one, so that two writes
to two records compare equal (``Routes``), and an item's write by another method stands for the
same resource (``same_resource``). A GraphQL mutation is named by its root fields after its
route (``POST /graphql customerSet``), but where ``expect:`` declared the route: two mutations
through one route are two requests.

A write that names no event or record of its run and carries another run's tracer token is that
run's late write (``of_another_run``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from ..core._graphql import MARK as GRAPHQL_MARK
from ..core._graphql import operation_of
from ..core._model import Effect
from ..double._routes import RouteMatcher, compile_route, route_matches
from ..drive._tracer import carries_other_tag

ANY_DOWNSTREAM = "*"
_ID = "{id}"
_VERSION = re.compile(r"v\d+")


class Request(NamedTuple):
    """A kind of write: downstream, method and route template (``/contacts/{id}``)."""

    downstream: str
    method: str
    route: str

    def text(self, several: bool = False) -> str:
        """``POST /deals``, with the downstream when the run has several: ``POST /deals (crm)``."""
        shown = several and self.downstream != ANY_DOWNSTREAM
        return f"{self.method} {self.route}" + (f" ({self.downstream})" if shown else "")


# Methods that set an item's state (``/members/{id}``): one of them where the clean run made
# another writes the same resource another way — an upsert that PATCHes a record it finds and
# PUTs one it does not, or whichever won a race — not a loss.
ITEM_WRITES = ("PUT", "PATCH", "POST")
_ANY_ITEM_WRITE = "|".join(ITEM_WRITES)


def is_item(route: str) -> bool:
    """Does ``route`` name an item (``/members/{id}``: its last segment a parameter), not a
    collection (``/members``)?"""
    return route.rpartition("/")[2][:1] == "{"


def same_resource(request: Request) -> Request:
    """The resource ``request`` writes, whatever its write method: a PUT, PATCH or POST to an
    item (a route whose last segment is a parameter) stands for all three; any other request
    (a POST to a collection creates, a DELETE removes) for itself only."""
    methods = request.method.split("/")  # several: a need summed over them (``_shown``)
    if all(m in ITEM_WRITES for m in methods) and is_item(request.route):
        return Request(request.downstream, _ANY_ITEM_WRITE, request.route)
    return request


def created_in(resource: Request) -> Request | None:
    """The creation (``POST /customers``) in the collection of ``resource``, an item's writes
    (``same_resource``: ``PUT|PATCH|POST /customers/{id}``); None for any other request."""
    collection = resource.route.rpartition("/")[0]
    if resource.method != _ANY_ITEM_WRITE or not collection or not is_item(resource.route):
        return None
    return Request(resource.downstream, "POST", collection)


# --- route templates --------------------------------------------------------------------------


def normalise(path: str) -> str:
    """``/contacts/zqabce3?x=1`` -> ``/contacts/{id}``: segments holding a digit (but a version
    like ``v2``) or an ``@`` are ids, so two writes to two records compare equal."""
    out = []
    for segment in path.split("?", 1)[0].split("/"):
        is_id = (
            any(map(str.isdigit, segment)) and not _VERSION.fullmatch(segment)
        ) or "@" in segment
        out.append(_ID if is_id else segment)
    return "/".join(out)


class Routes:
    """What request an effect is: a declared route, else one of its downstream's stub routes,
    else its method and normalised path."""

    def __init__(
        self,
        stubs: Mapping[str, Sequence[str]],
        declared: Iterable[tuple[str, str, str]] = (),
    ) -> None:
        # (downstream or "*", the route's method and template, its matcher)
        self._routes: list[tuple[str, str, str, RouteMatcher]] = []
        for downstream, method, path in declared:
            self._add(downstream, method, path)
        self._declared = len(self._routes)  # the first routes: declared, named as declared
        for downstream, routes in stubs.items():
            for route in routes:
                method, _, path = route.partition(" ")
                # A trailing '*' covers many resources: each keeps its own normalised path.
                if not path.endswith("*"):
                    self._add(downstream, method, path)
        # (downstream, method, path) -> its request, and whether a GraphQL mutation POSTed
        # there is named by its fields (not where the route was declared: ``expect:`` names it)
        self._seen: dict[tuple[str, str, str], tuple[Request, bool]] = {}
        self._resources: dict[Request, Request] = {}

    def _add(self, downstream: str, method: str, path: str) -> None:
        matcher = compile_route(f"{method} {path}", where="expected effects")
        self._routes.append((downstream, method, path, matcher))

    def of(self, effect: Effect) -> Request:
        """The request ``effect`` is; a GraphQL mutation's named by its root fields too
        (``POST /graphql customerSet``, as ``merges:`` spells it): two mutations through one
        route are two requests."""
        found = (effect.downstream, effect.method, effect.path)
        known = self._seen.get(found)
        if known is None:
            known = self._seen[found] = self._request(*found)
        request, by_fields = known
        if by_fields and GRAPHQL_MARK in effect.body:
            operation = operation_of(effect.body)
            if operation is not None and operation.kind == "mutation" and operation.fields:
                fields = "+".join(operation.fields)
                return request._replace(route=f"{request.route} {fields}")
        return request

    def resource_of(self, effect: Effect) -> tuple[Request, Request]:
        """``of(effect)`` and the resource it writes (``same_resource``), worked out once per
        distinct request: a run may write a million times."""
        request = self.of(effect)
        resource = self._resources.get(request)
        if resource is None:
            resource = self._resources[request] = same_resource(request)
        return request, resource

    def _request(self, downstream: str, method: str, path: str) -> tuple[Request, bool]:
        for n, (name, want, template, matcher) in enumerate(self._routes):
            if name in (ANY_DOWNSTREAM, downstream) and route_matches(matcher, method, path):
                # A '*' method stands for any: the effect keeps its own.
                found = Request(name, method.upper() if want == "*" else want, template)
                return found, n >= self._declared and found.method == "POST"
        return Request(downstream, method.upper(), normalise(path)), method.upper() == "POST"


def requests_in(*groups: Iterable[Counter[Request]]) -> frozenset[Request]:
    """Every request the Counters of ``groups`` hold; a Counter many events share (most do)
    read once."""
    distinct = {id(c): c for group in groups for c in group}
    return frozenset(r for c in distinct.values() for r in c)


def of_another_run(effect: Effect, tag: str) -> bool:
    """Is ``effect`` another run's, made while the run tagged ``tag`` went? It names none of
    this run's events or records and carries another run's tracer token."""
    if effect.event_ids or effect.key is not None:
        return False
    return carries_other_tag(f"{effect.path}\n{effect.body}", tag)
