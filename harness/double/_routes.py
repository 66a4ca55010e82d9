"""Routes: ``METHOD /path`` routes matched against requests, for the double's fault windows,
the scenario loader and drift_is_loud's alert route (the path grammar: ``core._routes``)."""

from __future__ import annotations

import re

from ..core._routes import METHODS, compile_path, split_route

# The grammar lives in core (the drive's correlation rules read path parameters too); the
# double's callers keep importing it from here.
__all__ = [
    "METHODS",
    "RouteMatcher",
    "compile_path",
    "compile_route",
    "route_matches",
    "split_route",
]

RouteMatcher = tuple[str, re.Pattern[str]]  # (method in upper case or "*", path pattern)


def compile_route(route: str, *, where: str) -> RouteMatcher:
    """A route like ``POST /payouts`` or ``* /contacts/*`` ready to match requests; raises
    ScenarioError (at ``where``) for a path ``compile_path`` refuses."""
    method, _, path = route.partition(" ")
    return method.upper(), compile_path(path, where=where)


def route_matches(route: RouteMatcher, method: str, path: str) -> bool:
    """Does a request (``path`` may carry a query string) go where ``route`` names?"""
    want, pattern = route
    return want in ("*", method.upper()) and pattern.fullmatch(path.split("?", 1)[0]) is not None
